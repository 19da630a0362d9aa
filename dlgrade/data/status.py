"""`status`: is each dataset cached, and does it match the published facts?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.data.errors import DataError
from dlgrade.data.layout import DATASET_NAMES, DatasetName
from dlgrade.data.store import cache_path, fix_command, load
from dlgrade.data.verify import FactCheck, check_facts, label_counts


@dataclass(frozen=True)
class DatasetStatus:
    """What `dlgrade data status` reports for one dataset."""

    name: str
    path: Path
    found: bool
    shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    train_counts: tuple[int, ...] = ()
    test_counts: tuple[int, ...] = ()
    checks: tuple[FactCheck, ...] = ()
    # Why the cache could not be used at all (missing, corrupt, wrong shape).
    error: str | None = None
    # The command that repairs a missing or failing cache.
    fix: str | None = None

    @property
    def ok(self) -> bool:
        """Found, readable, and every fact checks out."""
        return self.found and self.error is None and all(c.ok for c in self.checks)


def dataset_status(
    name: DatasetName, data_dir: Path | None = None, program: str = "dlgrade"
) -> DatasetStatus:
    """Load dataset `name` from the cache and verify it; `program` starts the fix command."""
    path = cache_path(name, data_dir)
    fix = fix_command(name, data_dir, program)
    if not path.is_file():
        return DatasetStatus(name, path, found=False, error="not cached", fix=fix)
    try:
        dataset = load(name, data_dir)
    except DataError as err:
        return DatasetStatus(name, path, found=True, error=str(err), fix=fix)
    checks = check_facts(dataset)
    return DatasetStatus(
        name=name,
        path=path,
        found=True,
        shapes={split: array.shape for split, array in dataset.arrays().items()},
        train_counts=label_counts(dataset.y_train),
        test_counts=label_counts(dataset.y_test),
        checks=checks,
        fix=None if all(c.ok for c in checks) else fix,
    )


def status(
    names: Sequence[DatasetName] = DATASET_NAMES,
    data_dir: Path | None = None,
    program: str = "dlgrade",
) -> list[DatasetStatus]:
    """`dataset_status` for each of `names`."""
    return [dataset_status(name, data_dir, program) for name in names]
