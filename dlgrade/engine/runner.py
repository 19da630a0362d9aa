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

from dlgrade.engine import probes as probe_code
from dlgrade.engine.config import SandboxConfig
from dlgrade.engine.errors import KernelStartError
from dlgrade.engine.figures import FigureLogReader
from dlgrade.engine.kernel import (
    CappedClient,
    KernelInterference,
    SandboxKernelManager,
    recover,
    run_silent,
    wait_dead,
)
from dlgrade.engine.notebooks import MalformedSource, load_notebook
from dlgrade.engine.records import CellResult, NotebookRun, Probe, ProbeResult, SourceFile
from dlgrade.engine.sandbox import Launch, build_launch
from dlgrade.engine.values import read_probe_result
from dlgrade.engine.workspace import (
    DataUnavailable,
    RunDirs,
    copy_submission,
    data_root,
    give_to,
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
) -> NotebookRun:
    """Run `source` isolated, with limits and offline data; collect probes and figures.

    `workdir_from` is the folder copied as the working copy (default: the
    notebook's folder). Student failures are recorded in the result; only
    grader-side problems (bad probes, a kernel that cannot start) raise.
    """
    started = time.monotonic()
    probe_code.check_probes(probes)
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
        session = _Session(source, notebook, probes, config, dirs)
        session.prepare(Path(workdir_from) if workdir_from else source.path.parent)
        run_sync(session.execute)()
        return session.result(time.monotonic() - started)
    finally:
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
    launch: Launch | None = None
    cells: list[CellResult] = field(default_factory=list)
    results: dict[str, ProbeResult] = field(default_factory=dict)
    notes: list[tuple[ObservationKind, str]] = field(default_factory=list)
    inputs: dict[str, Path | None] = field(default_factory=dict)
    # KERNEL_DIED, TIMEOUT or INTERFERED: no more student code or probes run.
    stopped: ObservationKind | None = None
    timed_out: bool = False
    figures: FigureLogReader | None = None
    truncated: bool = False

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
            for path in (self.dirs.work, self.dirs.out, self.dirs.conn):
                give_to(path, self.launch.uid)
        if self.launch.isolation != "bubblewrap":
            self.notes.append((ObservationKind.ISOLATION_REDUCED, self.launch.isolation))
        self.figures = FigureLogReader(
            self.dirs.out / "figures.jsonl", self.config.max_figure_log_bytes
        )

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
        self.truncated = client.meter.truncated

    async def _cells(self, client: CappedClient) -> None:
        deadline = time.monotonic() + self.config.notebook_timeout_s
        for index, cell in enumerate(self.notebook.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            remaining = deadline - time.monotonic()
            if self.stopped or remaining <= 0:
                self._skip(index, remaining)
                continue
            await self._cell(client, cell, index, remaining)
            assert self.figures is not None
            self.figures.read_new(index)
            if not self.stopped:
                await self._triggered_probes(client)

    def _skip(self, index: int, remaining: float) -> None:
        if not self.stopped and remaining <= 0:
            self.timed_out = True
            self.stopped = ObservationKind.TIMEOUT
            self.notes.append(
                (
                    ObservationKind.TIMEOUT,
                    f"notebook time limit ({self.config.notebook_timeout_s:g}s) reached before cell {index}",
                )
            )
        self.cells.append(CellResult(index, "skipped"))

    async def _cell(
        self, client: CappedClient, cell: NotebookNode, index: int, remaining: float
    ) -> None:
        limit = min(self.config.cell_timeout_s, remaining)
        client.timeout = max(1, math.ceil(limit))
        try:
            await client.async_execute_cell(cell, index)
        except CellTimeoutError:
            self.cells.append(self._timeout_result(client, cell, index, limit))
            await self._after_timeout(
                client, f"cell {index}", notebook_limit=limit < self.config.cell_timeout_s
            )
            return
        except DeadKernelError:
            self.cells.append(
                CellResult(
                    index,
                    "error",
                    "KernelDied",
                    "the kernel died",
                    client.meter.per_cell.get(index, 0),
                )
            )
            await self._died(client, f"during cell {index}")
            return
        except KernelInterference as err:
            self.cells.append(
                CellResult(index, "error", "KernelInterference", INTERFERED, text=_cell_text(cell))
            )
            self._interfered(client, f"during cell {index}", err)
            return
        self.cells.append(self._cell_result(client, cell, index))

    def _cell_result(self, client: CappedClient, cell: NotebookNode, index: int) -> CellResult:
        reply = client.replies.get(index, {})
        size = client.meter.per_cell.get(index, 0)
        text = _cell_text(cell)
        if reply.get("status") != "error":
            return CellResult(index, "ok", output_bytes=size, text=text)
        name, value = str(reply.get("ename", "Error")), str(reply.get("evalue", ""))[:2000]
        kind, message = _ERROR_NOTES.get(name, (None, ""))
        if kind is None and "File too large" in value:
            kind, message = (
                ObservationKind.FILE_SIZE_LIMIT,
                "wrote a file over the size cap ({max_file_bytes} bytes)",
            )
        if kind is not None:
            self.notes.append((kind, f"cell {index} " + message.format(**vars(self.config))))
        return CellResult(index, "error", name, value, size, text)

    def _timeout_result(
        self, client: CappedClient, cell: NotebookNode, index: int, limit: float
    ) -> CellResult:
        self.timed_out = True
        self.notes.append(
            (
                ObservationKind.TIMEOUT,
                f"cell {index} ran longer than {limit:.0f}s and was interrupted",
            )
        )
        size = client.meter.per_cell.get(index, 0)
        return CellResult(
            index, "timeout", "TimeoutError", f"cell exceeded {limit:.0f}s", size, _cell_text(cell)
        )

    async def _after_timeout(self, client: CappedClient, what: str, notebook_limit: bool) -> None:
        """Interrupt; kill the kernel if it does not come back or the notebook's time is up."""
        try:
            answered = not notebook_limit and await recover(client, self.config.interrupt_grace_s)
        except DeadKernelError:
            await self._died(client, f"after {what} was interrupted")
            return
        except KernelInterference as err:
            self._interfered(client, f"after {what} was interrupted", err)
            return
        if not answered:
            client.km.kill_group()
            self.stopped = ObservationKind.TIMEOUT
            self.notes.append(
                (
                    ObservationKind.KERNEL_KILLED,
                    f"{what}: the kernel was killed (time limit); later cells were not run",
                )
            )

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

    async def _triggered_probes(self, client: CappedClient) -> None:
        waiting = [p for p in self.probes if p.after and p.name not in self.results]
        if not waiting:
            return
        names = sorted({name for p in waiting for name in p.after})
        expressions = {"defined": probe_code.trigger_expression(names)}
        try:
            content = await run_silent(client, "", self.config.cell_timeout_s, expressions)
        except DeadKernelError:
            await self._died(client, "while checking probe triggers")
            return
        except KernelInterference as err:
            self._interfered(client, "while the grader checked probe triggers", err)
            return
        defined = probe_code.parse_defined(content or {}, names)
        for probe in waiting:
            if set(probe.after) <= defined and not self.stopped:
                await self._probe(client, probe)

    async def _final_probes(self, client: CappedClient) -> None:
        for probe in self.probes:
            if probe.name in self.results:
                continue
            if self.stopped:
                reason = {
                    ObservationKind.KERNEL_DIED: "kernel died",
                    ObservationKind.INTERFERED: INTERFERED,
                }.get(self.stopped, "the kernel was killed (time limit)")
                self.results[probe.name] = ProbeResult(
                    probe.name, {}, f"not run: {reason}", stopped_by=self.stopped
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
            content = await run_silent(client, code, self.config.cell_timeout_s)
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
                f"probe timed out after {self.config.cell_timeout_s:g}s",
                stopped_by=ObservationKind.TIMEOUT,
            )
            await self._after_timeout(client, f"probe {probe.name!r}", notebook_limit=False)
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
        )

    def _status(self) -> str:
        if self.stopped == ObservationKind.KERNEL_DIED:
            return "died"
        if self.stopped == ObservationKind.INTERFERED:
            return "interfered"
        if self.timed_out:
            return "timeout"
        return "errors" if any(c.status == "error" for c in self.cells) else "ok"


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
            entry = json.loads(line.decode("utf-8"))
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
