# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_tools prelude are injected
"""Problem 5 probe prelude: run the student's functions on the grader's parameters, then undo.

The grader sends (n_in, n_out) weights `w0..w2` and biases `b0..b2`;
`_dlgrade_p5_state` stores them where the notebook keeps its own weights (see
p5_tools), in its orientation and bias shape, and restores the notebook's
state afterwards: a probe may run before later cells of a combined notebook.
Student errors are findings, reported as values; only the grader's own code
may raise out of a probe.
"""

import contextlib as _dlgrade_contextlib


def _dlgrade_p5_begin(needed):
    """(tools, namespace, holder) after emitting the holder and which `needed` names are missing;
    holder is None when the probe cannot go on."""
    tools, namespace = _dlgrade_p5_tools(), globals()
    found = tools.find(namespace)
    missing = [name for name in needed if not callable(namespace.get(name))]
    _dlgrade_emit("holder", found)
    _dlgrade_emit("missing", missing)
    return tools, namespace, (None if missing else found)


@_dlgrade_contextlib.contextmanager
def _dlgrade_p5_state(tools, namespace, found):
    """Yields set_state(prefix=""), which (re)sets the grader's parameters `{prefix}w0..b2`;
    restores the notebook's own state on exit."""
    saved = tools.save(namespace, found)
    training = tools.training_state(namespace)
    was_probing = training.get("probing") if training else None
    if training is not None:
        training["probing"] = True  # the watch's counters ignore the grader's calls

    def set_state(prefix=""):
        weights = [_dlgrade_inputs[f"{prefix}w{i}"] for i in range(3)]
        biases = [_dlgrade_inputs[f"{prefix}b{i}"] for i in range(3)]
        tools.write(namespace, found, weights, biases)

    try:
        yield set_state
    finally:
        tools.restore(namespace, saved)
        if training is not None:
            training["probing"] = was_probing


def _dlgrade_p5_call(function, *args, **kwargs):
    """(result, None), or (None, the exception) when the student's code raised."""
    try:
        return function(*args, **kwargs), None
    except (Exception, SystemExit) as err:  # the student's error (exit() too) is the finding
        return None, err


def _dlgrade_p5_error(err):
    return f"{type(err).__name__}: {err}"[:500]


def _dlgrade_p5_plain(value):
    """A returned value as something _dlgrade_emit accepts; other objects as their repr.

    A number is taken by its C value (np.float64), so a float subclass whose __eq__ or
    __repr__ lies (or a patched builtins.float) cannot change what the grader sees.
    """
    import numpy as np

    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    # The types of literals: the names `float` and `int` may have been replaced in builtins.
    real_int, real_float, real_str = type(0), type(0.0), type("")  # noqa: UP003
    if isinstance(value, np.ndarray):
        return value if value.dtype.kind in "biuf" else repr(value)[:200]
    if value is None or value is True or value is False or isinstance(value, real_str):
        return value
    if isinstance(value, np.generic | real_int | real_float):
        return np.float64(value)
    try:
        return np.asarray(value, dtype=np.float64)  # a list of numbers, say
    except (TypeError, ValueError):
        return repr(value)[:200]
