"""Write the student bundle: a wheel with no answers, and a CI action that installs it.

The wheel holds `dlgrade` (without the builders of grader packages), `reports`,
the visible checks (checks/) and a stand-in `reference` package: the edition's
visible manifest, the starter notebook, and one stand-in module per problem
(see dlgrade.bundle.standin) with its table. Nothing else of reference/ goes in.
"""

from __future__ import annotations

import importlib
import pickle
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from checks.offline import TABLES
from dlgrade import __version__
from dlgrade.bundle.policy import CHECK_POLICIES, REFERENCE_POLICIES
from dlgrade.bundle.standin import standin_source
from dlgrade.bundle.tables import build_tables
from dlgrade.bundle.visible import hidden_ids, visible_manifest, without_hidden_checks
from reference.manifest import Assignment

ROOT = Path(__file__).resolve().parents[2]
# Builders of what the grader installs (this bundle, the Gradescope zip): no use to a student.
LEFT_OUT = (
    "dlgrade/bundle",
    "dlgrade/commands/bundle.py",
    "dlgrade/autograder",
    "dlgrade/commands/autograder.py",
)
SKIPPED = ("__pycache__", "*.pyc", "*.egg-info")
HARNESS_INSTALL = 'run: python -m pip install --quiet -e "$GITHUB_ACTION_PATH/.."'
BUNDLE_INSTALL = 'run: python -m pip install --quiet "$GITHUB_ACTION_PATH"/dlgrade-*.whl'
ACTION_WORDING = {
    "Install the harness (same ref as this action)": "Install the bundle (the wheel beside this)",
    "# The action lives in ci/ of the harness repository; the checks run from its checkout.": (
        "# The visible checks and a stand-in reference: no answers."
    ),
}


class BundleError(RuntimeError):
    """The bundle cannot be built; the message says why."""


@dataclass(frozen=True)
class StudentBundle:
    wheel: Path  # OUT/dlgrade-<version>+<edition>-py3-none-any.whl
    action: Path  # OUT/action/: action.yml, self-check.sh and a copy of the wheel


def build_student_bundle(assignment: Assignment, out: Path, root: Path = ROOT) -> StudentBundle:
    """Build the bundle of `assignment` into `out` from the checkout at `root`."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlgrade-bundle-") as scratch:
        stage = Path(scratch) / "stage"
        stage_sources(assignment, root, stage)
        wheel = build_wheel(stage, out, assignment.id)
    return StudentBundle(wheel, write_action(wheel, root, out / "action"))


def stage_sources(assignment: Assignment, root: Path, stage: Path) -> None:
    """The project tree the wheel is built from."""
    ignore = shutil.ignore_patterns(*SKIPPED)
    for package in ("dlgrade", "reports", "checks"):
        shutil.copytree(root / package, stage / package, ignore=ignore)
    for relative in LEFT_OUT:
        target = stage / relative
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    hidden = hidden_ids(assignment)
    for path in sorted((stage / "checks").rglob("*.py")):
        path.write_text(without_hidden_checks(path.read_text("utf-8"), assignment.id, hidden))
    conftest = stage / "checks" / "conftest.py"
    conftest.write_text(conftest.read_text("utf-8") + CONFTEST_PLUGIN, encoding="utf-8")
    for short, policy in CHECK_POLICIES.items():
        module = importlib.import_module(f"checks.{short}")
        (stage / "checks" / f"{short}.py").write_text(standin_source(module, short, policy))
    stage_reference(assignment, root, stage / "reference")
    (stage / "pyproject.toml").write_text(pyproject(root, assignment.id), encoding="utf-8")
    (stage / "README.md").write_text(README.format(edition=assignment.id), encoding="utf-8")


def stage_reference(assignment: Assignment, root: Path, target: Path) -> None:
    """The stand-in `reference` package: manifest, starter, stand-in modules, tables."""
    unknown = sorted({p.problem for p in assignment.parts} - set(REFERENCE_POLICIES))
    if unknown:
        raise BundleError(
            f"{assignment.id} names problems the bundle has no policy for ({', '.join(unknown)}):"
            " say in dlgrade/bundle/policy.py what a student's machine may hold of each"
        )
    ignore = shutil.ignore_patterns(*SKIPPED)
    shutil.copytree(root / "reference" / "starter", target / "starter", ignore=ignore)
    (target / "assignments").mkdir()
    shutil.copy2(root / "reference" / "assignments" / "__init__.py", target / "assignments")
    manifest = target / "assignments" / f"{assignment.id}.toml"
    manifest.write_text(visible_manifest(assignment), encoding="utf-8")
    shutil.copy2(root / "reference" / "manifest.py", target / "manifest.py")  # the loader
    (target / "__init__.py").write_text(REFERENCE_INIT, encoding="utf-8")
    tables = build_tables({p.id for p in assignment.parts if p.visibility == "visible"})
    (target / TABLES).mkdir()
    for short, policy in REFERENCE_POLICIES.items():
        module = importlib.import_module(f"reference.{short}")
        (target / f"{short}.py").write_text(standin_source(module, short, policy))
        if tables[short]:
            (target / TABLES / f"{short}.pickle").write_bytes(pickle.dumps(tables[short]))


def pyproject(root: Path, edition: str) -> str:
    """The harness's pyproject.toml, versioned for the edition, shipping the tables."""
    text = (root / "pyproject.toml").read_text("utf-8")
    edits = {
        f'version = "{__version__}"': f'version = "{__version__}+{edition}"',
        'description = "': f'description = "Student self-checks for {edition}, no answers: ',
        '"*" = ["*.toml",': '"*" = ["*.pickle", "*.toml",',
    }
    for old, new in edits.items():
        if old not in text:
            raise BundleError(f"{root / 'pyproject.toml'} no longer holds {old!r}")
        text = text.replace(old, new, 1)
    return text


