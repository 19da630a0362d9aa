"""run_notebook: one source file, executed cell by cell in the sandbox, with probes."""

from __future__ import annotations

import atexit
import json
import math
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from dlgrade import deep_json, progress
from dlgrade.engine import probes as probe_code
from dlgrade.engine.config import SandboxConfig
from dlgrade.engine.errors import KernelStartError
from dlgrade.engine.figures import FigureLogReader
from dlgrade.engine.history import (
    HistoryReport,
    after_cell_call,
    check_watches,
    read_history,
    register_call,
)
from dlgrade.engine.kernel import (
    CappedClient,
    KernelInterference,
    SandboxKernelManager,
    recover,
    run_silent,
    wait_dead,
)
from dlgrade.engine.notebooks import MalformedSource, load_notebook
from dlgrade.engine.reaper import kill_uid, note_uid
from dlgrade.engine.records import CellResult, NotebookRun, Probe, ProbeResult, SourceFile, Watch
from dlgrade.engine.sandbox import Launch, build_launch
from dlgrade.engine.sections import cell_sections, early_probe_cells
from dlgrade.engine.values import read_probe_result
from dlgrade.engine.workspace import (
    DataUnavailable,
    RunDirs,
    copy_submission,
    data_root,
    link_data,
)
from dlgrade.records import KERNEL_INTERFERENCE as INTERFERED
from dlgrade.records import KERNEL_REPORTS, Observation, ObservationKind

MAX_REPORT_BYTES = 1 << 20
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours tracebacks
_ERROR_NOTES = {
    "MemoryError": (ObservationKind.MEMORY_LIMIT, "ran out of memory (cap {memory_mb} MB)"),
    "BlockingIOError": (
        ObservationKind.PROCESS_LIMIT,
        "could not start more processes (cap {max_processes})",
    ),
}


def run_notebook(
    source: SourceFile,
    probes: Sequence[Probe],
    config: SandboxConfig,
    workdir_from: Path | None = None,
    watches: Sequence[Watch] = (),
) -> NotebookRun:
    """Run `source` isolated, with limits and offline data; collect probes, figures, history.

    `workdir_from` is the folder copied as the working copy (default: the
    notebook's folder). `watches` run after every code cell (see Watch).
    Student failures are recorded in the result; only grader-side problems
    (bad probes or watches, a kernel that cannot start) raise.
    """
    started = time.monotonic()
    probe_code.check_probes(probes)
    check_watches(watches)
    try:
        notebook = load_notebook(source.path) if source.status == "ok" else None
    except MalformedSource as err:
        notebook, source = (
            None,
            SourceFile(
                source.path, source.kind, "malformed", source.problem_ids, str(err), source.tags
            ),
        )
    if notebook is None:
        reason = source.error or "malformed"
        return _unrun(source, probes, f"not run: {reason}", started)
    dirs = RunDirs.create()
    try:
        session = _Session(source, notebook, probes, config, dirs, tuple(watches))
        session.prepare(Path(workdir_from) if workdir_from else source.path.parent)
        run_sync(session.execute)()
        return session.result(time.monotonic() - started)
    finally:
        progress.clear_cell()
        dirs.remove()


def _unrun(source: SourceFile, probes: Sequence[Probe], why: str, started: float) -> NotebookRun:
    malformed = ObservationKind.MALFORMED
    return NotebookRun(
        source=source,
        status="malformed",
        cells=(),
        probes={p.name: ProbeResult(p.name, {}, why, stopped_by=malformed) for p in probes},
        observations=(Observation(source.path.name, malformed, why),),
        figures=(),
        isolation="",
        duration_s=time.monotonic() - started,
    )


