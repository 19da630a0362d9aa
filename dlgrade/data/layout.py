"""Names and shapes shared by the cache, the fetchers and provisioning."""

from __future__ import annotations

from typing import Literal

DatasetName = Literal["mnist", "fashion-mnist"]
DATASET_NAMES: tuple[DatasetName, ...] = ("mnist", "fashion-mnist")

SPLITS: tuple[str, ...] = ("x_train", "y_train", "x_test", "y_test")

# Full shapes of the four cache arrays (identical for both datasets).
FULL_SHAPES: dict[str, tuple[int, ...]] = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}

# The original IDX file names; torchvision's `_check_exists` tests exactly these
# (its `resources` minus the `.gz`) under ROOT/<class name>/raw/.
IDX_FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

# torchvision's dataset class name per dataset: it is the folder it reads.
TORCHVISION_FOLDERS: dict[DatasetName, str] = {
    "mnist": "MNIST",
    "fashion-mnist": "FashionMNIST",
}

# Keras' `mnist.load_data(path="mnist.npz")` reads $HOME/.keras/datasets/mnist.npz.
KERAS_MNIST = (".keras", "datasets", "mnist.npz")


def split_limit(split: str, train_limit: int | None, test_limit: int | None) -> int | None:
    """The sample limit that applies to `split` ("x_train", "y_test", ...)."""
    return train_limit if split.endswith("_train") else test_limit


def idx_shape(split: str) -> tuple[int | None, ...]:
    """The IDX shape a split must have, with any number of samples."""
    return (None, *FULL_SHAPES[split][1:])


def check_name(name: str) -> DatasetName:
    """Return `name` if it is a known dataset, else raise ValueError listing them."""
    if name not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASET_NAMES)}")
    return name  # type: ignore[return-value]
