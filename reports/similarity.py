"""Suspiciously similar code between submissions, by copydetect's winnowing.

Each submission's code (the code cells of its notebooks, plus `.py` files) is
tokenised by copydetect, which replaces names with placeholders, so renaming
variables does not hide a copy. Fingerprints that also occur in the starter
notebook are dropped first: code every student was given is not evidence.
A pair is reported when either side has at least `threshold` of its
fingerprinted code in common with the other.

A student's file that cannot be read, fingerprinted or compared never stops
the comparison: the student is listed in `not_compared` with the reason,
and everyone else is compared as usual.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import nbformat
import numpy as np
from copydetect.detector import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from dlgrade.deep_json import collector_paused
from dlgrade.engine.paths import hand_in_files, read_regular

NOISE_CHARS = 25  # shortest match (in tokenised characters) that counts
GUARANTEE_CHARS = 30  # matches this long are always found (winnowing window)
DEFAULT_THRESHOLD = 0.5
CODE_SUFFIXES = (".ipynb", ".py")


class SimilarityError(Exception):
    """A submission or starter file could not be read for comparison."""


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions with a share of code in common (0..1 for each side)."""

    a: str
    b: str
    share_a: float
    share_b: float
    html_a: str = field(default="", compare=False, repr=False)  # code with <mark> on overlap
    html_b: str = field(default="", compare=False, repr=False)

    @property
    def score(self) -> float:
        return max(self.share_a, self.share_b)


