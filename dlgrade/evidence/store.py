"""One student's evidence folder, OUT/<student>/evidence/: runs kept, found, refused.

    evidence/<slug>/key.json     what produced the run (EvidenceKey) and its files' sha256
    evidence/<slug>/run.json     the run (dlgrade.evidence.codec), arrays.npz, figure PNGs
    evidence/grading.json        the submission folder and options it was graded with
    evidence/use.json            this grading: each notebook reused or executed, and why

The sha256 of key.json is the evidence's name: the grade record lists it
(`GradeRecord.evidence`). A run is reused only when its key matches the run
that would be made now, grade.json names its key.json, every file has the
sha256 key.json lists, and the run reads back valid; otherwise the notebook
is executed again and `use.json` says why.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlgrade import deep_json
from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.engine.records import NotebookRun, Probe, SourceFile, Watch
from dlgrade.evidence.codec import RefusedEvidence, decode_run, encode_run
from dlgrade.evidence.keys import EvidenceKey, key_for

EVIDENCE_DIR = "evidence"
KEY_FILE = "key.json"
USE_FILE = "use.json"
GRADING_FILE = "grading.json"
GRADE_FILE = "grade.json"  # the record beside the folder (dlgrade.grading.outputs.GRADE_FILE)
MAX_KEY_BYTES = 1 << 20
MAX_RUN_BYTES = 320 << 20  # a P5 value history may hold 64 MiB; ten times a real run's size


@dataclass(frozen=True)
class Use:
    """How one notebook's run was had in this grading."""

    source: str  # the notebook, relative to the submission folder
    executed: bool
    reason: str  # why it was executed (empty when reused)
    digest: str = ""  # sha256 of its key.json; empty when nothing was kept


