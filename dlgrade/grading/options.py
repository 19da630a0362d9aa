"""How to grade one submission (`GradeOptions`), and its plain-JSON form.

The options cross process boundaries (a fresh interpreter's `--options`, a
zygote request, a Dask task), so they are frozen and round-trip through
`options_to_dict` / `options_from_dict`.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class GradeOptions:
    """How to grade one submission: the `pytest checks` command line, and its process."""

    checks_dir: Path
    assignment: str | None = None
    quick: bool = False
    retrain: bool = False  # problem 5: train again even when the notebook trained
    visible_only: bool = False
    problems: tuple[str, ...] = ()
    timeout_s: float | None = None  # per submission; None: no limit
    junit: bool = False  # also return junit.xml
    python: str = sys.executable
    extra_args: tuple[str, ...] = ()
    # Math-library threads per student (None: the libraries' default). With N
    # students at once, cores // N keeps N torch/BLAS pools from fighting over
    # the same cores, which would make parallel grading barely faster.
    threads: int | None = None
    # How the notebooks are isolated (dlgrade.engine.isolation): never chosen for you.
    isolation: str = "bwrap"
    # The runs' evidence in SCRATCH/evidence (dlgrade.evidence): "keep" stores it, "reuse"
    # also judges from it when nothing that made it changed, "off" neither.
    evidence: str = "keep"
    manifest: str | None = None  # a manifest file to grade against (default: the edition's)
    # A regrade (dlgrade.evidence.regrade): the parts it re-judges (empty: all). The record
    # is settled against the one it replaces before the student's page is rendered.
    regrade: tuple[str, ...] | None = None


def options_to_dict(options: GradeOptions) -> dict:
    data = asdict(options)
    data["checks_dir"] = str(options.checks_dir)
    data["problems"], data["extra_args"] = list(options.problems), list(options.extra_args)
    data["regrade"] = None if options.regrade is None else list(options.regrade)
    return data


def options_from_dict(data: dict) -> GradeOptions:
    known = {f.name for f in fields(GradeOptions)}
    values = {key: value for key, value in data.items() if key in known}
    values["checks_dir"] = Path(values["checks_dir"])
    values["problems"] = tuple(values.get("problems", ()))
    values["extra_args"] = tuple(values.get("extra_args", ()))
    if values.get("regrade") is not None:
        values["regrade"] = tuple(values["regrade"])
    return GradeOptions(**values)
