"""Grader side of probes: validation, input files, the kernel-side call, triggers."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dlgrade.engine.records import Probe

MAX_TRIGGER_REPLY = 10_000


def check_probes(probes: Sequence[Probe]) -> None:
    """Reject probe sets the engine cannot run (a check-author error, so raise)."""
    names = [p.name for p in probes]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"probe names must be unique; repeated: {duplicates}")
    for probe in probes:
        for key, value in probe.inputs.items():
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(
                    f"probe {probe.name!r} input {key!r} has dtype {array.dtype}; only numeric arrays"
                )
        compile(probe.code, f"<probe {probe.name}>", "exec")  # SyntaxError names the probe


def write_inputs(probe: Probe, path: Path) -> Path | None:
    if not probe.inputs:
        return None
    np.savez(path, **{key: np.asarray(value) for key, value in probe.inputs.items()})
    return path


def kernel_call(probe: Probe, inputs: Path | None, result_dir: Path) -> str:
    """The one expression sent to the kernel; it leaves no names behind."""
    return (
        "__import__('_dlgrade_shim.probe', fromlist=['run']).run(globals(), "
        f"{probe.name!r}, {probe.code!r}, {str(inputs) if inputs else None!r}, {str(result_dir)!r})"
    )


def trigger_expression(names: Sequence[str]) -> str:
    """A user expression listing which of `names` the kernel's globals define."""
    return f"[n for n in {tuple(names)!r} if n in globals()]"


def parse_defined(content: dict, names: Sequence[str]) -> set[str]:
    """The defined names from a user-expression reply; anything odd counts as none."""
    result = content.get("user_expressions", {}).get("defined", {})
    text = result.get("data", {}).get("text/plain", "") if isinstance(result, dict) else ""
    if not isinstance(text, str) or len(text) > MAX_TRIGGER_REPLY:
        return set()
    try:
        found = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return set()
    return {n for n in found if n in names} if isinstance(found, list) else set()