@dataclass
class _Session:
    """The mutable progress of one run (lives for one run_notebook call)."""

    source: SourceFile
    notebook: NotebookNode
    probes: Sequence[Probe]
    config: SandboxConfig
    dirs: RunDirs
    watches: tuple[Watch, ...] = ()
    launch: Launch | None = None
    cells: list[CellResult] = field(default_factory=list)
    results: dict[str, ProbeResult] = field(default_factory=dict)
    notes: list[tuple[ObservationKind, str]] = field(default_factory=list)
    inputs: dict[str, Path | None] = field(default_factory=dict)
    # Why cells stopped running: KERNEL_DIED, KERNEL_KILLED or INTERFERED (the kernel
    # is gone), or TIMEOUT (the notebook's time is up but the kernel still answers,
    # so the probes still read the state the finished cells left).
    stopped: ObservationKind | None = None
    timed_out: bool = False
    figures: FigureLogReader | None = None
    truncated: bool = False
    early: dict[str, int] = field(default_factory=dict)  # probe name -> run after this cell

    @property
    def kernel_alive(self) -> bool:
        return self.stopped in (None, ObservationKind.TIMEOUT)

    def prepare(self, folder: Path) -> None:
        copy_submission(folder, self.dirs.work)
        try:
            relative = self.source.path.parent.resolve().relative_to(folder.resolve())
        except ValueError:
            relative = Path()
        data = None
        try:
            data = data_root(self.config)
            link_data(self.dirs.work, data)
        except DataUnavailable as err:
            self.notes.append(
                (ObservationKind.DATA_UNAVAILABLE, f"datasets not provisioned: {err}")
            )
        for index, probe in enumerate(self.probes):
            self.inputs[probe.name] = probe_code.write_inputs(
                probe, self.dirs.inputs / f"{index}.npz"
            )
        self.launch = build_launch(self.config, self.dirs, self.dirs.work / relative, data)
        if self.launch.uid is not None:
            note_uid(self.launch.uid)
            self.dirs.hand_over(self.launch.uid)
        if self.launch.isolation != "bubblewrap":
            self.notes.append((ObservationKind.ISOLATION_REDUCED, self.launch.isolation))
        self.figures = FigureLogReader(
            self.dirs.out / "figures.jsonl", self.config.max_figure_log_bytes
        )
        sections = cell_sections(self.notebook, self.source.problem_ids)
        last_cells = early_probe_cells(sections, {p.problem for p in self.probes if p.problem})
        self.early = {
            p.name: last_cells[p.problem]
            for p in self.probes
            if p.problem in last_cells and not p.after
        }

    async def execute(self) -> None:
        assert self.launch is not None
        km = SandboxKernelManager(
            launch_argv=self.launch.argv,
            sandbox_uid=-1 if self.launch.uid is None else self.launch.uid,
            transport="ipc",
            ip=str(self.dirs.conn / "kernel"),
            connection_file=str(self.dirs.conn / "kernel.json"),
        )
        client = CappedClient(
            self.notebook, km, self.config.max_output_bytes,
            timeout=math.ceil(self.config.cell_timeout_s), interrupt_on_timeout=False,
            allow_errors=True, shutdown_kernel="immediate", startup_timeout=60,
            iopub_timeout=4, raise_on_iopub_timeout=False, record_timing=False,
        )  # fmt: skip
        log_path = self.dirs.root / "kernel.log"
        entered = False
        with log_path.open("wb") as log:
            try:
                async with client.async_setup_kernel(
                    env=self.launch.env,
                    cwd=str(self.launch.cwd),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ):
                    entered = True
                    await self._register_watches(client)
                    try:
                        await self._cells(client)
                    except KernelInterference as err:  # in grader code between cells
                        self._interfered(client, "while the grader read values", err)
                    await self._final_probes(client)
            except (RuntimeError, TimeoutError) as err:
                if entered:
                    raise
                # nbclient registers this only to undo it on a clean exit.
                atexit.unregister(client._cleanup_kernel)
                raise KernelStartError(
                    f"the kernel did not start ({err}); its log:\n{_tail(log_path)}"
                ) from err
            finally:
                km.kill_group()
                if self.launch.uid is not None:
                    # Daemons the notebook double-forked out of the kernel's group, too.
                    kill_uid(self.launch.uid)
        self.truncated = client.meter.truncated

    async def _register_watches(self, client: CappedClient) -> None:
        if not self.watches:
            return
        content = await run_silent(client, register_call(self.watches), 60)
        if content is None or content.get("status") != "ok":
            raise KernelStartError(f"the kernel did not accept the watches: {content}")

    async def _cells(self, client: CappedClient) -> None:
        deadline = time.monotonic() + self.config.notebook_timeout_s
        for index, cell in enumerate(self.notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.monotonic()
            if not self.stopped and remaining <= 0:
                self._out_of_time(f"before cell {index + 1}")
            if self.stopped:
                self.cells.append(CellResult(index, "skipped", first_line=_first_line(cell)))
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
        progress.note_cell(self.source.path.name, index, _first_line(cell))
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
                    _first_line(cell),
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
                    _cell_text(cell),
                    _first_line(cell),
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
        text, first = _cell_text(cell), _first_line(cell)
        if reply.get("status") != "error":
            return CellResult(index, "ok", None, None, size, text, first, duration)
        name, value = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))[:2000]
        kind, message = _ERROR_NOTES.get(name, (None, ""))
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
            _cell_text(cell), _first_line(cell), time.monotonic() - started,
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

    async def _after_cell(self, client: CappedClient, index: int) -> None:
        """Watches first (they see the state the cell left), then due probes."""
        if self.watches:
            await self._run_watches(client, index)
        if not self.kernel_alive:
            return
        await self._triggered_probes(client)
        for probe in self.probes:
            due = self.early.get(probe.name) == index and probe.name not in self.results
            if due and self.kernel_alive:
                await self._probe(client, probe)

    async def _run_watches(self, client: CappedClient, index: int) -> None:
        code = after_cell_call(index, self.dirs.out)
        try:
            content = await run_silent(client, code, self.config.probe_timeout_s)
        except DeadKernelError:
            await self._died(client, f"while the grader read the state after cell {index + 1}")
            return
        except KernelInterference as err:
            self._interfered(client, f"while the grader read the state after cell {index + 1}", err)
            return
        if content is None:
            self.notes.append(
                (
                    ObservationKind.WATCH_TIMEOUT,
                    f"reading the state after cell {index + 1} took too long",
                )
            )
            await self._interrupt(client, f"reading the state after cell {index + 1}")

    async def _triggered_probes(self, client: CappedClient) -> None:
        waiting = [p for p in self.probes if p.after and p.name not in self.results]
        if not waiting:
            return
        names = sorted({name for p in waiting for name in p.after})
        expressions = {"defined": probe_code.trigger_expression(names)}
        try:
            content = await run_silent(client, "", self.config.probe_timeout_s, expressions)
        except DeadKernelError:
            await self._died(client, "while checking probe triggers")
            return
        except KernelInterference as err:
            self._interfered(client, "while the grader checked probe triggers", err)
            return
        defined = probe_code.parse_defined(content or {}, names)
        for probe in waiting:
            if set(probe.after) <= defined and self.kernel_alive:
                await self._probe(client, probe)

    async def _final_probes(self, client: CappedClient) -> None:
        for probe in self.probes:
            if probe.name in self.results:
                continue
            if not self.kernel_alive:
                reason = {
                    ObservationKind.KERNEL_DIED: "kernel died",
                    ObservationKind.INTERFERED: INTERFERED,
                }.get(self.stopped, "the kernel was killed (time limit)")
                # A kernel killed at a time limit leaves the part `timeout` (SPEC).
                killed = self.stopped == ObservationKind.KERNEL_KILLED
                stop = ObservationKind.TIMEOUT if killed else self.stopped
                self.results[probe.name] = ProbeResult(
                    probe.name, {}, f"not run: {reason}", stopped_by=stop
                )
            elif probe.after:
                missing = ", ".join(probe.after)
                self.results[probe.name] = ProbeResult(
                    probe.name, {}, f"not run: the notebook never defined all of: {missing}"
                )
            else:
                await self._probe(client, probe)
        assert self.figures is not None
        self.figures.read_new(None)

    async def _probe(self, client: CappedClient, probe: Probe) -> None:
        index = list(self.probes).index(probe)
        result_dir = self.dirs.out / "probes" / str(index)
        code = probe_code.kernel_call(probe, self.inputs.get(probe.name), result_dir)
        try:
            content = await run_silent(client, code, self.config.probe_timeout_s)
        except DeadKernelError:
            self.results[probe.name] = ProbeResult(
                probe.name,
                {},
                "kernel died while the probe ran",
                stopped_by=ObservationKind.KERNEL_DIED,
            )
            await self._died(client, f"during probe {probe.name!r}")
            return
        except KernelInterference as err:
            self.results[probe.name] = ProbeResult(
                probe.name, {}, f"not run: {INTERFERED}", stopped_by=ObservationKind.INTERFERED
            )
            self._interfered(client, f"during probe {probe.name!r}", err)
            return
        if content is None:
            self.results[probe.name] = ProbeResult(
                probe.name,
                {},
                f"probe timed out after {self.config.probe_timeout_s:g}s",
                stopped_by=ObservationKind.TIMEOUT,
            )
            await self._interrupt(client, f"probe {probe.name!r}")
        elif content.get("status") == "error":
            error = (
                f"probe could not run: {content.get('ename')}: {str(content.get('evalue'))[:500]}"
            )
            self.results[probe.name] = ProbeResult(probe.name, {}, error)
        else:
            self.results[probe.name] = read_probe_result(
                probe.name, result_dir, self.config.max_probe_bytes
            )

    def result(self, duration: float) -> NotebookRun:
        assert self.launch is not None and self.figures is not None
        notes = list(self.notes) + _kernel_reports(self.dirs.out / "observations.jsonl")
        if self.truncated:
            notes.append(
                (
                    ObservationKind.OUTPUT_TRUNCATED,
                    f"stored output capped at {self.config.max_output_bytes} bytes",
                )
            )
        if self.figures.capped or self.figures.invalid:
            notes.append(
                (
                    ObservationKind.FIGURE_LOG,
                    f"figure log capped or {self.figures.invalid} invalid entries dropped",
                )
            )
        history = read_history(
            self.dirs.out, [w.name for w in self.watches], self.config.max_history_bytes
        )
        notes += _history_notes(history)
        name = self.source.path.name
        return NotebookRun(
            source=self.source,
            status=self._status(),
            cells=tuple(self.cells),
            probes={p.name: self.results[p.name] for p in self.probes if p.name in self.results},
            observations=tuple(Observation(name, kind, message) for kind, message in notes),
            figures=tuple(self.figures.figures),
            isolation=self.launch.isolation,
            duration_s=duration,
            history=history.frozen(),
        )

    def _status(self) -> str:
        if self.stopped == ObservationKind.KERNEL_DIED:
            return "died"
        if self.stopped == ObservationKind.INTERFERED:
            return "interfered"
        if self.timed_out:
            return "timeout"
        return "errors" if any(c.status == "error" for c in self.cells) else "ok"


