"""`dlgrade bundle student`: what students install holds no answers, and checks as the TA does.

The bundle is built for real (`pip wheel`), unzipped and searched for every
reference function's body and every hidden part id; then it is installed
offline into a scratch folder and `dlgrade check` runs from it on two example
submissions, with the same command from the repository as the TA's verdicts.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from dlgrade.bundle import build_student_bundle
from dlgrade.bundle.policy import REFERENCE_POLICIES
from dlgrade.bundle.visible import without_hidden_checks
from reference.assignments import load_assignment

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "submissions" / "examples"
PROBLEM_MODULES = sorted(REFERENCE_POLICIES)  # every module a manifest part may name
HIDDEN = "4-probs"  # the part a course hides in the second bundle
# Parts the bundle leaves to the TA on fall2023: the theory answers (checked for form only)
# and Q4, which measures the student's trained network with the reference's forward pass.
TA_ONLY = {"1a", "1b", "2a", "2b", "3b", "3c", "3d", "5-q4"}
# Problem 4 needs only the assignment's constants, but its training is the slowest part
# and the heaviest on memory; the parts compared are those that use the reference.
PROBLEMS = "1,2,3,5"
ROW = re.compile(
    r"^(?P<part>\S+)\s+(?P<points>[\d.-]+/[\d.]+)\s+(?P<status>[A-Za-z]+)\s*(?P<msg>.*)$"
)


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlgrade", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory, cache) -> Path:
    """`dlgrade bundle student --assignment fall2023 --out DIR`, from the command line."""
    out = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ, DLGRADE_DATA=str(cache))
    done = run_cli(["bundle", "student", "--assignment", "fall2023", "--out", str(out)], env, out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def built_with_hidden(tmp_path_factory, cache) -> Path:
    """The same edition with one part hidden, as a course's manifest may say."""
    out = tmp_path_factory.mktemp("hidden")
    manifest = load_assignment("fall2023")
    parts = tuple(replace(p, visibility="hidden") if p.id == HIDDEN else p for p in manifest.parts)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLGRADE_DATA", str(cache))
        bundle = build_student_bundle(replace(manifest, parts=parts), out)
    return bundle.wheel


def the_wheel(out: Path) -> Path:
    (wheel,) = out.glob("dlgrade-*+fall2023-py3-none-any.whl")
    return wheel


def unzipped(wheel: Path, target: Path) -> dict[str, str]:
    """Every file of the wheel, as text (binary files byte for byte, as latin-1)."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return {
        path.relative_to(target).as_posix(): path.read_bytes().decode("latin-1")
        for path in target.rglob("*")
        if path.is_file()
    }


def reference_bodies() -> dict[str, tuple[str, str]]:
    """'module.function' -> (its body's text without whitespace, its body's AST dump),
    for every function of every problem's reference module, docstrings left out."""
    bodies = {}
    for name in PROBLEM_MODULES:
        source = (REPO / "reference" / f"{name}.py").read_text("utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None else node.body
            if not body:
                continue
            text = "\n".join(lines[body[0].lineno - 1 : body[-1].end_lineno])
            dump = ast.dump(ast.Module(body=body, type_ignores=[]))
            bodies[f"{name}.{node.name}"] = (re.sub(r"\s+", "", text), dump)
    return bodies


def leaks(files: dict[str, str], bodies: dict[str, tuple[str, str]]) -> set[str]:
    """The reference functions whose body appears in `files` (as text or as code)."""
    squeezed = {path: re.sub(r"\s+", "", text) for path, text in files.items()}
    dumps = set()
    for path, text in files.items():
        if path.endswith(".py"):
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef):
                    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
                    dumps.add(ast.dump(ast.Module(body=body, type_ignores=[])))
    found = set()
    for function, (text, dump) in bodies.items():
        # Short bodies ("return z") are too common to mean a copy as text; the AST still counts.
        if len(text) >= 40 and any(text in content for content in squeezed.values()):
            found.add(function)
        if dump in dumps:
            found.add(function)
    return found


@pytest.mark.slow
def test_the_bundle_holds_no_reference_function_and_no_hidden_part(
    built, built_with_hidden, tmp_path
):
    bodies = reference_bodies()
    assert len(bodies) > 40  # every function of the seven problems' references
    # The search finds what it looks for: in the repository's own reference folder, all of it.
    own = {f"{n}.py": (REPO / "reference" / f"{n}.py").read_text("utf-8") for n in PROBLEM_MODULES}
    assert leaks(own, bodies) == set(bodies)

    files = unzipped(the_wheel(built), tmp_path / "plain")
    assert leaks(files, bodies) == set()
    assert not [p for p in files if p.split("/")[0] in ("submissions", "tests", "docs")]
    assert not [p for p in files if p.startswith(("dlgrade/bundle/", "dlgrade/autograder/"))]
    assert [p for p in files if p.endswith(".ipynb")] == [
        "reference/starter/hw1_prob5_starter.ipynb"
    ]
    assert "reference/_tables/numpy_backprop.pickle" in files
    assert HIDDEN in files["checks/test_fashion_mlp.py"]  # visible here: the control

    hidden = unzipped(built_with_hidden, tmp_path / "hidden")
    assert leaks(hidden, bodies) == set()
    assert [p for p, text in hidden.items() if HIDDEN in text] == []
    assert "def test_probability_figure" not in hidden["checks/test_fashion_mlp.py"]
    assert "def test_loss_curves" in hidden["checks/test_fashion_mlp.py"]


