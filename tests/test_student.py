"""`import dlgrade.student as grader; grader.check(...)` inside a student's notebook.

The kernel tests execute shipped example notebooks in a real Jupyter kernel
(nbclient) with extra cells calling the grader, and assert on what the cells
display. The kernel is the student's environment: it finds MNIST where Keras
keeps it (~/.keras/datasets/mnist.npz, 2000 training images so the notebook's
own training takes seconds) and imports `tensorflow` from the harness's
stand-in, as a student with TensorFlow would. The in-process tests call
`check` with a namespace, which is how it works outside IPython.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

import dlgrade.student as grader
from dlgrade.autograder.build import harness_paths
from dlgrade.data import provision
from dlgrade.engine.sandbox import SHIM_DIR
from dlgrade.student.live import FIGURES_SKIP, preserved
from reference import fashion_mlp

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "submissions" / "examples"


def run_in_kernel(
    notebook: Path, extra: list[str], tmp: Path, cache: Path, first: str = ""
) -> list[dict]:
    """Execute `notebook` plus `extra` cells in a fresh kernel; the extra cells' outputs.

    `first` becomes the notebook's first cell (where a student imports the grader).
    """
    nb = nbformat.read(notebook, as_version=4)
    if first:
        nb.cells.insert(0, nbformat.v4.new_code_cell(first))
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra]
    work = tmp / "work"  # the student's folder: the notebook only, no answers.toml
    work.mkdir()
    home = tmp / "home"
    provision(home, data_dir=cache, train_limit=2000, test_limit=1000)
    path = os.pathsep.join([str(REPO), str(SHIM_DIR), str(SHIM_DIR / "standins")])
    env = dict(os.environ, HOME=str(home), PYTHONPATH=path, DLGRADE_DATA=str(cache))
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    )
    client.execute(env=env)
    return [cell.outputs for cell in nb.cells[-len(extra) :]]


def shown(outputs: list) -> tuple[str, str]:
    """(text/html, text/plain or stream text) of one cell's outputs."""
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    text = "".join(o.get("data", {}).get("text/plain", "") or o.get("text", "") for o in outputs)
    return html, text


@pytest.mark.slow
def test_check_in_a_kernel_passes_correct_backprop_and_leaves_the_state_alone(tmp_path, cache):
    cells = [
        '_before = [w.copy() for w in weights]\ngrader.check("5-q3")',
        "grader.check_all()",
        "print('unchanged:', all((a == b).all() for a, b in zip(_before, weights)))",
    ]
    one, every, after = run_in_kernel(
        EXAMPLES / "fall2023-full-marks" / "dlf23_hw1_prob5.ipynb",
        cells,
        tmp_path,
        cache,
        first="import dlgrade.student as grader",
    )
    html, text = shown(one)
    assert "<table" in html and "5-q3" in html and "14/14" in html and "passed" in html
    assert "1 of 1 part(s) pass" in text
    html, text = shown(every)
    rows = {line.split()[0]: line for line in text.splitlines() if line[:2] == "5-"}
    assert list(rows) == ["5-q1", "5-q2", "5-q3", "5-q4"]  # this notebook's problem, nothing else
    # Q1 judges the initial weights: recorded when their cell ran, though training has
    # changed them since (the notebook trains 3 epochs before these cells).
    assert "6/6" in rows["5-q1"] and "passed" in rows["5-q1"]
    # the p5_weights watch kept the first complete weight set after In [4], the init cell
    assert "weights as initialised (after cell 4, in `weights` and `biases`)" in text
    assert "<table" in html
    assert shown(after)[1].strip() == "unchanged: True"  # probes put the student's weights back


@pytest.mark.slow
def test_imported_after_training_q1_is_judged_now_and_says_so(tmp_path, cache):
    cells = ['import dlgrade.student as grader\ngrader.check("5-q1")']
    (outputs,) = run_in_kernel(
        EXAMPLES / "fall2023-full-marks" / "dlf23_hw1_prob5.ipynb", cells, tmp_path, cache
    )
    text = shown(outputs)[1]
    assert "0/6" in text and "standard deviation" in text  # trained weights are not the init
    assert "run all cells first, and rerun a cell whose values later cells changed" in text


@pytest.mark.slow
def test_check_in_a_kernel_names_the_mistake(tmp_path, cache):
    cells = ['import dlgrade.student as grader\ngrader.check("5-q3")']
    (outputs,) = run_in_kernel(
        EXAMPLES / "fall2023-dsigmoid-twice" / "dlf23_hw1_prob5.ipynb", cells, tmp_path, cache
    )
    html, text = shown(outputs)
    assert "0/14" in text and "failed" in text
    assert "sigmoid derivative is applied to the activation" in html
    assert "run all cells first" in text  # a failing notebook part says what it judged


@pytest.mark.slow
def test_check_in_a_kernel_reads_the_p3_fits_from_the_kernel(tmp_path, cache):
    cells = ['import dlgrade.student as grader\ngrader.check("3a-1")', 'grader.check("3a-2")']
    first, second = run_in_kernel(
        EXAMPLES / "fall2023-misread-dataset2" / "HW1P3.ipynb", cells, tmp_path, cache
    )
    assert "4/4" in shown(first)[1] and "passed" in shown(first)[1]
    text = shown(second)[1]
    assert "0/4" in text and "slope is 0.5" in text


