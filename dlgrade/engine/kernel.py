"""The Jupyter side: a kernel manager for the sandboxed command, and an nbclient
client that caps stored outputs and remembers each cell's execute reply."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.session import Session
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets import Integer, List, Unicode

MAX_TRACEBACK_CHARS = 20_000


class KernelInterference(Exception):
    """A message from the kernel broke the Jupyter protocol: the notebook tampered with it."""


class GuardedSession(Session):
    """A Session that names a message it cannot decode instead of raising a bare KeyError.

    Only the kernel writes to these sockets, and it runs the student's code:
    a forged message (no `msg_id`, a bad signature, a short frame list) or a
    kernel whose message code was replaced is the notebook's doing.
    """

    def deserialize(self, msg_list: Any, content: bool = True, copy: bool = True) -> dict:
        try:
            return super().deserialize(msg_list, content=content, copy=copy)
        except (KeyError, TypeError, ValueError) as err:
            raise KernelInterference(
                f"a kernel message broke the protocol ({type(err).__name__}: {err})"
            ) from err


class SandboxKernelManager(AsyncKernelManager):
    """Launches `launch_argv` (bwrap + launcher) over ZMQ ipc sockets in the run's conn dir."""

    launch_argv = List(Unicode())
    sandbox_uid = Integer(-1)

    def _session_default(self) -> Session:
        # Overrides jupyter_client's default; the client gets a clone of this session
        # (same class), so every channel it reads is guarded.
        return GuardedSession(parent=self)

    @property
    def kernel_spec(self) -> KernelSpec:
        # interrupt by message: a signal would reach bwrap, not the kernel inside it.
        return KernelSpec(
            argv=list(self.launch_argv),
            display_name="dlgrade sandbox",
            language="python",
            interrupt_mode="message",
            metadata={},
        )

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.sandbox_uid >= 0:
            os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)

    def kill_group(self) -> None:
        """SIGKILL the launched process group (bwrap takes the whole pid namespace down)."""
        provisioner = self.provisioner
        pgid = getattr(provisioner, "pgid", None)
        if pgid:
            # Already gone is what we want.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)


@dataclass
class OutputMeter:
    """Counts output bytes per cell and stores text only up to a notebook-wide cap."""

    cap: int
    stored: int = 0
    truncated: bool = False
    per_cell: dict[int, int] = field(default_factory=dict)

    def count(self, cell_index: int, size: int) -> None:
        self.per_cell[cell_index] = self.per_cell.get(cell_index, 0) + size

    def admit(self, text: str) -> str:
        room = max(0, self.cap - self.stored)
        if len(text) > room:
            self.truncated = True
            text = text[:room]
        self.stored += len(text)
        return text


class CappedClient(NotebookClient):
    """nbclient with a cap on stored output; rich data (images) is not stored."""

    def __init__(self, nb: Any, km: SandboxKernelManager, max_output_bytes: int, **kw: Any) -> None:
        super().__init__(nb, km=km, **kw)
        self.meter = OutputMeter(max_output_bytes)
        self.replies: dict[int, dict] = {}
        self.on_cell_executed = self._remember_reply

    def _remember_reply(self, cell: Any, cell_index: int, execute_reply: dict | None) -> None:
        if execute_reply is not None:
            self.replies[cell_index] = execute_reply.get("content", {})

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        self.meter.count(cell_index, _content_size(msg.get("content", {})))
        out = super().output(outs, msg, display_id, cell_index)
        if out is None:
            return None
        if out.output_type == "stream":
            out.text = self.meter.admit(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            plain = out.get("data", {}).get("text/plain", "")
            out.data = {"text/plain": self.meter.admit(plain if isinstance(plain, str) else "")}
        elif out.output_type == "error":
            out.traceback = [self.meter.admit("\n".join(out.traceback)[:MAX_TRACEBACK_CHARS])]
        return out


def _content_size(content: dict) -> int:
    if "text" in content and isinstance(content["text"], str):
        return len(content["text"])
    data = content.get("data")
    if isinstance(data, dict):
        return sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())
    return sum(len(line) for line in content.get("traceback", []) if isinstance(line, str))


async def await_reply(client: CappedClient, msg_id: str, timeout: float) -> dict | None:
    """The shell reply to `msg_id`, or None after `timeout`; DeadKernelError if the kernel dies."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            msg = await client.kc.shell_channel.get_msg(timeout=min(1.0, remaining))
        except Empty:
            if not await client.km.is_alive():
                raise DeadKernelError("Kernel died") from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


async def run_silent(
    client: CappedClient, code: str, timeout: float, user_expressions: dict | None = None
) -> dict | None:
    """Run grader code without output or history; its reply content, or None on timeout."""
    msg_id = client.kc.execute(
        code, silent=True, store_history=False, user_expressions=user_expressions or {}
    )
    reply = await await_reply(client, msg_id, timeout)
    return None if reply is None else reply["content"]


async def recover(client: CappedClient, grace_s: float) -> bool:
    """Interrupt a timed-out cell; True when the kernel answers again within the grace time."""
    await client.km.interrupt_kernel()
    return await run_silent(client, "", grace_s) is not None


async def wait_dead(client: CappedClient, timeout: float = 5.0) -> int | None:
    """The launched process's exit code once it has gone (None if unknown)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = await client.km.provisioner.poll() if client.km.provisioner else None
        if code is not None:
            return code
        await asyncio.sleep(0.05)
    return None
