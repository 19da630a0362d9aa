"""Datasets for the harness: cache, fetch, verification and provisioning.

    from dlgrade.data import load
    mnist = load("mnist")          # Dataset(name, x_train, y_train, x_test, y_test)

See docs/DESIGN.md ("Datasets") for the contract.
"""

from dlgrade.data.errors import DataError
from dlgrade.data.fetch import FetchResult, fetch
from dlgrade.data.layout import DATASET_NAMES, DatasetName
from dlgrade.data.provision import provision
from dlgrade.data.status import DatasetStatus, status
from dlgrade.data.store import Dataset, cache_path, data_dir, load
from dlgrade.data.verify import FactCheck

__all__ = [
    "DATASET_NAMES",
    "DataError",
    "Dataset",
    "DatasetName",
    "DatasetStatus",
    "FactCheck",
    "FetchResult",
    "cache_path",
    "data_dir",
    "fetch",
    "load",
    "provision",
    "status",
]
