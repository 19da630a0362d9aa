"""Functions the student bundle's stand-in reference implements itself.

They hold no answer: reordering stored weights, flattening a sample, and the
residuals of a fit (the net's outputs at the data points minus the data). Their
source is copied into the stand-in modules, where `Params`, `N_PARAMS` and
`DataPoints` are the stand-in's own; the imports here only serve this file.
"""

from __future__ import annotations

import numpy as np

from reference.numpy_backprop import Orientation, Params
from reference.relu_fit import N_PARAMS, DataPoints


def orient(params: Params, orientation: Orientation) -> Params:
    """The network with its weights stored as (n_in, n_out) or (n_out, n_in)."""
    if orientation not in ("in_out", "out_in"):
        raise ValueError(f"orientation must be 'in_out' or 'out_in', got {orientation!r}")
    if orientation == params.orientation:
        return params
    flipped = tuple(np.ascontiguousarray(np.transpose(weight)) for weight in params.weights)
    return Params(flipped, params.biases, orientation)


def as_input(sample: np.ndarray, scale: bool = False) -> np.ndarray:
    """A flat float64 copy of one sample, pixels over 255 when `scale`."""
    flat = np.array(sample, dtype=np.float64).ravel()
    return flat / 255.0 if scale else flat


def residuals(theta: np.ndarray, dataset: DataPoints) -> np.ndarray:
    """Output minus target at each data point, for the 4-unit ReLU net with parameters theta."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.shape != (N_PARAMS,):
        raise ValueError(f"theta must have {N_PARAMS} entries, got shape {theta.shape}")
    xs = np.asarray(dataset.x, dtype=np.float64)
    units = np.maximum(xs[:, None] * theta[0:4] + theta[4:8], 0.0)
    return units @ theta[8:12] + theta[12] - np.asarray(dataset.y, dtype=np.float64)


class DataPointsMethods:
    """What checks call on a relu_fit.DataPoints (the stand-in's record type has these)."""

    def arrays(self: DataPoints) -> tuple[np.ndarray, np.ndarray]:
        return np.array(self.x, dtype=np.float64), np.array(self.y, dtype=np.float64)
