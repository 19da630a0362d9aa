# ruff: noqa: F821 -- _dlgrade_emit is injected by the engine
"""Problem 3a: every 13-number parameter vector the notebook leaves in its globals."""


def _dlgrade_probe():
    import numpy as np

    found = {}
    for name, value in list(globals().items()):
        if name.startswith("_") or callable(value) or isinstance(value, str | bytes | dict):
            continue
        try:  # lists, tuples, numpy arrays and tensors of 13 numbers all qualify
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError, RuntimeError):
            continue  # not numeric: not a parameter vector
        if array.size == 13 and array.ndim <= 2:
            found[name] = array.reshape(13)
    _dlgrade_emit("names", sorted(found)[:50])
    for name in sorted(found)[:50]:
        _dlgrade_emit("theta_" + name, found[name])


_dlgrade_probe()
