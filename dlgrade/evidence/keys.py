"""What produced a notebook run's evidence: the key it is stored and found under.

Evidence is reused only when every part of its key matches the run that would
be made now: the same notebook file, the same other files in the hand-in (a
notebook may read them), the same probe and watch code and inputs sent to the
kernel, the same data slice and isolation mode, and the same engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path

import numpy as np

import dlgrade
from dlgrade.engine.paths import hand_in_files
from dlgrade.engine.records import Probe, SourceFile, Watch

ENGINE = Path(dlgrade.__file__).resolve().parent / "engine"
# What each part of the key means, to say why evidence was not reused.
MEANINGS = {
    "notebook": "the notebook file changed",
    "folder": "other files of the hand-in changed",
    "probes": "the probe or watch code sent to the kernel changed",
    "data_slice": "the data slice (quick/full) or isolation mode changed",
    "harness": "the grading engine changed",
}


@dataclass(frozen=True)
class EvidenceKey:
    notebook: str  # sha256 of the notebook file
    folder: str  # sha256 of the hand-in's other files (not notebooks, not answers)
    probes: str  # sha256 of the probes and watches sent to the kernel
    data_slice: str  # "quick" or "full", and the isolation mode
    harness: str  # dlgrade's version and a sha256 of the engine's code

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def differences(self, stored: object) -> list[str]:
        """Why `stored` (a key read back from disk) does not match, in words; empty if it does."""
        if not isinstance(stored, dict):
            return ["the stored key is unreadable"]
        mine = self.to_dict()
        return [MEANINGS[f.name] for f in fields(self) if stored.get(f.name) != mine[f.name]]


def key_for(
    source: SourceFile,
    folder: Path,
    probes: Sequence[Probe],
    watches: Sequence[Watch],
    data_slice: str,
) -> EvidenceKey:
    return EvidenceKey(
        notebook=file_sha256(source.path),
        folder=folder_sha256(folder),
        probes=requests_sha256(probes, watches),
        data_slice=data_slice,
        harness=harness_version(),
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def folder_sha256(folder: Path) -> str:
    """The files a notebook may read besides itself: not notebooks (each has its own key),
    not answers files (judged directly, never by a kernel). Links are named, never read."""
    files, links = hand_in_files(folder)
    entries = [
        (path.relative_to(folder).as_posix(), file_sha256(path))
        for path in files
        if path.suffix != ".ipynb" and not _answers(path)
    ]
    entries += [(link.name, "link:" + link.target) for link in links]
    return _sha256_json(entries)


def _answers(path: Path) -> bool:
    return path.name.startswith("answers") and path.suffix == ".toml"


def requests_sha256(probes: Sequence[Probe], watches: Sequence[Watch]) -> str:
    """Everything the grader sends to the kernel: code, inputs (by content), triggers."""
    probe_parts = [
        {
            "name": p.name,
            "code": p.code,
            "after": list(p.after),
            "problem": p.problem,
            "inputs": {k: _array_sha256(v) for k, v in sorted(p.inputs.items())},
        }
        for p in probes
    ]
    watch_parts = [{"name": w.name, "code": w.code, "budget": w.budget_bytes} for w in watches]
    return _sha256_json({"probes": probe_parts, "watches": watch_parts})


def _array_sha256(value: object) -> str:
    array = np.ascontiguousarray(value)
    head = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()


@cache
def harness_version() -> str:
    """dlgrade's version and the engine's code (the kernel shim included): what ran the kernel."""
    digest = hashlib.sha256(dlgrade.__version__.encode())
    for path in sorted(ENGINE.rglob("*.py")):
        digest.update(path.relative_to(ENGINE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return f"{dlgrade.__version__}+{digest.hexdigest()[:16]}"


def _sha256_json(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