def build_wheel(stage: Path, out: Path, edition: str) -> Path:
    """`pip wheel` of the staged tree, offline, with the build tools already installed."""
    wheel = out / f"dlgrade-{__version__}+{edition}-py3-none-any.whl"
    wheel.unlink(missing_ok=True)  # a wheel from an earlier build must not pass for this one
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "wheel"]
    command = [*pip, str(stage), "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=stage, timeout=900)
    if done.returncode != 0:
        raise BundleError(f"pip wheel failed:\n{done.stderr[-3000:]}")
    if not wheel.is_file():
        raise BundleError(f"pip wheel did not write {wheel}")
    return wheel


def write_action(wheel: Path, root: Path, target: Path) -> Path:
    """ci/action.yml, installing the wheel beside it instead of the harness repository."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    action = (root / "ci" / "action.yml").read_text("utf-8")
    if HARNESS_INSTALL not in action:
        raise BundleError(f"{root / 'ci' / 'action.yml'} no longer holds {HARNESS_INSTALL!r}")
    action = action.replace(HARNESS_INSTALL, BUNDLE_INSTALL)
    action = action[action.index("\nname:") + 1 :]  # its header speaks of the harness's copy
    for old, new in ACTION_WORDING.items():  # names and comments; the install line is checked
        action = action.replace(old, new)
    (target / "action.yml").write_text(ACTION_HEADER + action, encoding="utf-8")
    shutil.copy2(root / "ci" / "self-check.sh", target / "self-check.sh")
    shutil.copy2(wheel, target / wheel.name)
    return target


# The repository's root conftest loads the grading plugin; an installed bundle has no
# repository root, so its checks' conftest (an initial conftest: allowed to) loads it.
CONFTEST_PLUGIN = """
# The bundle has no repository root, whose conftest loads the grading plugin.
pytest_plugins = ["dlgrade.grading.plugin"]
"""
REFERENCE_INIT = '''"""Stand-in for the grader's reference package: no reference solution is here.

Built by `dlgrade bundle student`: the edition's visible manifest, the starter
notebook, and per problem a module that serves the reference's results on the
fixed inputs the checks use (see checks.offline).
"""
'''
README = """# dlgrade: self-checks for {edition}

The course's checks for the visible parts of {edition}, for `grader.check` in a
notebook (`import dlgrade.student as grader`) and `dlgrade check FOLDER --quick`.
It holds no reference solution: parts that need one are checked by the TA.
"""
ACTION_HEADER = """# A composite action that self-checks a homework repository with the student bundle.
#
#   - uses: COURSE/dlgrade-student@EDITION   # this folder, published by the course
#     with:
#       fail-under: 80                     # optional: fail the job below 80 % of the judged points
#
# Built by `dlgrade bundle student`: it installs the wheel beside this file (the
# visible checks, no answers), never the harness, runs `dlgrade check`, writes the
# points table to the job summary and uploads the report as an artifact.
"""
