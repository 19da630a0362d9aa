# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_state prelude are injected
"""Problem 5, Q4: the student's own train_one_epoch, 3 times from the grader's start."""


def _dlgrade_probe():
    import numpy as np

    _dlgrade_emit("x_train_max", float(np.max(np.asarray(globals()["x_train"][:200]))))
    _dlgrade_set_state()
    for epoch in range(3):
        train_one_epoch()
        weights, biases = _dlgrade_read_state()
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            _dlgrade_emit(f"e{epoch}_w{i}", w)
            _dlgrade_emit(f"e{epoch}_b{i}", b)


_dlgrade_probe()
