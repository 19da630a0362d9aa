"""Sandbox settings: limits, data slicing and the isolation mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlgrade.engine.isolation import MODES, Isolation

# Quick mode trains on slices so a whole class grades in minutes.
QUICK_TRAIN_LIMIT = 6000
QUICK_TEST_LIMIT = 1000


@dataclass(frozen=True)
class SandboxConfig:
    """Limits and options for one notebook run (immutable, shareable)."""

    cell_timeout_s: float = 600
    notebook_timeout_s: float = 1800
    # Each grader probe or watch call (they read values; some re-run student code).
    probe_timeout_s: float = 900
    memory_mb: int = 6144
    max_processes: int = 256
    max_output_bytes: int = 1_000_000
    max_file_bytes: int = 1 << 30
    quick: bool = False
    train_limit: int | None = None
    test_limit: int | None = None
    data_dir: Path | None = None
    isolation: Isolation = "bwrap"  # see dlgrade.engine.isolation; never chosen for you
    allow_gpu: bool = True
    # Serve torchvision MNIST/FashionMNIST batches decoded in one step (bit-identical values;
    # see the shim's decoded.py). Off: torchvision's per-image PIL path, for comparison.
    decoded_datasets: bool = True
    # Seconds a timed-out cell gets to react to the interrupt before the kernel is killed.
    interrupt_grace_s: float = 5.0
    # Caps on what the grader reads back from the sandbox.
    max_probe_bytes: int = 256 << 20
    max_figure_log_bytes: int = 16 << 20
    max_history_bytes: int = 256 << 20

    def __post_init__(self) -> None:
        for name in (
            "cell_timeout_s",
            "notebook_timeout_s",
            "probe_timeout_s",
            "memory_mb",
            "max_processes",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"SandboxConfig.{name} must be positive, got {getattr(self, name)}"
                )
        if self.isolation not in MODES:
            raise ValueError(
                f"SandboxConfig.isolation must be one of {', '.join(MODES)}, not {self.isolation!r}"
            )

    @property
    def effective_train_limit(self) -> int | None:
        """The training-set slice: explicit limit, else the quick default, else all."""
        if self.train_limit is not None:
            return self.train_limit
        return QUICK_TRAIN_LIMIT if self.quick else None

    @property
    def effective_test_limit(self) -> int | None:
        if self.test_limit is not None:
            return self.test_limit
        return QUICK_TEST_LIMIT if self.quick else None
