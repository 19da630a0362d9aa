"""Problem 4 (both editions): the FashionMNIST MLP, judged against `reference.fashion_mlp`.

The probe reads every network in the notebook: its Linear layers in call order,
the traced forward pass, and its outputs on fixed test images. A watch counts
optimizer steps and keeps what the first layer received. The grader

* grades the model the training loop optimised (and says which);
* rebuilds it and checks the rebuild reproduces the student's outputs: a
  784-256-128-64-10 ReLU network, ending in logits or, with a matching loss,
  LogSoftmax/Softmax;
* recovers the student's input preprocessing from what their pipeline
  produced and measures test accuracy itself, on the real test set, through
  that preprocessing (or, when it cannot be recovered, with the student's own
  test set, and says so); an interrupted or failed training run is named;
* finds the per-epoch losses in the data (any list, array, dict entry) or in
  the plotted lines, and the probability display by what the figures show.
"""

from __future__ import annotations

import pytest

from checks import p4_network as network
from checks import p4_values as read
from checks import weights_source
from checks.handoff import for_review, missing_data
from checks.notebook_runs import require_probe
from checks.p4_accuracy import Measured, measure, reported_problem
from checks.p4_comment import comment, figure_images, problem_cells
from checks.p4_figures import (
    ProbabilityFigure,
    measure_of,
    plotted_curves,
    printed_probabilities,
    probability_figures,
    probability_problems,
    role_of,
    scale_of,
)
from checks.p4_losses import Series, curve_series, loss_series, over_batches, plots
from checks.p4_objective import code_of, loss_kinds, loss_problem
from checks.p4_training import TrainingTrace, read_training
from checks.probes import P4_IMAGE_COUNT
from checks.scoring import CheckFailed, PartialCredit, not_graded, prerequisite_failed
from dlgrade.engine import NotebookRun
from dlgrade.engine.cells import cell_problem, why_undefined
from dlgrade.records import PartStatus

# Test accuracy: full credit at FULL or more, linear partial credit down to ZERO.
# Quick mode trains on 6000 images, so its band sits lower (an estimate only).
ACCURACY_BANDS = {False: (0.85, 0.75), True: (0.72, 0.60)}


@pytest.fixture(scope="session")
def p4(notebooks) -> NotebookRun:
    problem = notebooks.get("p4")
    if problem.run is None:
        prerequisite_failed(problem.reason, problem.status)
    return problem.run


@pytest.fixture(scope="session")
def p4_values(p4) -> dict:
    result = p4.probe("p4_model")
    if result.error and not result.values:
        require_probe(p4, result, "the model")
        prerequisite_failed(f"could not read the model from {p4.source.path.name}: {result.error}")
    return result.values


@pytest.fixture(scope="session")
def p4_cells(p4) -> set[int]:
    """The notebook cells of problem 4 (all of them unless the notebook holds others)."""
    return problem_cells(p4)[0]


@pytest.fixture(scope="session")
def p4_data(p4, p4_cells) -> None:
    """The parts that need the data go to a TA when the notebook read it from a file the
    grader cannot supply (checks.handoff); the network is judged all the same."""
    missing = missing_data(p4, p4_cells)
    if missing is not None:
        prerequisite_failed(for_review(missing), PartStatus.MANUAL)


@pytest.fixture(scope="session")
def trace(p4) -> TrainingTrace:
    return read_training(p4)


@pytest.fixture(scope="session")
def graded(p4, p4_values, trace) -> network.Choice:
    """The model the notebook trained (CheckFailed when there is none)."""
    found = network.candidates(p4_values)
    if not found:
        raise CheckFailed(
            "no torch.nn.Module with Linear layers was left in the notebook's globals "
            f"(keep the trained model in a variable such as `model`); {no_model_reason(p4)}"
        )
    return network.choose(found, trace.steps)


def no_model_reason(run: NotebookRun) -> str:
    clause = why_undefined(run, "model")
    if clause.startswith("no cell"):
        failed = [p for p in (cell_problem(c, run.cells) for c in run.cells) if p]
        return failed[0] if failed else "no cell of the notebook builds a network"
    return f"`model` is not defined because {clause}"


# --- 4-arch -------------------------------------------------------------------------


