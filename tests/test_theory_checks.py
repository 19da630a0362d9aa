"""The theory checks against the example submissions, through `pytest checks` as a TA runs it.

These fail if a theory check is broken: full-marks folders must get every
theory point, the wrong-theory folder must lose exactly the points its
mistakes cost, and an unparseable answers.toml must give 0 with its reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.records import CheckResult, GradeRecord

ROOT = Path(__file__).resolve().parents[1]
SUBMISSIONS = ROOT / "submissions" / "examples"
THEORY_MODULES = {
    "fall2023": ["test_vector_calculus.py", "test_l1_regression.py", "test_relu_theory.py"],
    "spring2023": ["test_l1_regression.py", "test_universal_approx.py", "test_softmax_jacobian.py"],
}
THEORY_PARTS = {
    "fall2023": {"auto": ["1a", "1b", "2a", "2b", "3b", "3c", "3d"], "manual": ["2c"]},
    "spring2023": {"auto": ["1a", "1b", "2a", "2b", "2c", "3"], "manual": ["1c", "2d"]},
}


def grade_theory(folder: str, assignment: str, tmp_path: Path) -> dict[str, CheckResult]:
    """Run only the theory check modules on one example submission; results by part."""
    output = tmp_path / f"{folder}.json"
    modules = [str(ROOT / "checks" / name) for name in THEORY_MODULES[assignment]]
    command = [
        sys.executable, "-m", "pytest", *modules, "-p", "no:cacheprovider", "-q",
        "--submission", str(SUBMISSIONS / folder), "--assignment", assignment,
        "--results-json", str(output),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert output.exists(), run.stdout + run.stderr
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    assert record.assignment == assignment
    return {r.part: r for r in record.results}


@pytest.mark.parametrize(
    ("folder", "assignment"),
    [("fall2023-full-marks", "fall2023"), ("spring2023-full-marks", "spring2023")],
)
def test_full_marks_on_every_theory_part(folder, assignment, tmp_path):
    results = grade_theory(folder, assignment, tmp_path)
    for part in THEORY_PARTS[assignment]["auto"]:
        result = results[part]
        assert (result.status, result.points) == ("passed", result.max_points), (
            part,
            result.message,
        )
    for part in THEORY_PARTS[assignment]["manual"]:
        assert results[part].status == "manual"
        assert results[part].points == 0
        assert len(results[part].details["text"]) > 50  # the student's text, for the TA


def test_wrong_theory_loses_exactly_the_points_of_its_mistakes(tmp_path):
    results = grade_theory("fall2023-wrong-theory", "fall2023", tmp_path)
    expected = {
        "1a": ("failed", 0.0, "[1a] gradient: at x = "),
        "1b": ("failed", 0.0, "[1b] has no `mu` (it has: mean)"),
        "2a": ("partial", 3.3333, "[2a] w: expected d x 1, found 1 x d"),
        "2b": ("failed", 0.0, "[2b] closed_form: expected false, found true"),
        "3b": ("failed", 0.0, "[3b] grad_L: at 1 random data point, expected"),
        "3c": ("failed", 0.0, "[3c] f(2, theta_0): expected -3, found -4"),
        "3d": (
            "partial",
            3.0,
            "[3d] grad_f: ∂f/∂W_H2 expected -2, found 2; ∂f/∂W_H3 expected -2, found 2",
        ),
    }
    for part, (status, points, message) in expected.items():
        result = results[part]
        assert (result.status, result.points) == (status, points), (part, result.message)
        assert result.message.startswith(message), (part, result.message)
    assert results["2b"].details["reason"].startswith("Set the derivative to zero")
    assert results["2c"].status == "manual"


def test_unparseable_answers_score_zero_with_the_reason(tmp_path):
    results = grade_theory("fall2023-bad-answers", "fall2023", tmp_path)
    reason = "answers.toml could not be parsed: line 10, column 19: Illegal character"
    for part in THEORY_PARTS["fall2023"]["auto"]:
        # The student's file cannot be read: malformed, not a plain failure.
        assert (results[part].status, results[part].points) == ("malformed", 0.0), part
        assert results[part].message.startswith(reason), results[part].message
    # Nothing a TA could review: the manual part carries the same verdict.
    assert results["2c"].status == "malformed"
    assert results["2c"].message.startswith(reason)


def test_the_broken_file_is_noted_once_for_the_whole_grade(tmp_path):
    output = tmp_path / "bad.json"
    command = [
        sys.executable, "-m", "pytest", str(ROOT / "checks" / "test_relu_theory.py"),
        "-p", "no:cacheprovider", "-q", "--submission", str(SUBMISSIONS / "fall2023-bad-answers"),
        "--results-json", str(output),
    ]  # fmt: skip
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    record = GradeRecord.from_dict(json.loads(output.read_text()))
    invalid = [o for o in record.observations if o.kind == "answers-invalid"]
    assert len(invalid) == 1, record.observations
    assert "line 10, column 19" in invalid[0].message
    assert run.stdout.count("[answers.toml] answers-invalid") == 1


@pytest.mark.parametrize(
    "folder",
    sorted(p.name for p in SUBMISSIONS.glob("fall2023-*") if (p / "answers.toml").is_file())
    if SUBMISSIONS.is_dir()
    else [],
)
def test_example_answer_files_parse(folder):
    """Every example answers.toml is valid TOML, except the one that must not be."""
    import tomllib

    text = (SUBMISSIONS / folder / "answers.toml").read_text(encoding="utf-8")
    if folder == "fall2023-bad-answers":
        with pytest.raises(tomllib.TOMLDecodeError):
            tomllib.loads(text)
    else:
        assert tomllib.loads(text)["assignment"] == "fall2023"


SPRING_VARIANTS = """
assignment = "spring2023"

