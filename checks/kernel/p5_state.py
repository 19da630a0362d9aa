# ruff: noqa: F821 -- _dlgrade_inputs is injected by the engine
"""Problem 5 prelude: put the grader's fixed parameters into the student's globals.

The grader sends (n_in, n_out) weights `w0..w2` and biases `b0..b2`; they are
stored in the orientation and bias shape the student's own `weights` and
`biases` use, so the student's functions run on known numbers.
"""


def _dlgrade_set_state(prefix=""):
    import numpy as np

    mine_w, mine_b = globals()["weights"], globals()["biases"]
    # The first layer is not square, so its shape tells the orientation of all three.
    transpose = np.shape(mine_w[0]) == _dlgrade_inputs[f"{prefix}w0"].T.shape
    new_w, new_b = [], []
    for i in range(3):
        w = np.array(_dlgrade_inputs[f"{prefix}w{i}"], dtype=np.float64)
        b = np.array(_dlgrade_inputs[f"{prefix}b{i}"], dtype=np.float64)
        if transpose:
            w = w.T.copy()
        new_w.append(w)
        new_b.append(b.reshape(np.shape(mine_b[i])) if np.size(mine_b[i]) == b.size else b)
    globals()["weights"], globals()["biases"] = new_w, new_b


def _dlgrade_read_state():
    import numpy as np

    return (
        [np.array(w, dtype=np.float64) for w in globals()["weights"]],
        [np.array(b, dtype=np.float64) for b in globals()["biases"]],
    )
