# ruff: noqa: F821 -- _dlgrade_inputs, _dlgrade_emit and the p5_state prelude are injected
"""Problem 5, Q2: feed_forward_sample on fixed weights and samples."""


def _dlgrade_probe():
    import numpy as np

    losses, guesses, errors = [], [], []
    for sample, label in zip(_dlgrade_inputs["samples"], _dlgrade_inputs["labels"], strict=True):
        _dlgrade_set_state()
        try:
            try:
                loss, guess = feed_forward_sample(sample, int(label))
            except (ValueError, IndexError):  # a function that wants a flat sample
                _dlgrade_set_state()
                loss, guess = feed_forward_sample(sample.reshape(-1), int(label))
            losses.append(float(loss))
            guesses.append(np.asarray(guess, dtype=np.float64).reshape(-1))
        except Exception as err:  # the student's error is the finding; report it
            errors.append(f"{type(err).__name__}: {err}"[:500])
            losses.append(float("nan"))
            guesses.append(np.full(10, np.nan))
    _dlgrade_emit("errors", errors)
    _dlgrade_emit("losses", np.array(losses))
    if all(g.shape == (10,) for g in guesses):
        _dlgrade_emit("guesses", np.stack(guesses))
    else:
        _dlgrade_emit("guess_shapes", [list(g.shape) for g in guesses])


_dlgrade_probe()
