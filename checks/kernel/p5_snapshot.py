# ruff: noqa: F821 -- _dlgrade_emit is injected by the engine
"""Problem 5, Q1: `weights` and `biases` right after the cell that defines them."""


def _dlgrade_probe():
    import numpy as np

    for name in ("weights", "biases"):
        value = globals().get(name)
        _dlgrade_emit(name + "_type", type(value).__name__)
        if isinstance(value, list | tuple):
            _dlgrade_emit(name + "_count", len(value))
            for i, array in enumerate(value[:10]):
                _dlgrade_emit(f"{name}_{i}", np.array(array, dtype=np.float64))


_dlgrade_probe()
