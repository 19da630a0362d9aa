"""Reading the kernel's state during a run: watches after every cell, probes when due.

`ProbeSteps` holds the methods of runner._Session that send the grader's watches
and probes to the kernel and keep their results; a kernel that dies or is
tampered with meanwhile is handled by the session's cell steps.
"""

from __future__ import annotations

from nbclient.exceptions import DeadKernelError

from dlgrade.engine import probes as probe_code
from dlgrade.engine.errors import KernelStartError
from dlgrade.engine.history import after_cell_call, register_call
from dlgrade.engine.kernel import CappedClient, KernelInterference, run_silent
from dlgrade.engine.records import Probe, ProbeResult
from dlgrade.engine.values import read_probe_result
from dlgrade.records import KERNEL_INTERFERENCE as INTERFERED
from dlgrade.records import ObservationKind


class ProbeSteps:
    """The watch and probe steps of a notebook session (mixed into runner._Session)."""

    async def _register_watches(self, client: CappedClient) -> None:
        if not self.watches:
            return
        content = await run_silent(client, register_call(self.watches), 60)
        if content is None or content.get("status") != "ok":
            raise KernelStartError(f"the kernel did not accept the watches: {content}")

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
