"""Grade the field corpus once, then re-judge it from evidence after rubric and check changes.

    python benchmarks/regrade.py              # full mode: real-size training (long)
    python benchmarks/regrade.py --quick      # quick mode (data slices): a few minutes
    python benchmarks/regrade.py --out OUT    # keep (and resume) the first grading in OUT

Steps, each timed: (1) grade the corpus (evidence kept); (2) a copy of the
manifest gives 5-q2 more points and a judging message is reworded
(checks/p5_update.py), then `regrade` re-judges: no notebook may run, and only the
5-q2 parts that earned points may change their points; (3) back to the
original rubric and checks: every record must equal the first grading's,
byte for byte, and every EXPECTED.toml row must agree; (4) one P5 probe's
code changes (a comment in checks/kernel/p5_inventory.py), re-graded in a
copy of OUT: only notebooks holding problem 5 may run again. The repository files changed in (2) and (4)
are restored afterwards, whatever happens. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dlgrade.commands.grade import student_timeout
from dlgrade.evidence.regrade import Outcome, Settings, regrade
from dlgrade.grading.batch import SimilarityOptions, grade_class
from dlgrade.grading.expected import compare, load_expected
from dlgrade.grading.options import GradeOptions
from dlgrade.grading.outputs import load_records
from dlgrade.grading.runner import default_checks_dir
from dlgrade.records import CheckResult, GradeRecord

REPO = Path(__file__).resolve().parents[1]
FIELD = REPO / "submissions" / "field"
MANIFEST = REPO / "reference" / "assignments" / "fall2023.toml"
MESSAGE_FILE = REPO / "checks" / "p5_update.py"  # Q3's messages
MESSAGE = ("differs from correct backprop", "differs from the correct backprop")
PROBE_FILE = REPO / "checks" / "kernel" / "p5_inventory.py"
POINTS_PART, NEW_POINTS = "5-q2", 8


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="quick mode (data slices)")
    parser.add_argument("--out", type=Path, default=None, help="grades folder (resumable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-probe-change", action="store_true", help="skip step 4")
    return parser.parse_args(argv)


@contextlib.contextmanager
def patched(path: Path, old: str, new: str) -> Iterator[None]:
    """`path` with `old` replaced by `new` for the duration; the original is always restored."""
    original = path.read_text(encoding="utf-8")
    if old not in original:
        raise SystemExit(f"{path}: the text to change ({old!r}) is not there any more")
    path.write_text(original.replace(old, new), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def changed_manifest(folder: Path) -> Path:
    """A copy of the fall 2023 manifest with POINTS_PART worth NEW_POINTS."""
    text = MANIFEST.read_text(encoding="utf-8")
    head, block, tail = text.partition(f'id = "{POINTS_PART}"')
    tail = re.sub(r"points = \d+", f"points = {NEW_POINTS}", tail, count=1)
    target = folder / MANIFEST.name  # a manifest's file name is its id
    target.write_text(head + block + tail, encoding="utf-8")
    return target


def first_grading(args: argparse.Namespace, out: Path) -> float | None:
    """Its wall time; None when OUT already held grades (a resumed run times nothing real)."""
    options = GradeOptions(
        checks_dir=default_checks_dir(),
        quick=args.quick,
        timeout_s=student_timeout(None, args.quick),
    )
    started = time.monotonic()
    outcome = grade_class(
        FIELD, out, options, jobs=args.jobs, similarity=SimilarityOptions(enabled=False),
        progress=False,
    )  # fmt: skip
    wall = time.monotonic() - started
    print(
        f"1. first grading: {len(outcome.graded)} graded, {len(outcome.resumed)} resumed, {wall:.0f} s"
    )
    return wall if not outcome.resumed else None


def report(step: str, outcome: Outcome) -> None:
    print(
        f"{step}: {outcome.wall_s:.0f} s, {outcome.reused} notebook(s) judged from evidence, "
        f"{len(outcome.executed)} re-executed"
    )
    for student, use in outcome.executed:
        print(f"   re-executed {student}/{use.source}: {use.reason}")
    for student, why in outcome.skipped.items():
        print(f"   not regraded {student}: {why}")


def rubric_change(args: argparse.Namespace, out: Path, scratch: Path) -> Outcome:
    before = {r.student: r for r in load_records(out)}
    settings = Settings(manifest=changed_manifest(scratch), jobs=args.jobs)
    with patched(MESSAGE_FILE, *MESSAGE):
        outcome = regrade(out, settings)
    report("2. re-grade after the rubric and message change", outcome)
    should = {
        (s, r.part) for s, rec in before.items() for r in rec.results
        if r.part == POINTS_PART and r.points > 0
    }  # fmt: skip
    moved = {(c.student, c.part) for c in outcome.changes}
    print(
        f"   parts whose verdict changed: {len(moved)} (expected {len(should)}; "
        f"unexpected: {sorted(moved - should) or 'none'}, missed: {sorted(should - moved) or 'none'})"
    )
    messages = sum(
        r.message != old.message
        for rec in outcome.records
        for r in rec.results
        if (old := _part(before[rec.student], r.part)) is not None
    )
    print(f"   parts whose message changed: {messages}")
    return outcome


def _part(record: GradeRecord, part: str) -> CheckResult | None:
    return next((r for r in record.results if r.part == part), None)


def revert(args: argparse.Namespace, out: Path, first: dict[str, bytes]) -> Outcome:
    outcome = regrade(out, Settings(manifest=MANIFEST, jobs=args.jobs))
    report("3. re-grade with the original rubric and checks", outcome)
    same = sum((out / s / "grade.json").read_bytes() == data for s, data in first.items())
    print(f"   records byte-identical to the first grading: {same} of {len(first)}")
    rows = load_expected(FIELD / "EXPECTED.toml")
    results = compare(rows, {r.student: r for r in load_records(out)}, args.quick)
    print(f"   EXPECTED.toml rows agreeing: {sum(o.ok for o in results)} of {len(results)}")
    return outcome


def probe_change(args: argparse.Namespace, out: Path, scratch: Path) -> Outcome:
    """On a copy of OUT: the evidence made with the changed probe must not replace OUT's."""
    copy = scratch / "probe-changed"
    shutil.copytree(out, copy)
    text = PROBE_FILE.read_text(encoding="utf-8")
    with patched(PROBE_FILE, text, text + "\n# a changed probe (benchmarks/regrade.py)\n"):
        outcome = regrade(copy, Settings(jobs=args.jobs))
    report("4. re-grade after one P5 probe changed", outcome)
    grading = {s: _sources(copy / s) for s in outcome.uses}
    others = [
        f"{s}/{u.source}" for s, u in outcome.executed if "p5" not in grading[s].get(u.source, ())
    ]
    print(f"   re-executed notebooks not holding problem 5: {others or 'none'}")
    return outcome


def _sources(folder: Path) -> dict[str, tuple[str, ...]]:
    """Notebook -> the problems it holds, as discovered now in the student's submission."""
    from dlgrade.engine import discover

    data = json.loads((folder / "evidence" / "grading.json").read_text())
    found = discover(Path(data["submission"]))
    return {s.path.relative_to(found.path).as_posix(): s.problem_ids for s in found.sources}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="dlgrade-regrade-bench-"))  # the changed manifest
    out = args.out or scratch / "out"
    first_s = first_grading(args, out)
    first = {r.student: (out / r.student / "grade.json").read_bytes() for r in load_records(out)}
    changed = rubric_change(args, out, scratch)
    revert(args, out, first)
    if first_s is None:
        print("   ratio: none (the first grading was resumed from OUT, not timed)")
    else:
        print(f"   ratio first grading / re-grade: {first_s / max(changed.wall_s, 1e-9):.1f}x")
    if not args.no_probe_change:
        probe_change(args, out, scratch)
    print(f"grades in {out}")


if __name__ == "__main__":
    main()
