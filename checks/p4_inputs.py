"""The student's input preprocessing, recovered from what their pipeline really produced.

Students scale and normalise FashionMNIST in many ways: ToTensor, a torchvision
Normalize, a lambda transform, `(x - mean) / std` inside the training loop,
raw 0-255 tensors, flattened rows. Their network was trained on whatever that
pipeline produced, so the grader measures accuracy through the same
preprocessing. Every one of these is an affine map of the raw pixels,
x = scale * pixel + shift, so the grader recovers it numerically: it matches
input rows the student's pipeline produced (what the first Linear layer
received during training, or items drawn from the student's datasets)
against the raw images, and fits scale and shift by least squares. A pipeline
that is not one affine map (random augmentation, per-image standardisation)
is reported as not inferred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MATCH_CORRELATION = 0.9999  # an affine copy of a raw image correlates at 1 up to float32 error
FIT_TOLERANCE = 1e-3  # largest residual, relative to the largest value
CHUNK = 10_000


@dataclass(frozen=True)
class Preprocessing:
    """x = scale * pixel + shift for pixels 0..255, flattened to 784 values per image."""

    scale: float
    shift: float
    source: str  # where it was read, for the student ("the inputs the first layer saw ...")

    def apply(self, images: np.ndarray) -> np.ndarray:
        flat = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
        return flat * np.float32(self.scale) + np.float32(self.shift)

    def then(self, scale: float, shift: float) -> Preprocessing:
        """This preprocessing followed by another affine map (one inside the model)."""
        return Preprocessing(self.scale * scale, self.shift * scale + shift, self.source)

    def describe(self) -> str:
        return describe(self.scale, self.shift)


def describe(scale: float, shift: float) -> str:
    """'pixels / 255 (values in [0, 1])', 'raw pixels 0-255', 'pixels / 255, then (x - 0.5) / 0.5'."""
    if np.isclose(scale, 1.0, rtol=1e-4) and abs(shift) < 1e-4:
        return "raw pixel values 0-255"
    if np.isclose(scale, 1 / 255, rtol=1e-4) and abs(shift) < 1e-6:
        return "pixels / 255 (values in [0, 1])"
    std = 1 / (255 * scale)
    mean = -shift * std
    return f"pixels / 255, then (x - {mean:.4g}) / {std:.4g}"


def fit_affine(samples: np.ndarray, raw: np.ndarray) -> tuple[float, float] | str:
    """(scale, shift) with samples = scale * matched raw image + shift, or why not.

    `samples` (k, 784) are input rows from the student's pipeline, `raw`
    (n, 784) the images those rows may come from (uint8).
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    if samples.shape[1] != raw.shape[1]:
        return f"the rows have {samples.shape[1]} values, not {raw.shape[1]}"
    varied = samples[samples.std(axis=1) > 0]
    if len(varied) == 0:
        return "every sampled row is constant"
    matches = best_matches(varied, raw)
    if any(m is None for m in matches):
        return "the rows are not an affine copy of any raw image (a random or per-image transform?)"
    pixels = raw[np.asarray(matches)].astype(np.float64).ravel()
    values = varied.ravel()
    design = np.stack([pixels, np.ones_like(pixels)], axis=1)
    (scale, shift), *_ = np.linalg.lstsq(design, values, rcond=None)
    residual = np.abs(values - (scale * pixels + shift)).max()
    if residual > FIT_TOLERANCE * max(1.0, float(np.abs(values).max())):
        return (
            "the rows match raw images, but not through one scale and shift for all of them "
            f"(residual {residual:.3g})"
        )
    return float(scale), float(shift)


def best_matches(samples: np.ndarray, raw: np.ndarray) -> list[int | None]:
    """For each row, the index of the raw image it is an affine copy of (None if none is)."""
    unit = _standardise(samples)
    best = np.full(len(samples), -1.0)
    where = np.zeros(len(samples), dtype=np.int64)
    for start in range(0, len(raw), CHUNK):
        block = _standardise(raw[start : start + CHUNK].astype(np.float32))
        scores = block @ unit.T.astype(np.float32)  # (chunk, k) correlations
        top = scores.argmax(axis=0)
        values = scores[top, np.arange(len(samples))]
        better = values > best
        best[better], where[better] = values[better], top[better] + start
    return [int(w) if b >= MATCH_CORRELATION else None for w, b in zip(where, best, strict=True)]


def _standardise(rows: np.ndarray) -> np.ndarray:
    centred = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return centred / np.where(norms > 0, norms, 1.0)


def internal_affine(first_input: np.ndarray | None, fed: np.ndarray) -> tuple[float, float] | None:
    """The affine map a model applies before its first Linear (usually none), or None.

    `fed` is what the probe gave the model (pixels / 255), `first_input` what
    the first Linear received.
    """
    if first_input is None or first_input.shape != fed.shape:
        return None
    x, y = fed.ravel().astype(np.float64), first_input.ravel()
    design = np.stack([x, np.ones_like(x)], axis=1)
    (scale, shift), *_ = np.linalg.lstsq(design, y, rcond=None)
    if np.abs(y - (scale * x + shift)).max() > FIT_TOLERANCE * max(1.0, float(np.abs(y).max())):
        return None
    return float(scale), float(shift)
