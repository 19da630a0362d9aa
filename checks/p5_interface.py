"""Problem 5: reaching the student's code through the probes, and naming why it cannot be.

A probe's failure is the student's only when their code caused it (the kernel
died, their functions ran too long or returned values the grader refuses);
anything else is the grader's own probe failing (`GraderError`).
"""

from __future__ import annotations

import re

from checks.notebook_runs import require_probe
from checks.p5_values import GraderError, Holder, holder_from
from checks.scoring import CheckFailed
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import why_undefined

# How the engine says a probe has nothing because of the student's code: the kernel died
# or was stopped, the student's functions ran past the time limit, they returned values
# the grader refuses. Anything else is the grader's own probe failing.
STUDENT_PROBE_ERRORS = (
    "not run:",
    "kernel died",
    "probe timed out",
    "refused:",
    "the probe left no results",
)


def probe_values(run: NotebookRun, name: str, needed: str) -> dict:
    """A probe's values; its failure is the student's only when their code caused it."""
    result = run.probe(name)
    if result.error:
        require_probe(run, result, needed)  # the kernel died or was stopped: that status
        if any(part.startswith(STUDENT_PROBE_ERRORS) for part in result.error.split("; ")):
            raise CheckFailed(f"the grader could not call {needed}: {result.error}")
        raise GraderError(f"the grader's probe {name!r} failed (please report): {result.error}")
    return result.values


def interface(run: NotebookRun, name: str, needed: str) -> tuple[dict, Holder]:
    """The probe's values once the names it needs and the weights were found; else why not."""
    values = probe_values(run, name, needed)
    missing = values.get("missing")
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise GraderError(f"probe {name!r} did not say which names are missing: {missing!r}")
    if missing:
        raise CheckFailed(
            "; ".join(f"{m} is not defined because {why_undefined(run, m)}" for m in missing)
        )
    holder = holder_from(values.get("holder"))
    if holder is None:
        raise CheckFailed(no_weights(run))
    return values, holder


def no_weights(run: NotebookRun) -> str:
    """'interface not found: ...' with what the notebook holds instead, and why."""
    values = run.probe("p5_inventory").values
    inventory, defined = values.get("inventory", {}), values.get("defined", {})
    found = []
    if isinstance(inventory, dict):
        for kind in ("containers", "arrays", "classes", "functions"):
            items = inventory.get(kind, [])
            if isinstance(items, list) and items:
                found.append(f"{kind}: " + ", ".join(str(i) for i in items[:12]))
    listing = "; ".join(found) or "nothing usable"
    if isinstance(defined, dict) and "weights" in defined:
        cause = f"; `weights` is a {str(defined['weights'])[:40]}"
    else:
        cause = f"; `weights` is not defined because {why_undefined(run, 'weights')}"
    return (
        "interface not found: the notebook must hold its 784-32-32-10 network as `weights` and "
        "`biases`, lists of 3 arrays as in the starter (weights (n_in, n_out) or (n_out, n_in)), "
        f"and no complete set was found{cause}; found {listing}"
    )


_UNDEFINED = re.compile(r"NameError: name '(\w+)' is not defined")


def explained(run: NotebookRun, error: object) -> str:
    """The student's error, with why the name a NameError misses is missing."""
    text = str(error)[:500]
    match = _UNDEFINED.search(text)
    if match is None:
        return text
    return f"{text} ({match.group(1)} is not defined because {why_undefined(run, match.group(1))})"
