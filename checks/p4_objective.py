"""Does the training loss fit what the network outputs? (cross-entropy, as the assignment asks)

A network may end in its last Linear layer (logits, for CrossEntropyLoss),
in LogSoftmax (for NLLLoss; CrossEntropyLoss on log-probabilities is still
cross-entropy) or in Softmax (only with the log taken before NLLLoss). The
loss comes from the loss objects in the globals and the training code.
"""

from __future__ import annotations

import re

from checks import p4_values as read
from dlgrade.engine import NotebookRun
from dlgrade.engine.notebooks import MalformedSource, load_notebook


def loss_kinds(values: dict, run: NotebookRun, cells: set[int]) -> set[str]:
    """'cross-entropy', 'nll', or other loss class names the training code uses."""
    kinds = set()
    for loss in read.records(values, "losses", "the notebook's loss functions"):
        name = read.text(loss, "type")
        if name:
            kinds.add({"CrossEntropyLoss": "cross-entropy", "NLLLoss": "nll"}.get(name, name))
    code = code_of(run, cells)
    if re.search(r"CrossEntropyLoss|\bcross_entropy\s*\(", code):
        kinds.add("cross-entropy")
    if re.search(r"NLLLoss|\bnll_loss\s*\(", code):
        kinds.add("nll")
    return kinds


def code_of(run: NotebookRun, cells: set[int]) -> str:
    try:
        notebook = load_notebook(run.source.path)
    except (MalformedSource, OSError):
        return ""
    return "\n".join(
        c.source
        for i, c in enumerate(notebook.cells)
        if c.cell_type == "code" and (not cells or i in cells)
    )


def loss_problem(output: str, kinds: set[str], code: str) -> str | None:
    """Why the training loss does not fit the network's output form (None when it does)."""
    if output == "probabilities" and "cross-entropy" in kinds:
        return (
            "the network ends with a softmax and is trained with CrossEntropyLoss, which applies "
            "softmax again (softmax applied twice): the loss is not the cross-entropy of the "
            "network's probabilities; end with the last Linear layer (or use LogSoftmax with NLLLoss)"
        )
    if output == "probabilities" and "nll" in kinds and not re.search(r"\blog\s*\(", code):
        return (
            "the network ends with a softmax and is trained with NLLLoss, which expects "
            "log-probabilities: take the log (LogSoftmax) before NLLLoss"
        )
    if output == "logits" and kinds == {"nll"}:
        return (
            "the network outputs raw scores (logits) but is trained with NLLLoss, which expects "
            "log-probabilities: add LogSoftmax or use CrossEntropyLoss"
        )
    return None