@dataclass(frozen=True)
class SimilarityReport:
    pairs: tuple[SimilarPair, ...]  # above threshold, highest score first
    threshold: float
    compared: tuple[str, ...]
    starters: tuple[str, ...]  # file names subtracted as boilerplate
    no_code: tuple[str, ...] = ()  # submissions with too little code to compare
    # (student, what was left out and why): unreadable files, failed comparisons
    not_compared: tuple[tuple[str, str], ...] = ()

    def groups(self) -> list[list[str]]:
        """Connected groups of students linked by flagged pairs."""
        parent: dict[str, str] = {}

        def root(name: str) -> str:
            while parent.setdefault(name, name) != name:
                name = parent[name]
            return name

        for pair in self.pairs:
            parent[root(pair.a)] = root(pair.b)
        members: dict[str, list[str]] = {}
        for name in parent:
            members.setdefault(root(name), []).append(name)
        return sorted(sorted(group) for group in members.values())

    def partners(self) -> dict[str, list[str]]:
        """For each flagged student, the students they were flagged with."""
        found: dict[str, list[str]] = {}
        for pair in self.pairs:
            found.setdefault(pair.a, []).append(pair.b)
            found.setdefault(pair.b, []).append(pair.a)
        return found

    def to_dict(self) -> dict:
        """Scores only (no code): what index pages need after the batch."""
        return {
            "threshold": self.threshold,
            "compared": list(self.compared),
            "starters": list(self.starters),
            "no_code": list(self.no_code),
            "not_compared": [list(item) for item in self.not_compared],
            "pairs": [
                {"a": p.a, "b": p.b, "share_a": p.share_a, "share_b": p.share_b} for p in self.pairs
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SimilarityReport:
        return cls(
            pairs=tuple(SimilarPair(**p) for p in data["pairs"]),
            threshold=data["threshold"],
            compared=tuple(data["compared"]),
            starters=tuple(data["starters"]),
            no_code=tuple(data.get("no_code", ())),
            not_compared=tuple((str(s), str(why)) for s, why in data.get("not_compared", ())),
        )


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, IPython magics and shell lines commented out."""
    try:
        text = read_regular(path).decode("utf-8")
        with collector_paused():
            notebook = nbformat.reads(text, as_version=4)
    except (OSError, ValueError) as err:  # nbformat's read errors derive from ValueError
        raise SimilarityError(f"cannot read notebook {path.name}: {err}") from err
    except RecursionError:
        raise SimilarityError(
            f"cannot read notebook {path.name}: nested deeper than the JSON reader's limit"
        ) from None
    cells = ["".join(cell.source) for cell in notebook.cells if cell.cell_type == "code"]
    return "\n\n".join(_comment_magics(cell) for cell in cells)


def _comment_magics(source: str) -> str:
    # The Python lexer would tokenise `%matplotlib inline` as operators and names.
    return "\n".join(
        "# " + line if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def code_files(folder: Path) -> list[Path]:
    """Notebooks and Python files of a submission, skipping hidden and cache folders in it.

    Only the path below `folder` is looked at: a class kept under a dot-folder
    (~/.local/..., /srv/.grading/...) is compared like any other. Links are
    never followed (`submission_code` names them).
    """
    files, _ = hand_in_files(folder)
    return sorted(
        path
        for path in files
        if path.suffix in CODE_SUFFIXES and not _hidden(path.relative_to(folder).parts)
    )


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in parts)


def file_code(path: Path) -> str:
    if path.suffix == ".ipynb":
        return notebook_code(path)
    try:
        return read_regular(path).decode("utf-8", errors="replace")
    except OSError as err:
        raise SimilarityError(f"cannot read {path.name}: {err}") from err


def submission_code(folder: Path, skipped: list[str] | None = None) -> str:
    """All code of one submission as one Python text, each file under a header comment.

    A student's unreadable file (malformed notebook) adds no code, only a header
    saying so, and its reason goes to `skipped`: the grading reports it, and
    similarity must not stop the batch.
    """
    parts = []
    if skipped is not None:
        links = hand_in_files(folder)[1]
        skipped.extend(link.message for link in links if not _hidden(Path(link.name).parts))
    for path in code_files(folder):
        name = path.relative_to(folder)
        try:
            parts.append(f"# ==== {name} ====\n{file_code(path)}")
        except SimilarityError as err:
            parts.append(f"# ==== {name} (unreadable, not compared) ====")
            if skipped is not None:
                skipped.append(str(err))
    return "\n\n".join(parts)


def _fingerprint(name: str, code: str, boilerplate: np.ndarray) -> CodeFingerprint:
    # The ".py" name only picks copydetect's Python tokeniser; nothing is read from disk.
    return CodeFingerprint(
        f"{name}.py",
        k=NOISE_CHARS,
        win_size=GUARANTEE_CHARS - NOISE_CHARS + 1,
        boilerplate=boilerplate,
        fp=io.StringIO(code),
    )


def boilerplate_hashes(starters: Iterable[Path]) -> np.ndarray:
    """Every k-gram hash of the starter code (window 1: all of them, not a sample)."""
    hashes: list[int] = []
    for path in starters:
        code = file_code(Path(path).resolve())  # the TA's own file: a link to it is fine
        fingerprint = CodeFingerprint(
            f"{path.stem}.py", k=NOISE_CHARS, win_size=1, fp=io.StringIO(code)
        )
        hashes.extend(fingerprint.hashes)
    return np.unique(np.array(hashes, dtype=np.int64))


def find_similar(
    submissions: Mapping[str, Path],
    starters: Sequence[Path] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> SimilarityReport:
    """Compare every pair of submissions; keep pairs whose score reaches `threshold`."""
    prints, no_code, not_compared = _fingerprints(submissions, boilerplate_hashes(starters))
    pairs = []
    for first, second in combinations(sorted(prints), 2):
        try:
            pair = _compare(first, second, prints, threshold)
        except Exception as err:  # copydetect on odd input: mark the pair, keep going
            why = f"failed: {type(err).__name__}: {err}"
            not_compared += [
                (first, f"comparison with {second} {why}"),
                (second, f"comparison with {first} {why}"),
            ]
            continue
        if pair is not None:
            pairs.append(pair)
    pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return SimilarityReport(
        pairs=tuple(pairs),
        threshold=threshold,
        compared=tuple(sorted(prints)),
        starters=tuple(p.name for p in starters),
        no_code=tuple(no_code),
        not_compared=tuple(not_compared),
    )


def _fingerprints(
    submissions: Mapping[str, Path], boilerplate: np.ndarray
) -> tuple[dict[str, CodeFingerprint], list[str], list[tuple[str, str]]]:
    """(fingerprint per student with code, students without code, (student, what was left out))."""
    prints: dict[str, CodeFingerprint] = {}
    no_code: list[str] = []
    not_compared: list[tuple[str, str]] = []
    for name, folder in sorted(submissions.items()):
        skipped: list[str] = []
        try:
            code = submission_code(folder, skipped)
            fingerprint = _fingerprint(name, code, boilerplate) if len(code) > NOISE_CHARS else None
        except Exception as err:  # one student's files must not stop the class's comparison
            not_compared.append((name, f"not compared: {type(err).__name__}: {err}"))
            continue
        not_compared += [(name, f"left out: {why}") for why in skipped]
        if fingerprint is None or not fingerprint.hashes:
            no_code.append(name)
        else:
            prints[name] = fingerprint
    return prints, no_code, not_compared


def _compare(
    a: str, b: str, prints: Mapping[str, CodeFingerprint], threshold: float
) -> SimilarPair | None:
    overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
    if overlap == 0 or max(share_a, share_b) < threshold:
        return None
    # Highlighting is only worth its cost for the pairs a TA will look at.
    html_a, _ = highlight_overlap(
        prints[a].raw_code, slices_a, "<mark>", "</mark>", escape_html=True
    )
    html_b, _ = highlight_overlap(
        prints[b].raw_code, slices_b, "<mark>", "</mark>", escape_html=True
    )
    return SimilarPair(a, b, round(float(share_a), 3), round(float(share_b), 3), html_a, html_b)