@dataclass
class EvidenceStore:
    """Finds and keeps one submission's runs (see the module docstring).

    `reuse`: False executes every notebook (a first grading, --rerun) and says why.
    """

    folder: Path
    submission: Path
    data_slice: str
    reuse: bool = True
    not_reused: str = "evidence is kept, not reused, in this grading"  # when `reuse` is False
    uses: list[Use] = field(default_factory=list)
    _keys: dict[Path, EvidenceKey] = field(default_factory=dict)

    def fetch(
        self, source: SourceFile, probes: Sequence[Probe], watches: Sequence[Watch]
    ) -> NotebookRun | None:
        """The stored run of `source` when it may be judged from, else None (and why)."""
        key = key_for(source, self.submission, probes, watches, self.data_slice)
        self._keys[source.path] = key
        if not self.reuse:
            self._note(Use(self._name(source), True, self.not_reused))
            return None
        try:
            run, digest = self._load(source, key)
        except RefusedEvidence as err:
            self._note(Use(self._name(source), True, str(err)))
            return None
        self._note(Use(self._name(source), False, "", digest))
        return run

    def keep(
        self,
        source: SourceFile,
        probes: Sequence[Probe],
        watches: Sequence[Watch],
        run: NotebookRun,
    ) -> None:
        """Store `run` under its key (the key `fetch` computed for it); replaces older evidence."""
        key = self._keys.get(source.path) or key_for(
            source, self.submission, probes, watches, self.data_slice
        )
        files = encode_run(run).files()
        target = self.folder / self._slug(source)
        shutil.rmtree(target, ignore_errors=True)
        size = sum(len(data) for data in files.values())
        if size > MAX_RUN_BYTES:
            self._note_kept(source, "", f"; evidence not kept: {size} bytes over the cap")
            return
        target.mkdir(parents=True)
        for name, data in files.items():
            write_bytes_atomic(target / name, data, fsync=False)
        listing = {
            "source": self._name(source),
            "key": key.to_dict(),
            "files": {name: _sha256(data) for name, data in sorted(files.items())},
        }
        text = json.dumps(listing, sort_keys=True, indent=1).encode("utf-8")
        write_bytes_atomic(target / KEY_FILE, text, fsync=False)  # last: the run is whole
        self._note_kept(source, _sha256(text))

    def digests(self) -> dict[str, str]:
        """Notebook -> sha256 of the evidence its parts are judged from (for the record)."""
        return {use.source: use.digest for use in self.uses if use.digest}

    # ------------------------------------------------------------ reading back

    def _load(self, source: SourceFile, key: EvidenceKey) -> tuple[NotebookRun, str]:
        folder = self.folder / self._slug(source)
        text = _capped(folder / KEY_FILE, MAX_KEY_BYTES, "no evidence was kept for it")
        try:
            listing = deep_json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise RefusedEvidence("evidence refused: key.json is not JSON") from None
        if not isinstance(listing, dict) or not isinstance(listing.get("files"), dict):
            raise RefusedEvidence("evidence refused: key.json lists no files")
        changed = key.differences(listing.get("key"))
        if changed:
            raise RefusedEvidence("; ".join(changed))
        digest = _sha256(text)
        if digest not in self._named():
            raise RefusedEvidence(
                "evidence refused: grade.json does not name this evidence (changed after grading)"
            )
        self._check_files(folder, listing["files"])
        try:
            return decode_run(folder, source), digest
        except RefusedEvidence as err:
            raise RefusedEvidence(f"evidence refused: {err}") from None

    def _check_files(self, folder: Path, files: dict) -> None:
        present = {p.name for p in folder.iterdir()} - {KEY_FILE}
        if present != set(files):
            raise RefusedEvidence("evidence refused: its files are not the ones key.json lists")
        for name, expected in files.items():
            data = _capped(folder / name, MAX_RUN_BYTES, f"{name} is missing")
            if _sha256(data) != expected:
                raise RefusedEvidence(f"evidence refused: {name} was changed after grading")

    def _named(self) -> set[str]:
        """The evidence the current grade.json was judged from (nothing when it is unreadable)."""
        path = self.folder.parent / GRADE_FILE
        try:
            data = deep_json.loads(_capped(path, 64 << 20, "").decode("utf-8"))
            named = data.get("evidence", {}) if isinstance(data, dict) else {}
        except (RefusedEvidence, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return set()
        return (
            {v for v in named.values() if isinstance(v, str)} if isinstance(named, dict) else set()
        )

    # ------------------------------------------------------------ bookkeeping

    def _note_kept(self, source: SourceFile, digest: str, problem: str = "") -> None:
        name = self._name(source)
        for index, use in enumerate(self.uses):
            if use.source == name:
                self.uses[index] = Use(name, True, use.reason + problem, digest)
        self._write_uses()

    def _note(self, use: Use) -> None:
        self.uses = [u for u in self.uses if u.source != use.source] + [use]
        self._write_uses()

    def _write_uses(self) -> None:
        data = {"runs": [asdict(use) for use in self.uses]}
        self.folder.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(self.folder / USE_FILE, json.dumps(data, indent=1).encode(), fsync=False)

    def _name(self, source: SourceFile) -> str:
        try:
            return source.path.relative_to(self.submission).as_posix()
        except ValueError:
            return source.path.name

    def _slug(self, source: SourceFile) -> str:
        return "run-" + _sha256(self._name(source).encode("utf-8", "surrogateescape"))[:16]


def kept_runs(folder: Path) -> dict[str, tuple[Path, dict]]:
    """sha256 of key.json -> (its run folder, its listing), for every run kept in `folder`."""
    found = {}
    for run in sorted(folder.glob("run-*")):
        try:
            text = _capped(run / KEY_FILE, MAX_KEY_BYTES, "")
            listing = deep_json.loads(text.decode("utf-8"))
        except (RefusedEvidence, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue
        if isinstance(listing, dict):
            found[_sha256(text)] = (run, listing)
    return found


def altered_files(run: Path, listing: dict) -> list[str]:
    """The files of a kept run that are not the ones key.json lists with their sha256."""
    files = listing.get("files")
    if not isinstance(files, dict):
        return ["key.json lists no files"]
    present = {p.name for p in run.iterdir()} - {KEY_FILE}
    altered = sorted(present ^ set(files))
    for name, expected in files.items():
        if name in present and _sha256((run / name).read_bytes()) != expected:
            altered.append(name)
    return altered


def start_evidence(scratch: Path, submission: Path | None, options: dict) -> None:
    """Before a grading: forget the last one's uses; note what is graded, and how, so
    `dlgrade regrade` can grade the same folder the same way (None: nothing to re-judge)."""
    folder = scratch / EVIDENCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / USE_FILE).unlink(missing_ok=True)
    grading = {"submission": str(submission) if submission else None, "options": options}
    write_bytes_atomic(folder / GRADING_FILE, json.dumps(grading, indent=1).encode(), fsync=False)


def read_grading(folder: Path) -> dict:
    """What `start_evidence` wrote (KeyError/ValueError/OSError when it is not there)."""
    data = json.loads((folder / GRADING_FILE).read_text("utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("options"), dict):
        raise ValueError(f"{folder / GRADING_FILE} holds no grading options")
    return data


def read_uses(folder: Path) -> list[Use]:
    """What the last grading wrote to `folder`/use.json (the grader's own file)."""
    path = folder / USE_FILE
    if not path.is_file():
        return []
    data = json.loads(path.read_text("utf-8"))
    return [Use(**entry) for entry in data.get("runs", [])]


def _capped(path: Path, limit: int, missing: str) -> bytes:
    if path.is_symlink() or not path.is_file():
        raise RefusedEvidence(missing or f"{path.name} is missing")
    if path.stat().st_size > limit:
        raise RefusedEvidence(f"evidence refused: {path.name} is over the {limit}-byte cap")
    return path.read_bytes()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