@pytest.mark.part("4-arch")
def test_architecture(p4, p4_values, p4_cells, graded, record):
    model = graded.candidate
    record.add("found", f"{graded.why}; forward pass: {model.ops_text()}")
    if model.error:
        raise CheckFailed(f"`{model.name}`: {model.error}")
    if model.shapes != network.expected_shapes():
        raise CheckFailed(
            f"`{model.name}` has Linear layers {model.layer_text()} (in the order the forward "
            f"pass calls them); expected {network.expected_text()}"
        )
    if model.outputs is None or model.outputs.shape != (P4_IMAGE_COUNT, 10):
        shape = None if model.outputs is None else model.outputs.shape
        raise CheckFailed(
            f"calling `{model.name}` on a batch of {P4_IMAGE_COUNT} test images did not give 10 "
            f"outputs per image (found shape {shape})"
        )
    rebuilt = network.rebuild(model)
    if rebuilt is None:
        raise CheckFailed(
            f"`{model.name}`'s outputs differ from a {network.expected_text()} network with ReLU "
            f"after each hidden layer; its forward pass: {model.ops_text()}"
        )
    wrong = [(k + 1, a) for k, a in enumerate(rebuilt.activations) if a != "relu"]
    if wrong:
        listed = ", ".join(f"{a} after Linear layer {k}" for k, a in wrong)
        raise CheckFailed(f"`{model.name}` uses {listed}; expected ReLU after each hidden layer")
    if rebuilt.output != "logits":
        record.add("note", f"the network outputs {rebuilt.output}")
    problem = loss_problem(
        rebuilt.output, loss_kinds(p4_values, p4, p4_cells), code_of(p4, p4_cells)
    )
    if problem:
        # The assignment asks for a network trained with cross-entropy.
        raise CheckFailed(f"the layers are right, but {problem}")


# --- 4-acc --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def measured(p4, p4_data, p4_values, trace, graded, quick) -> Measured:
    return measure(p4, p4_values, trace, graded, quick)


@pytest.mark.part("4-acc")
def test_test_accuracy(p4, p4_data, graded, measured, quick, grader, part, record):
    full, zero = ACCURACY_BANDS[quick]
    accuracy = measured.accuracy
    record.add("found", f"test accuracy {accuracy:.2%}, {measured.how}")
    concern = weights_source.report(
        [_loaded_model(p4, graded)], p4.source.path.name, grader.observe, record
    )
    credit = part.setting(weights_source.CREDIT_SETTING, 1.0)
    notes = []
    if measured.fallback:
        notes.append(f"fallback to the student's own test set: {measured.fallback}")
    if measured.note:
        notes.append(measured.note.message)
    if quick:
        notes.append("quick mode: the notebook trained on 6000 images, so this is an estimate")
    if notes:
        record.add("note", "; ".join(notes))
    if accuracy >= full:
        weights_source.apply_credit(concern, credit)
        return
    fraction = max(0.0, (accuracy - zero) / (full - zero))
    message = f"test accuracy {accuracy:.2%} ({measured.how}); full credit from {full:.0%}, partial credit from {zero:.0%}"
    if measured.note:
        message = f"{message}. {measured.note.message[0].upper()}{measured.note.message[1:]}"
        if measured.note.out_of_time:
            # the time limit kept the training from running: nothing to judge (SPEC: timeout)
            raise CheckFailed(message, PartStatus.TIMEOUT)
    if concern:
        message = f"{message}; {concern}"
        fraction = fraction * credit if credit < 1 else fraction
    raise PartialCredit(fraction, message) if fraction > 0 else CheckFailed(message)


def _loaded_model(run: NotebookRun, graded: network.Choice) -> weights_source.Concern | None:
    """The graded model's weights came from a file (torch.load, load_state_dict, np.load...)."""
    shapes = [tuple(s) for s in graded.candidate.shapes]
    loads = weights_source.weight_loads(weights_source.read_loads(run), shapes, None)
    return weights_source.loaded_concern(run, loads, f"`{graded.candidate.name}`'s weights")


# --- 4-curves -----------------------------------------------------------------------


@pytest.mark.part("4-curves")
def test_loss_curves(p4, p4_data, p4_values, p4_cells, record):
    curves = tuple(plotted_curves(p4.figures, p4_cells or None))
    train, test = loss_series(p4_values, curves)
    source = "the notebook's variables"
    if train is None and test is None:
        train, test = curve_series(curves)
        source = "the plotted lines"
    if train is None and test is None:
        names = ", ".join(sorted(read.series(p4_values))[:12]) or "none"
        batches = ", ".join(f"`{n}`" for n in over_batches(p4_values, curves))
        if batches:
            names += f"; {batches} is plotted over mini-batches, not one value per epoch"
        raise CheckFailed(
            "per-epoch train and test losses were not found, neither in a list, array or dict "
            "of one value per epoch nor in a plotted line over epochs (lists of numbers found: "
            f"{names}){failed_cells(p4, p4_cells)}"
        )
    found = [f"{role} loss: {s.describe()}" for role, s in (("train", train), ("test", test)) if s]
    shown = {
        role: s.source == "figure" or plots(s, curves, role) is not None
        for role, s in (("train", train), ("test", test))
        if s
    }
    record.add("found", f"from {source}: " + "; ".join(found))
    record.add("plot", _plot(train, test))
    if train is not None and not train.values[-1] < train.values[0]:
        raise CheckFailed(
            f"training loss does not fall: {train.describe()} goes from {train.values[0]:.4g} "
            f"to {train.values[-1]:.4g}"
        )
    missing = [role for role, s in (("train", train), ("test", test)) if s is None]
    if missing:
        accuracy = [n for n in read.series(p4_values) if accuracy_of(n, missing[0])]
        instead = (
            f" (`{accuracy[0]}` is an accuracy; the assignment asks for the {missing[0]} loss)"
            if accuracy
            else ""
        )
        raise PartialCredit(
            0.5, f"only one curve was found: no per-epoch {missing[0]} loss{instead}"
        )
    if not all(shown.values()):
        unplotted = " and ".join(role for role, ok in shown.items() if not ok)
        raise PartialCredit(
            0.5,
            f"the {unplotted} loss was found ({'; '.join(found)}), but no figure plots it over epochs",
        )