def _reference_model(hidden: tuple[int, ...] = (256, 128, 64)) -> torch.nn.Module:
    torch.manual_seed(0)
    sizes = (784, *hidden, 10)
    layers: list[torch.nn.Module] = [torch.nn.Flatten()]
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def test_figure_parts_say_they_need_dlgrade_check_and_model_parts_are_judged(
    tmp_path, monkeypatch, cache, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DLGRADE_DATA", str(cache))
    namespace = {"model": _reference_model(), "train_losses": [1.0, 0.5], "test_losses": [1.1, 0.6]}
    figure = grader.check("4-probs", namespace=namespace, assignment="fall2023")
    assert [r.status for r in figure.results] == ["skipped"]
    assert figure.results[0].message == FIGURES_SKIP
    assert "dlgrade check" in capsys.readouterr().out  # printed: no IPython here
    assert grader.check("4-arch", namespace=namespace, assignment="fall2023").passed
    namespace["model"] = _reference_model((128, 64, 32))
    wrong = grader.check("4-arch", namespace=namespace, assignment="fall2023")
    assert wrong.results[0].status == "failed"
    assert "784 -> 256 -> 128 -> 64 -> 10" in wrong.results[0].message
    assert fashion_mlp.LAYER_SIZES == (784, 256, 128, 64, 10)


def test_hidden_parts_are_never_run_or_shown_and_manual_parts_are_not_checked(
    tmp_path, monkeypatch
):
    import reference.assignments as manifests

    real = manifests.load_assignment

    def with_hidden(assignment_id: str):
        manifest = real(assignment_id)
        parts = tuple(
            replace(p, visibility="hidden") if p.id == "5-q3" else p for p in manifest.parts
        )
        return replace(manifest, parts=parts)

    monkeypatch.setattr(manifests, "load_assignment", with_hidden)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError) as unknown:
        grader.check("5-q3", namespace={}, assignment="fall2023")
    assert "no part '5-q3'" in str(unknown.value) and "5-q2" in str(unknown.value)
    assert "5-q3" not in str(unknown.value).split("check:")[1]  # not listed either
    every = grader.check_all(problems=("p5",), namespace={}, assignment="fall2023")
    assert [r.part for r in every.results] == ["5-q1", "5-q2", "5-q4"]  # nothing defined: fail
    assert all(r.status == "failed" for r in every.results)
    manual = grader.check("2c", namespace={}, assignment="fall2023")
    assert manual.results == () and "graded by a TA" in manual.notes[0]


def test_check_all_without_problem_code_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report = grader.check_all(namespace={"In": ["", "x = 1"]}, assignment="fall2023")
    assert report.results == () and "run your cells first" in report.notes[0]


def test_preserved_puts_back_names_contents_random_states_and_modes():
    generator = np.random.default_rng(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2))
    losses = [1.0]
    namespace = {"weights": [np.zeros(2)], "losses": losses, "rng": generator, "model": model}
    expected_draw = np.random.default_rng(1).random()
    random.seed(5)
    np.random.seed(5)
    state = (random.getstate(), np.random.get_state())
    with preserved(namespace):
        namespace["weights"] = [np.ones(2)]
        namespace["helper"] = 1
        losses.append(0.5)
        generator.random()
        random.random(), np.random.random()
        model.eval()
    assert namespace["weights"][0].sum() == 0 and "helper" not in namespace
    assert namespace["losses"] is losses and losses == [1.0]
    assert generator.random() == expected_draw
    assert model.training
    assert random.getstate() == state[0] and np.array_equal(np.random.get_state()[1], state[1][1])


@pytest.mark.slow
def test_works_from_an_installed_wheel_without_the_repository(tmp_path, cache):
    """`pip install dlgrade-*.whl` offline (--no-index), then check from plain Python."""
    wheels, target, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    source = tmp_path / "source"  # a copy: building in place would leave build/ in the checkout
    for relative in harness_paths(REPO):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / relative, source / relative)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    build = [*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run([*build, "-w", str(wheels)], check=True, timeout=600, cwd=tmp_path)
    (wheel,) = wheels.glob("dlgrade-*.whl")
    install = [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, timeout=300)
    work.mkdir()
    script = (
        "import nbformat, dlgrade.student as grader, checks\n"
        f"assert checks.__file__.startswith({str(target)!r}), checks.__file__\n"
        f"nb = nbformat.read({str(EXAMPLES / 'fall2023-misread-dataset2' / 'HW1P3.ipynb')!r}, 4)\n"
        "ns = {}\n"
        "for cell in nb.cells:\n"
        "    if cell.cell_type == 'code':\n"
        "        exec(cell.source, ns)\n"
        "grader.check('3a-2', namespace=ns, assignment='fall2023')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(target), DLGRADE_DATA=str(cache))
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "3a-2" in done.stdout and "0/4" in done.stdout and "slope is 0.5" in done.stdout
