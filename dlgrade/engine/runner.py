"""run_notebook: one source file, executed cell by cell in the sandbox, with probes.

A run is a `_Session`: this module prepares it (working copy, data, probe inputs,
the launch), starts the kernel and assembles the NotebookRun; the cells are run by
its `CellSteps` (cell_steps.py) and the kernel's state read by its `ProbeSteps`
(probe_steps.py); run_notes.py puts what was observed into words.
"""

from __future__ import annotations

import atexit
import math
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_core.utils import run_sync
from nbformat import NotebookNode

from dlgrade import progress
from dlgrade.engine import probes as probe_code
from dlgrade.engine.cell_steps import CellSteps
from dlgrade.engine.config import SandboxConfig
from dlgrade.engine.errors import KernelStartError
from dlgrade.engine.figures import FigureLogReader
from dlgrade.engine.history import (
    check_watches,
    read_history,
)
from dlgrade.engine.kernel import (
    CappedClient,
    KernelInterference,
    SandboxKernelManager,
)
from dlgrade.engine.notebooks import MalformedSource, load_notebook
from dlgrade.engine.probe_steps import ProbeSteps
from dlgrade.engine.reaper import kill_uid, note_uid
from dlgrade.engine.records import CellResult, NotebookRun, Probe, ProbeResult, SourceFile, Watch
from dlgrade.engine.run_notes import history_notes, kernel_reports, tail
from dlgrade.engine.sandbox import Launch, build_launch
from dlgrade.engine.sections import cell_sections, early_probe_cells
from dlgrade.engine.workspace import (
    DataUnavailable,
    RunDirs,
    copy_submission,
    data_root,
    link_data,
)
from dlgrade.records import Observation, ObservationKind


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
class _Session(CellSteps, ProbeSteps):
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
                    f"the kernel did not start ({err}); its log:\n{tail(log_path)}"
                ) from err
            finally:
                km.kill_group()
                if self.launch.uid is not None:
                    # Daemons the notebook double-forked out of the kernel's group, too.
                    kill_uid(self.launch.uid)
        self.truncated = client.meter.truncated

    def result(self, duration: float) -> NotebookRun:
        assert self.launch is not None and self.figures is not None
        notes = list(self.notes) + kernel_reports(self.dirs.out / "observations.jsonl")
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
        notes += history_notes(history)
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