def accuracy_of(name: str, role: str) -> bool:
    return measure_of(name) == "accuracy" and role_of(name) == role


def _plot(train: Series | None, test: Series | None) -> dict:
    series = {
        f"{role}: {s.name}": list(s.values) for role, s in (("train", train), ("test", test)) if s
    }
    return {
        "title": "Loss per epoch (the student's own values)",
        "xlabel": "epoch",
        "ylabel": "loss",
        "series": series,
    }


# --- 4-probs ------------------------------------------------------------------------


@pytest.mark.part("4-probs")
def test_probability_figure(p4, p4_data, p4_cells, record):
    displays = probability_figures(p4.figures, p4_cells or None)
    if not displays or displays[0].shown == 0:
        printed = printed_probabilities(p4.cells, p4_cells)
        text = (
            f"; the probabilities were only printed as text ({printed}), but the assignment asks "
            "for a figure"
            if printed
            else ""
        )
        raise CheckFailed(
            "no figure shows test images with their predicted class probabilities "
            f"({len(p4.figures)} figure(s) recorded); draw 3 test images, each with a bar chart "
            f"of its softmax probabilities over the 10 classes{text}{failed_cells(p4, p4_cells)}"
        )
    best: ProbabilityFigure = displays[0]
    scales = {scale_of(d.values) for d in best.distributions} - {None}
    record.add(
        "found",
        f"{best.where()}: {best.images} test image(s) and {len(best.distributions)} distribution(s) "
        f"over the 10 classes ({', '.join(sorted({d.kind for d in best.distributions}))}"
        + (f"; {', '.join(sorted(scales))}" if scales else "")
        + ")",
    )
    if best.shown_valid < min(3, best.shown):
        k, dist = next(
            (k, d) for k, d in enumerate(best.distributions) if probability_problems(d.values)
        )
        raise CheckFailed(
            f"the values drawn for image {k + 1} ({best.where()}) are not probabilities: "
            f"{' and '.join(probability_problems(dist.values))}. These look like raw model "
            "outputs (logits); apply softmax before plotting"
        )
    if best.shown_valid < 3:
        raise PartialCredit(
            best.shown_valid / 3,
            f"{best.where()} shows {best.shown_valid} test image(s) with their probabilities; "
            "expected 3",
        )


def failed_cells(run: NotebookRun, cells: set[int]) -> str:
    """'; cell 8 (`...`) raised SyntaxError: …' for the problem's cells that did not run cleanly."""
    problems = [cell_problem(c, run.cells) for c in run.cells if not cells or c.index in cells]
    problems = [p for p in problems if p]
    return "; " + "; ".join(problems[:3]) if problems else ""


# --- 4-reported (spring) ------------------------------------------------------------


@pytest.mark.part(spring2023="4-reported")
def test_reported_accuracy(answers, part, measured, quick, record):
    if quick:
        not_graded("quick mode trains on a slice, so the reported accuracy cannot be compared")
    reported = answers.reported_test_accuracy(part.id)
    record.add("found", f"reported {reported:.2f} %, measured {measured.accuracy:.2%}")
    if measured.note and measured.note.kind == "interrupted":
        # SPEC: a part that cannot be judged because a limit cut the run short is `timeout`.
        raise CheckFailed(
            f"the reported accuracy cannot be compared: {measured.note.message}", PartStatus.TIMEOUT
        )
    problem = reported_problem(reported, measured)
    if problem:
        raise CheckFailed(problem)


# --- 4-comment ----------------------------------------------------------------------


@pytest.mark.part("4-comment")
def test_comment_for_review(p4, p4_cells, record):
    text, where = comment(p4, p4.figures)
    record.add("text", text or "(no markdown comment found in the problem-4 part of the notebook)")
    record.add("found", where)
    displays = probability_figures(p4.figures, p4_cells or None)
    first = displays[0].figures if displays else ()
    images = figure_images(p4.figures, p4_cells, first)
    if images:
        record.add("images", images)
    if not text:
        raise CheckFailed(f"{p4.source.path.name} has no markdown comment on the results ({where})")
