# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_tools/p5_state preludes are injected
"""Problem 5, Q4: did the notebook train to the end? If not (or the TA asks), train here.

The watch (p5_watch) kept the weights after each of the notebook's own
epochs and left its counters on the wrapped functions. Only when the notebook
never trained, its training did not finish, or `retrain` is set does this
probe run the student's train_one_epoch 3 times from the grader's start,
called as the notebook's own call calls it (p5_binding's `as_called`: its
arguments evaluated in the notebook's globals, its result assigned to the
same names), plainly when no call of the notebook's can be reproduced.

It also emits the first rows of every array shaped like MNIST images
((N, 784) or (N, 28, 28), any name): the grader reads from them how the
notebook scaled its inputs.
"""


def _dlgrade_probe():
    tools, namespace, found = _dlgrade_p5_begin(["train_one_epoch"])
    _dlgrade_p5_inputs(tools, namespace)  # how the notebook holds its inputs (scaled or not)
    training = tools.training_state(namespace)
    if training is not None:
        _dlgrade_emit("training", {k: training[k] for k in ("epochs", "started", "failed")})
    if found is None:
        return
    if bool(_dlgrade_inputs["retrain"]):
        reason = "the grader was asked to re-train (--retrain)"
    elif training is None or training["started"] == 0:
        reason = "no call of train_one_epoch was seen in the notebook"
    elif training["failed"] or training["epochs"] < training["started"]:
        reason = f"the notebook's training did not finish ({training['failed'] or 'interrupted'})"
    else:
        _dlgrade_emit("decision", "notebook")
        return
    _dlgrade_emit("decision", "retrain")
    _dlgrade_emit("reason", reason)
    epoch, assigned = tools.as_called(namespace, "train_one_epoch", found)
    _dlgrade_p5_probed_loads()  # what earlier probes' calls loaded is not this training's
    with (
        _dlgrade_p5_state(tools, namespace, found) as set_state,
        tools.keeping(namespace, assigned),
    ):
        set_state()
        for number in range(3):
            _, error = _dlgrade_p5_call(epoch)
            loaded = _dlgrade_p5_probed_loads()
            if loaded:
                _dlgrade_emit(f"loads{number}", loaded)
            if error is not None:
                _dlgrade_emit("error", f"epoch {number + 1}: " + _dlgrade_p5_error(error))
                return
            arrays, error = _dlgrade_p5_call(tools.read, namespace, found)
            if error is not None:
                _dlgrade_emit("error", "reading the weights back: " + _dlgrade_p5_error(error))
                return
            for i, array in enumerate(arrays):
                _dlgrade_emit(f"e{number}_{'w' if i < 3 else 'b'}{i % 3}", array)


def _dlgrade_p5_inputs(tools, namespace):
    """Emit `inputs` (names) and `input<i>_head` (first 8 rows, flat, float64) of up to 8
    arrays shaped like MNIST images."""
    import numpy as np

    names = []
    for name, value in list(namespace.items()):
        if str(name).startswith("_") or not isinstance(value, np.ndarray):
            continue
        shape = value.shape
        images = len(shape) in (2, 3) and shape[1:] in ((784,), (28, 28)) and shape[0] >= 8
        if images and value.dtype.kind in "biuf" and len(names) < 8:
            head = tools.as_float(value[:8]).reshape(8, 784)
            _dlgrade_emit(f"input{len(names)}_head", head)
            names.append(str(name)[:100])
    _dlgrade_emit("inputs", names)


def _dlgrade_p5_probed_loads():
    """Loader calls the student's code made while this probe ran (see _dlgrade_shim.loads)."""
    try:
        from _dlgrade_shim import loads
    except ImportError:  # a kernel without the grader's shim records none
        return []
    return loads.drain(probed=True)


_dlgrade_probe()
