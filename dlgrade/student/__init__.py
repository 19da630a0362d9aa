"""Check your homework from inside your notebook, with the grader's own checks.

    %pip install dlgrade                     # or a wheel your course gives you (works offline)
    import dlgrade.student as grader
    grader.check("5-q3")                     # one part, against this kernel's variables
    grader.check_all()                       # every visible part this notebook's code holds

Each check runs the same probes and the same judging code as `dlgrade grade`,
on the variables your kernel holds (no sandbox: it is your machine). Import
it at the top of the notebook: from then on it also records the values the
grader reads as cells run (say, the initial weights before training).
Put the call last in a cell: Jupyter shows a table of part, points and the
message; elsewhere it prints text. Hidden parts are never run or shown;
parts a TA grades are not checked here; parts that look at your figures can
only be checked by `dlgrade check` (which runs the whole notebook).
"""

from __future__ import annotations

from dlgrade.data import DataError, fetch, load
from dlgrade.student.display import CheckReport
from dlgrade.student.live import new_recorder
from dlgrade.student.recorder import attach
from dlgrade.student.session import Target, kernel_problems, run_live, target_here

__all__ = ["CheckReport", "check", "check_all"]

# From this import on, record values as the student's cells run (IPython only), so that
# a part that reads a value right after the cell defining it is judged as the grader does.
attach(new_recorder)

DATASETS = {"numpy_backprop": "mnist", "fashion_mlp": "fashion-mnist"}


def check(
    part: str, *, assignment: str | None = None, namespace: dict | None = None
) -> CheckReport:
    """Check one part (e.g. "5-q3") against this kernel; `assignment` if not in answers.toml."""
    target = target_here(namespace, assignment)
    visible = _visible_parts(target)
    if part not in visible:
        raise ValueError(
            f"no part {part!r} to check in {target.assignment}; you can check: {', '.join(visible)}"
        )
    chosen = visible[part]
    if chosen.grading != "auto":
        return _shown(
            CheckReport((), (f"{part} ({chosen.title}) is graded by a TA: nothing to check here",))
        )
    _ensure_data((chosen.problem,))
    live = run_live(target, {part}, (chosen.problem,), notebook_only=False)
    return _shown(CheckReport.from_live(live))


def check_all(
    *, problems: tuple[str, ...] = (), assignment: str | None = None, namespace: dict | None = None
) -> CheckReport:
    """Every visible auto-graded part of the problems this kernel's code holds (or `problems`)."""
    target = target_here(namespace, assignment)
    chosen = tuple(problems) or kernel_problems(target.namespace)
    if not chosen:
        return _shown(
            CheckReport(
                (),
                (
                    "this kernel has not run code of problems 3, 4 or 5 yet: run your cells "
                    'first, or name a part: grader.check("5-q3")',
                ),
            )
        )
    _ensure_data(chosen)
    live = run_live(target, None, chosen, notebook_only=True)
    return _shown(CheckReport.from_live(live))


def _visible_parts(target: Target) -> dict:
    from reference.assignments import load_assignment

    manifest = load_assignment(target.assignment)
    return {p.id: p for p in manifest.parts if p.visibility == "visible"}


def _ensure_data(problems: tuple[str, ...]) -> None:
    """Fetch the datasets the checks compare against, once (needs the network that once)."""
    needed = {DATASETS[p] for p in problems if p in DATASETS}
    missing = []
    for name in sorted(needed):
        try:
            load(name)
        except DataError:
            missing.append(name)
    if missing:
        print(f"dlgrade: fetching {', '.join(missing)} once, for the checks to compare against")
        for result in fetch(names=missing, progress=False):
            if not result.ok:
                print(f"dlgrade: could not fetch it ({result.error}); try `dlgrade data fetch`")


def _shown(report: CheckReport) -> CheckReport:
    """Jupyter displays the returned report; a plain script gets it printed."""
    from dlgrade.student.shell import ipython

    if ipython() is None:
        print(report)
    return report