def test_a_hidden_check_is_cut_out_with_its_decorators_and_comments():
    source = inspect.cleandoc(
        '''
        import pytest

        # --- 9z ---
        @pytest.mark.slow
        @pytest.mark.part(fall2023="9z", spring2023="1a")
        def test_hidden(answers):
            """Graded after the deadline."""
            assert answers


        @pytest.mark.part("9y")
        def test_visible(answers):
            assert answers
        '''
    )
    cut = without_hidden_checks(source, "fall2023", ("9z",))
    assert "9z" not in cut and "test_hidden" not in cut and "mark.slow" not in cut
    assert "def test_visible" in cut and '@pytest.mark.part("9y")' in cut
    # In another edition the same function grades a visible part: it stays.
    assert "def test_hidden" in without_hidden_checks(source, "spring2023", ("9z",))


def test_a_hidden_parts_expected_values_stay_out_of_the_tables(cache, monkeypatch):
    """Q3's expected updates are in the table when 5-q3 is visible, and only then."""
    from checks.offline import call_key
    from checks.probes import p5_samples
    from dlgrade.bundle.tables import build_tables
    from reference import numpy_backprop as ref

    monkeypatch.setenv("DLGRADE_DATA", str(cache))
    parts = {p.id for p in load_assignment("fall2023").parts}
    samples, labels = p5_samples()
    start = ref.orient(ref.init_params(), "out_in")
    q3 = call_key("step", (start, samples[1] / 255.0 * 1.0, int(labels[1])), {})
    q2 = call_key("feed_forward_sample", (ref.init_params(), samples[0] * 1.0, int(labels[0])), {})
    every = build_tables(parts)["numpy_backprop"]
    assert q3 in every and q2 in every
    without = build_tables(parts - {"5-q3"})["numpy_backprop"]
    assert q3 not in without and q2 in without
    assert not [
        k
        for k, v in without.items()
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], ref.Params)
    ]  # no step of any kind


def test_the_action_installs_the_bundle_not_the_harness(built):
    action = (built / "action" / "action.yml").read_text("utf-8")
    assert '"$GITHUB_ACTION_PATH"/dlgrade-*.whl' in action
    assert "-e " not in action and "/.." not in action
    wheel = the_wheel(built)
    assert (built / "action" / wheel.name).read_bytes() == wheel.read_bytes()
    assert os.access(built / "action" / "self-check.sh", os.X_OK)


def test_an_unknown_assignment_is_refused_and_nothing_is_written(tmp_path):
    out = tmp_path / "out"
    done = run_cli(
        ["bundle", "student", "--assignment", "fall1999", "--out", str(out)],
        {**os.environ},
        tmp_path,
    )
    assert done.returncode == 2
    assert "fall1999" in done.stderr and "fall2023" in done.stderr
    assert not out.exists()


def verdicts(output: str) -> dict[str, tuple[str, str, str]]:
    """part -> (points, status, message) from `dlgrade check`'s table."""
    rows = {}
    for line in output.split("\npart", 1)[1].split("\n\n", 1)[0].splitlines()[2:]:
        match = ROW.match(line)
        assert match, line
        rows[match["part"]] = (match["points"], match["status"].lower(), match["msg"])
    return rows


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    """The wheel installed offline into a folder of its own (its dependencies: this venv's)."""
    site = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    install = [*pip, "--no-deps", "--no-index", "--target", str(site), str(the_wheel(built))]
    subprocess.run(install, check=True, timeout=300)
    return site


@pytest.mark.slow
@pytest.mark.parametrize("example", ["fall2023-full-marks", "fall2023-dsigmoid-twice"])
def test_dlgrade_check_from_the_bundle_gives_the_graders_verdicts(
    example, installed, cache, tmp_path
):
    folders = {side: tmp_path / side / example for side in ("bundle", "grader")}
    for folder in folders.values():
        shutil.copytree(EXAMPLES / example, folder)
    args = ["check", "--quick", "--problems", PROBLEMS, "--assignment", "fall2023"]
    env = dict(os.environ, DLGRADE_DATA=str(cache))
    student = dict(env, PYTHONPATH=str(installed))
    bundle_run = run_cli([*args, str(folders["bundle"])], student, tmp_path)
    grader_run = run_cli([*args, str(folders["grader"])], env, REPO)
    ours, theirs = verdicts(bundle_run.stdout), verdicts(grader_run.stdout)
    assert set(ours) == set(theirs) and theirs, (bundle_run.stdout, grader_run.stdout)
    for part, (points, status, message) in ours.items():
        if part in TA_ONLY:
            assert status == "skipped" and message.startswith("checked by the TA"), part
            # not judged here, so neither scored nor lost: "-/6" where the grader says "6/6"
            assert points == "-/" + theirs[part][0].split("/")[1], (part, points)
            assert theirs[part][1] != "skipped"  # the grader judged it
        else:
            assert (points, status) == theirs[part][:2], (part, ours[part], theirs[part])
    # The total a student reads: what was judged here, apart from what the TA checks
    # (the parts left to it here, and those graded by hand).
    ta_parts = [part for part, row in ours.items() if part in TA_ONLY or row[1] == "manual"]
    ta_points = sum(float(ours[part][0].split("/")[1]) for part in ta_parts)
    told = f"checked by the TA: {ta_points:g} points ({', '.join(ta_parts)})"
    assert f"; {told}" in bundle_run.stdout, bundle_run.stdout
    assert "judged here" not in grader_run.stdout and "\ntotal " in grader_run.stdout
    if example == "fall2023-full-marks":  # full marks read as full marks, not 59/100
        assert re.search(r"judged here: ([\d.]+)/\1;", bundle_run.stdout), bundle_run.stdout
    if example == "fall2023-dsigmoid-twice":  # the mistake is found on the student's machine
        assert ours["5-q3"][:2] == ("0/14", "failed")
        assert "differs from correct backprop" in ours["5-q3"][2]


