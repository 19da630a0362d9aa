"""Running the cells of a notebook: each cell's result, its time limits, a kernel that dies or is tampered with.

`CellSteps` holds the methods of runner._Session that run cells and decide how a
run stopped; the state they read and write (cells, notes, stopped, ...) is the
session's.
"""

from __future__ import annotations

import math
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from dlgrade import progress
from dlgrade.engine.kernel import CappedClient, KernelInterference, recover, wait_dead
from dlgrade.engine.records import CellResult
from dlgrade.engine.run_notes import ERROR_NOTES, cell_text, first_line
from dlgrade.records import KERNEL_INTERFERENCE as INTERFERED
from dlgrade.records import ObservationKind


class CellSteps:
    """The cell-running steps of a notebook session (mixed into runner._Session)."""

    async def _cells(self, client: CappedClient) -> None:
        deadline = time.monotonic() + self.config.notebook_timeout_s
        for index, cell in enumerate(self.notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.monotonic()
            if not self.stopped and remaining <= 0:
                self._out_of_time(f"before cell {index + 1}")
            if self.stopped:
                self.cells.append(CellResult(index, "skipped", first_line=first_line(cell)))
                continue
            await self._cell(client, cell, index, remaining)
            assert self.figures is not None
            self.figures.read_new(index)
            if self.kernel_alive:
                await self._after_cell(client, index)

    def _out_of_time(self, when: str) -> None:
        self.timed_out = True
        self.stopped = ObservationKind.TIMEOUT
        self.notes.append(
            (
                ObservationKind.TIMEOUT,
                f"notebook time limit ({self.config.notebook_timeout_s:g}s) reached {when}; "
                "later cells were not run, the grader read the state the finished cells left",
            )
        )

    async def _cell(
        self, client: CappedClient, cell: NotebookNode, index: int, remaining: float
    ) -> None:
        limit = min(self.config.cell_timeout_s, remaining)
        client.timeout = max(1, math.ceil(limit))
        started = time.monotonic()
        # Named for the launcher, which can only read files once it has killed us.
        progress.note_cell(self.source.path.name, index, first_line(cell))
        try:
            await client.async_execute_cell(cell, index)
        except CellTimeoutError:
            self.cells.append(self._timeout_result(client, cell, index, limit, started))
            recovered = await self._interrupt(client, f"cell {index + 1}")
            if recovered and limit < self.config.cell_timeout_s:
                self._out_of_time(f"during cell {index + 1}")
            return
        except DeadKernelError:
            self.cells.append(
                CellResult(
                    index,
                    "error",
                    "KernelDied",
                    "the kernel died",
                    client.meter.per_cell.get(index, 0),
                    "",
                    first_line(cell),
                    time.monotonic() - started,
                )  # fmt: skip
            )
            await self._died(client, f"during cell {index + 1}")
            return
        except KernelInterference as err:
            self.cells.append(
                CellResult(
                    index,
                    "error",
                    "KernelInterference",
                    INTERFERED,
                    0,
                    cell_text(cell),
                    first_line(cell),
                    time.monotonic() - started,
                )  # fmt: skip
            )
            self._interfered(client, f"during cell {index + 1}", err)
            return
        self.cells.append(self._cell_result(client, cell, index, time.monotonic() - started))

    def _cell_result(
        self, client: CappedClient, cell: NotebookNode, index: int, duration: float
    ) -> CellResult:
        reply = client.replies.get(index, {})
        size = client.meter.per_cell.get(index, 0)
        text, first = cell_text(cell), first_line(cell)
        if reply.get("status") != "error":
            return CellResult(index, "ok", None, None, size, text, first, duration)
        name, value = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))[:2000]
        kind, message = ERROR_NOTES.get(name, (None, ""))
        if kind is None and "File too large" in value:
            kind, message = (
                ObservationKind.FILE_SIZE_LIMIT,
                "wrote a file over the size cap ({max_file_bytes} bytes)",
            )
        if kind is not None:
            self.notes.append((kind, f"cell {index + 1} " + message.format(**vars(self.config))))
        return CellResult(index, "error", name, value, size, text, first, duration)

    def _timeout_result(
        self, client: CappedClient, cell: NotebookNode, index: int, limit: float, started: float
    ) -> CellResult:
        self.timed_out = True
        self.notes.append(
            (
                ObservationKind.TIMEOUT,
                f"cell {index + 1} ran longer than {limit:.0f}s and was interrupted",
            )
        )
        size = client.meter.per_cell.get(index, 0)
        return CellResult(
            index, "timeout", "TimeoutError", f"cell exceeded {limit:.0f}s", size,
            cell_text(cell), first_line(cell), time.monotonic() - started,
        )  # fmt: skip

    async def _interrupt(self, client: CappedClient, what: str) -> bool:
        """Interrupt; True when the kernel answers again, else it is killed."""
        try:
            answered = await recover(client, self.config.interrupt_grace_s)
        except DeadKernelError:
            await self._died(client, f"after {what} was interrupted")
            return False
        except KernelInterference as err:
            self._interfered(client, f"after {what} was interrupted", err)
            return False
        if not answered:
            client.km.kill_group()
            self.stopped = ObservationKind.KERNEL_KILLED
            self.notes.append(
                (
                    ObservationKind.KERNEL_KILLED,
                    f"{what}: the kernel was killed (time limit); later cells were not run",
                )
            )
        return answered

    async def _died(self, client: CappedClient, when: str) -> None:
        code = await wait_dead(client)
        self.stopped = ObservationKind.KERNEL_DIED
        self.notes.append(
            (
                ObservationKind.KERNEL_DIED,
                f"the kernel died {when} (exit status {code}); later cells were not run",
            )
        )

    def _interfered(self, client: CappedClient, when: str, err: KernelInterference) -> None:
        """Stop a kernel whose messages cannot be trusted any more; name the tampering."""
        client.km.kill_group()
        self.stopped = ObservationKind.INTERFERED
        self.notes.append(
            (ObservationKind.INTERFERED, f"{INTERFERED} {when} ({err}); later cells were not run")
        )