[1a]
loss = "norm(X@w - y, 1)"
X = "n x d"
w = "d"
y = "n x 1"

[1b]
closed_form = false

[1c]
reflection = ""

[2a]
box = "h*step(x) - h*step(x + delta)"

[2b]
approximation = "sum_k(f(c_k)*(step(x - c_k) - step(x - c_k - delta)))"

[2c]
boxes = "(2*B/delta)**d"

[2d]
conclusion = "Wide enough networks approximate anything."

[3]
jacobian_ij = "y_i*(delta_ij - y_j)"
"""


def test_spring_variants_and_mistakes(tmp_path):
    student = tmp_path / "spring-variants"
    student.mkdir()
    (student / "answers.toml").write_text(SPRING_VARIANTS, encoding="utf-8")
    output = tmp_path / "variants.json"
    modules = [str(ROOT / "checks" / name) for name in THEORY_MODULES["spring2023"]]
    command = [
        sys.executable, "-m", "pytest", *modules, "-p", "no:cacheprovider", "-q",
        "--submission", str(student), "--results-json", str(output),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    results = {r.part: r for r in GradeRecord.from_dict(json.loads(output.read_text())).results}
    assert results["1a"].status == "passed"  # "d" is the column d x 1
    assert (results["1b"].status, results["1b"].points) == ("partial", 2.0)
    assert results["1b"].message == "[1b] reason: give a reason for your answer"
    assert results["1c"].status == "manual" and results["1c"].message == "[1c] reflection is empty"
    assert results["2a"].status == "failed"
    assert results["2a"].message.startswith("[2a] box: with h = ")
    assert results["2b"].status == "passed"  # left endpoints converge too
    assert results["2c"].status == "passed"
    assert results["2c"].details["matched"] == "(2B/delta)^d"
    assert results["3"].status == "passed" and results["3"].details["form"] == "index"


@pytest.mark.parametrize(
    ("section", "answer", "message"),
    [
        ("2b", "f(x)", "[2b] approximation: build it from sum_k(...) and step(...)"),
        ("2b", "sum_k(f(c_k)*step(x - c_k))", "[2b] approximation: the max error"),
        ("2c", "B/delta*d", "[2c] boxes: at B = "),
        ("3", 'jacobian = "diag(y) - outer(y, z)"', "[3] jacobian: at z = "),
    ],
)
def test_spring_wrong_answers(section, answer, message, tmp_path):
    keys = {"2b": "approximation", "2c": "boxes"}
    body = answer if section == "3" else f'{keys[section]} = "{answer}"'
    student = tmp_path / "spring-wrong"
    student.mkdir()
    (student / "answers.toml").write_text(f'assignment = "spring2023"\n[{section}]\n{body}\n')
    output = tmp_path / "wrong.json"
    module = {
        "2b": "test_universal_approx.py",
        "2c": "test_universal_approx.py",
        "3": "test_softmax_jacobian.py",
    }
    command = [
        sys.executable, "-m", "pytest", str(ROOT / "checks" / module[section]), "-p", "no:cacheprovider",
        "-q", "--submission", str(student), "--results-json", str(output),
    ]  # fmt: skip
    subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    results = {r.part: r for r in GradeRecord.from_dict(json.loads(output.read_text())).results}
    assert (results[section].status, results[section].points) == ("failed", 0.0)
    assert results[section].message.startswith(message), results[section].message
