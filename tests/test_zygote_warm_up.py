"""What the grading zygote imports and computes before it forks a grader per student.

Everything a child would otherwise redo per student (the check helpers, nbformat's
validator, P5's probe inputs, the MNIST content index) is done once; what pytest
must import itself (test modules and conftests, whose asserts it rewrites) and the
kernel's code are left alone, and a checks folder other than the harness's own is
never imported by the zygote (its modules have the same names).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from dlgrade.grading.zygote_server import PRELOAD, check_helpers

REPO = Path(__file__).resolve().parents[1]
CHECKS = REPO / "checks"


def test_the_check_helpers_are_every_module_but_pytests_and_the_kernels():
    helpers = check_helpers(CHECKS)
    assert {"checks", "checks.p4_values", "checks.p5_trained", "checks.answers.judge"} <= set(
        helpers
    )
    for name in helpers:
        leaf = name.rsplit(".", 1)[-1]
        assert not leaf.startswith("test_") and leaf != "conftest", name
        assert not name.startswith("checks.kernel"), name
    on_disk = {p for p in CHECKS.rglob("*.py") if "kernel" not in p.parts}
    pytest_owned = {p for p in on_disk if p.name.startswith("test_") or p.name == "conftest.py"}
    assert len(helpers) == len(on_disk - pytest_owned)


def _warm(preload: list[str]) -> dict:
    """Warm up in a fresh interpreter as the zygote does; report what it holds."""
    script = f"""
import json, sys
from dlgrade.grading.zygote_server import warm_up
warm_up({preload!r})
report = {{"checks": sorted(m for m in sys.modules if m.startswith("checks"))}}
if "checks.probes" in sys.modules:
    report["networks"] = sys.modules["checks.probes"].p5_dataset_networks.cache_info().currsize
    report["rows"] = sys.modules["checks.p5_trained"].mnist_rows.cache_info().currsize
print(json.dumps(report))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_harness_checks_are_warmed_and_another_checks_folder_is_never_imported():
    harness = _warm([*PRELOAD, *check_helpers(CHECKS)])
    assert harness["networks"] == 1 and harness["rows"] == 1  # computed once, inherited
    assert not any(m.rsplit(".", 1)[-1].startswith("test_") for m in harness["checks"])
    other = _warm(list(PRELOAD))  # what a zygote for `--checks OTHER` preloads
    assert other["checks"] == []