def _history_notes(history: HistoryReport) -> list[tuple[ObservationKind, str]]:
    notes = [
        (
            ObservationKind.WATCH_ERROR,
            f"the grader's watch {name!r} failed (please report): {error}",
        )
        for name, error in sorted(history.errors.items())
    ]
    notes += [
        (
            ObservationKind.HISTORY_CAPPED,
            f"watch {name!r} reached its size budget; later values were not kept",
        )
        for name in sorted(history.capped)
    ]
    if history.dropped:
        notes.append(
            (
                ObservationKind.HISTORY_INVALID,
                f"{history.dropped} malformed history entries dropped",
            )
        )
    return notes


def _first_line(cell: NotebookNode) -> str:
    for line in cell.source.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _cell_text(cell: NotebookNode) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return _ANSI.sub("", "".join(parts))


def _kernel_reports(path: Path) -> list[tuple[ObservationKind, str]]:
    """Observations the shim wrote: only known kinds, plain short text, capped size."""
    if not path.is_file():
        return []
    with path.open("rb") as handle:
        raw = handle.read(MAX_REPORT_BYTES)
    notes: list[tuple[ObservationKind, str]] = []
    for line in raw.splitlines():
        try:
            entry = deep_json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            continue  # torn or forged lines carry nothing we need
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("kind"), str)  # a forged list or dict is not hashable
            and entry["kind"] in KERNEL_REPORTS
            and isinstance(entry.get("message"), str)
        ):
            note = (ObservationKind(entry["kind"]), entry["message"][:500])
            if note not in notes:
                notes.append(note)
    return notes


def _tail(path: Path, limit: int = 4000) -> str:
    data = path.read_bytes()[-limit:] if path.is_file() else b""
    return data.decode("utf-8", "replace")
