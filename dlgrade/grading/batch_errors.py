"""How a batch stops short: it cannot start (`BatchError`), or OUT's disk is full
(`OutFull`), which is no student's error: those not yet written get no grade.json, so
the resumed run, after space is freed, grades them."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from pathlib import Path

from dlgrade.data.atomic import write_bytes_atomic
from dlgrade.records import GradeRecord

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
SPACE_PROBE_BYTES = 256 << 10  # room a student's files need; less free space is a full OUT


class BatchError(Exception):
    """The batch cannot start (no submissions, unknown student, bad folder)."""


class OutFull(Exception):
    """OUT's disk (or quota) is full: nothing more can be written there this run.

    Raised instead of writing an error record, so that every student not yet
    written has no grade.json and the resumed run, after space is freed, grades them.
    """

    def __init__(self, error: OSError, graded: Sequence[GradeRecord] = ()) -> None:
        super().__init__(str(error))
        self.error = error
        self.graded = list(graded)  # the records written before the disk filled


def disk_full(err: BaseException) -> bool:
    """Whether `err` (or what caused it) is a write refused for want of space."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in FULL_ERRNOS:
            return True
        err = err.__cause__ or err.__context__
    return False


def out_full(out: Path) -> OSError | None:
    """The error writing a probe of a student's size into OUT gives, when OUT is full.

    A grading process that fails for want of space often cannot even log why,
    so an error record is checked against OUT itself before it is written.
    """
    try:
        write_bytes_atomic(out / ".space-probe", bytes(SPACE_PROBE_BYTES), fsync=False)
        (out / ".space-probe").unlink()
    except OSError as err:
        if disk_full(err):
            return err
    return None
