"""`dlgrade evidence OUT NAME [--part P]`: what a student's grade was judged from.

A regrade request is answered with this: the part's verdict, then for each
notebook the evidence the record names (by the sha256 of its key.json): what
produced it (the notebook's sha256, the probes sent, the data slice and the
harness), whether it is still intact, how the last grading had it (executed
or judged from evidence), and what it holds: each cell's outcome and each
probe's values, by name.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dlgrade.engine.records import NotebookRun, SourceFile
from dlgrade.evidence.codec import RefusedEvidence, decode_run
from dlgrade.evidence.store import EVIDENCE_DIR, altered_files, kept_runs, read_uses
from dlgrade.grading.outputs import GRADE_FILE, OutputError, read_record
from dlgrade.records import GradeRecord


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evidence",
        help="show what a student's grade was judged from (to answer a regrade request)",
        description="Prints the part's verdict and, for each notebook, the evidence the grade "
        "names: what produced it, whether it is intact, and its cells and probe values.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder of `dlgrade grade`")
    parser.add_argument("student", metavar="NAME", help="the student's folder name in OUT")
    parser.add_argument("--part", help="the part asked about, e.g. 5-q3 (default: all)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    folder = args.out / args.student
    try:
        record = read_record(folder / GRADE_FILE)
    except OutputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results = [r for r in record.results if args.part in (None, r.part)]
    if not results:
        known = ", ".join(r.part for r in record.results)
        print(f"error: no part {args.part!r} in {args.student}'s grade ({known})", file=sys.stderr)
        return 2
    print("\n".join(describe(record, results, folder / EVIDENCE_DIR)))
    return 0


def describe(record: GradeRecord, results: list, evidence: Path) -> list[str]:
    lines = [
        f"{record.student} ({record.assignment}), graded {'quick' if record.quick else 'full'}"
    ]
    lines += [f"  {r.part}: {r.points:g}/{r.max_points:g} {r.status}: {r.message}" for r in results]
    if not record.evidence:
        return [*lines, "no evidence is named by this grade (graded before evidence was kept)"]
    kept = kept_runs(evidence)
    uses = {u.source: u for u in read_uses(evidence)}
    for notebook, digest in sorted(record.evidence.items()):
        use = uses.get(notebook)
        how = (
            ""
            if use is None
            else (f"executed ({use.reason})" if use.executed else "judged from evidence")
        )
        lines.append(f"{notebook}: evidence {digest[:12]}, last grading: {how or 'unknown'}")
        lines += _run_lines(kept.get(digest), notebook)
    return lines


def _run_lines(found: tuple[Path, dict] | None, notebook: str) -> list[str]:
    if found is None:
        return ["  the named evidence is not in OUT any more"]
    folder, listing = found
    key = listing.get("key") if isinstance(listing.get("key"), dict) else {}
    lines = [
        "  made from: notebook sha256 {n}, probes {p}, data {d}, harness {h}".format(
            n=str(key.get("notebook", "?"))[:12], p=str(key.get("probes", "?"))[:12],
            d=key.get("data_slice", "?"), h=str(key.get("harness", "?"))[:20],
        )
    ]  # fmt: skip
    altered = altered_files(folder, listing)
    if altered:
        return [*lines, f"  ALTERED after grading: {', '.join(altered)} (not shown)"]
    try:
        run = decode_run(folder, SourceFile(Path(notebook), "notebook", "ok"))
    except RefusedEvidence as err:
        return [*lines, f"  refused when read back: {err}"]
    return lines + _contents(run)


def _contents(run: NotebookRun) -> list[str]:
    lines = [f"  run: {run.status}, {len(run.cells)} cells, {len(run.figures)} figures, "
             f"isolation {run.isolation}"]  # fmt: skip
    for cell in run.cells:
        error = f" {cell.error_name}: {cell.error_value}" if cell.error_name else ""
        lines.append(f"    cell {cell.index} {cell.status}{error}  {cell.first_line[:60]}")
    for name, probe in sorted(run.probes.items()):
        if probe.error:
            lines.append(f"    probe {name}: nothing ({probe.error.splitlines()[0][:100]})")
            continue
        lines.append(f"    probe {name}: " + ", ".join(
            f"{key}={_summary(value)}" for key, value in sorted(probe.values.items())
        ))  # fmt: skip
    for watch, kept in sorted(run.history.items()):
        lines.append(f"    watch {watch}: {len(kept)} value(s) kept")
    return lines


def _summary(value: object) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"array{tuple(shape)}"
    if isinstance(value, dict | list | tuple):
        return f"{type(value).__name__}[{len(value)}]"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
