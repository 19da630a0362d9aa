"""Compare a loaded dataset against its published facts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from dlgrade.data.facts import KnownFacts, known_facts
from dlgrade.data.idx import idx_header
from dlgrade.data.layout import IDX_FILES, check_name
from dlgrade.data.store import Dataset

# Pixel statistics are published to 4 decimals.
_STAT_TOLERANCE = 5e-5 + 1e-9


@dataclass(frozen=True)
class FactCheck:
    """One verified fact: what was expected, what the data shows."""

    name: str
    expected: str
    found: str
    ok: bool


def label_counts(labels: np.ndarray) -> tuple[int, ...]:
    """Samples per class 0-9."""
    return tuple(int(n) for n in np.bincount(labels.ravel(), minlength=10)[:10])


def pixel_stats(images: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the pixels scaled to [0, 1].

    Computed from the 256-bin histogram: exact, and avoids a float64 copy of
    the 47 million training pixels.
    """
    counts = np.bincount(images.ravel(), minlength=256).astype(np.float64)
    values = np.arange(counts.size) / 255.0
    total = counts.sum()
    mean = float(counts @ values / total)
    var = float(counts @ (values - mean) ** 2 / total)
    return mean, var**0.5


def idx_md5(array: np.ndarray) -> str:
    """md5 of `array` encoded as an uncompressed IDX file."""
    digest = hashlib.md5(idx_header(array.dtype, array.shape))
    digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def check_facts(dataset: Dataset) -> tuple[FactCheck, ...]:
    """Every published fact about `dataset.name`, checked against `dataset`."""
    facts = known_facts(check_name(dataset.name))
    return (
        *_label_checks(dataset, facts),
        *_pixel_checks(dataset, facts),
        *_checksum_checks(dataset, facts),
    )


def _label_checks(dataset: Dataset, facts: KnownFacts) -> list[FactCheck]:
    pairs = [
        ("train label counts", facts.train_counts, label_counts(dataset.y_train)),
        ("test label counts", facts.test_counts, label_counts(dataset.y_test)),
        (
            "first train labels",
            facts.first_train_labels,
            tuple(int(v) for v in dataset.y_train[: len(facts.first_train_labels)]),
        ),
        (
            "first test labels",
            facts.first_test_labels,
            tuple(int(v) for v in dataset.y_test[: len(facts.first_test_labels)]),
        ),
    ]
    return [
        FactCheck(name, _join(expected), _join(found), expected == found)
        for name, expected, found in pairs
    ]


def _pixel_checks(dataset: Dataset, facts: KnownFacts) -> list[FactCheck]:
    mean, std = pixel_stats(dataset.x_train)
    return [
        FactCheck(
            "train pixel mean",
            f"{facts.pixel_mean:.4f}",
            f"{mean:.4f}",
            abs(mean - facts.pixel_mean) <= _STAT_TOLERANCE,
        ),
        FactCheck(
            "train pixel std",
            f"{facts.pixel_std:.4f}",
            f"{std:.4f}",
            abs(std - facts.pixel_std) <= _STAT_TOLERANCE,
        ),
    ]


def _checksum_checks(dataset: Dataset, facts: KnownFacts) -> list[FactCheck]:
    arrays = dataset.arrays()
    checks = []
    for split, expected in facts.idx_md5:
        found = idx_md5(arrays[split])
        checks.append(FactCheck(f"md5 of {IDX_FILES[split]}", expected, found, found == expected))
    return checks


def _join(values: tuple[int, ...]) -> str:
    return " ".join(str(v) for v in values)