@pytest.mark.slow
def test_grader_check_in_plain_python_from_the_bundle(installed, cache, tmp_path):
    """In-notebook checks from the installed bundle: a fit part judged, a theory part left."""
    script = (
        "import nbformat, dlgrade.student as grader, checks, reference\n"
        f"assert checks.__file__.startswith({str(installed)!r}), checks.__file__\n"
        f"assert reference.__file__.startswith({str(installed)!r}), reference.__file__\n"
        f"nb = nbformat.read({str(EXAMPLES / 'fall2023-misread-dataset2' / 'HW1P3.ipynb')!r}, 4)\n"
        "ns = {}\n"
        "for cell in nb.cells:\n"
        "    if cell.cell_type == 'code':\n"
        "        exec(cell.source, ns)\n"
        "grader.check('3a-2', namespace=ns, assignment='fall2023')\n"
        "grader.check('3c', namespace=ns, assignment='fall2023')\n"
    )
    shutil.copy2(EXAMPLES / "fall2023-full-marks" / "answers.toml", tmp_path)
    env = dict(os.environ, PYTHONPATH=str(installed), DLGRADE_DATA=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    fit, theory = done.stdout.split("3c", 1)
    assert "3a-2" in fit and "0/4" in fit and "failed" in fit and "slope is 0.5" in fit
    assert "skipped" in theory and "checked by the TA" in theory


FORM_PARTS = ("1a", "1b", "2a", "2b", "3c", "3d")


def with_answers(folder: Path, changes: dict[str, str]) -> None:
    """The full-marks answers.toml in `folder`, with some lines replaced (old -> new)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLES / "fall2023-full-marks" / "answers.toml").read_text("utf-8")
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    (folder / "answers.toml").write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_theory_answers_are_checked_for_form_only_on_a_students_machine(
    installed, cache, tmp_path, monkeypatch
):
    """A malformed answer (an unknown symbol, a size that is not rows x columns, a list of
    the wrong length) fails there as in the grader; a well-formed one, right or wrong,
    is left to the TA."""
    import dlgrade.student as grader

    folder = tmp_path / "work"
    with_answers(
        folder,
        {
            'gradient = "2*x"': 'gradient = "2*z"',  # 1a: z is no symbol of this question
            'mu = "sum_i(x_i)/n"': 'mu = "sum_i(x_i)"',  # 1b: wrong, but well formed
            'X = "n x d"': 'X = "n x d x 3"',  # 2a: a size must be rows x columns
            "grad_f = [0, ": "grad_f = [1, 0, ",  # 3d: 14 numbers for 13 parameters
        },
    )
    script = (
        "import dlgrade.student as grader\n"
        f"for part in {FORM_PARTS!r}:\n"
        "    for r in grader.check(part, namespace={}, assignment='fall2023').results:\n"
        "        print('VERDICT', r.part, r.status, r.message.splitlines()[0])\n"
    )
    env = dict(os.environ, PYTHONPATH=str(installed), DLGRADE_DATA=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ours = {
        line.split()[1]: (line.split()[2], line.split(" ", 3)[3])
        for line in done.stdout.splitlines()
        if line.startswith("VERDICT")
    }
    monkeypatch.chdir(folder)
    theirs = {
        r.part: (r.status, r.message)
        for part in FORM_PARTS
        for r in grader.check(part, namespace={}, assignment="fall2023").results
    }
    malformed = {"1a", "2a", "3d"}
    for part in FORM_PARTS:
        status, message = ours[part]
        if part in malformed:  # the same verdict as the grader's, for the same reason
            assert status == str(theirs[part][0]) and status in ("failed", "malformed"), part
            assert message == theirs[part][1].splitlines()[0], part
        else:
            assert status == "skipped" and message.startswith("checked by the TA"), part
    assert str(theirs["1b"][0]) == "failed"  # the grader judges the value: x_i is not the mean
    assert "z" in ours["1a"][1] and "n x d x 3" in ours["2a"][1] and "13" in ours["3d"][1]
