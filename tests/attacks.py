"""Notebook cells a student who knows the harness would hand in, and what they leave.

Each attack reports what it managed through the channel a real one used: an
observation (`_dlgrade_shim.observe.note`), which the grader copies into
results.json and grade.json. Its message starts with the attack's marker, so a
test can tell the attack ran, and then asserts it achieved nothing.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

PROC = Path("/proc")


def marker(name: str) -> str:
    return f"ATTACK-{name}-{uuid.uuid4().hex[:10]}"


REPORT = """
def _report(mark, what):
    import json
    from _dlgrade_shim import observe
    # Written straight to the observation log: the shim's note() keeps one per kind.
    with open(observe._STATE["path"], "a", encoding="utf-8") as log:
        log.write(json.dumps({"kind": "shim-error", "message": f"{mark} {what!r}"}) + "\\n")
"""

# A double-forked daemon in a session of its own: it outlives the kernel's process
# group and runs `code` (its command line carries the marker, so tests can find it).
DAEMON = """
def _daemon(mark, code):
    import os, sys
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", f"# {mark}\\n" + code])
        os._exit(0)
    os.waitpid(pid, 0)
"""


def read_answers(root: Path, mark: str) -> str:
    """Find the grader through /proc and read the reference, a hidden check and the config."""
    return (
        REPORT
        + f"""
import glob, os
ROOT = {str(root)!r}
found = {{}}
roots = {{ROOT}}
for cmdline in glob.glob("/proc/*/cmdline"):
    try:
        words = open(cmdline, "rb").read().split(b"\\0")
    except OSError:
        continue
    roots |= {{w.decode(errors="replace") for w in words if b"autograder" in w and w.startswith(b"/")}}
targets = [f"{{ROOT}}/source/harness/reference/relu_fit.py",
           f"{{ROOT}}/source/harness/checks/test_relu_fit.py",
           f"{{ROOT}}/source/autograder.toml",
           f"{{ROOT}}/submission_metadata.json"]
for path in targets:
    try:
        found[path] = open(path).read()[:400]
    except OSError as err:
        found[path] = type(err).__name__
try:
    found["listing"] = os.listdir(f"{{ROOT}}/source")
except OSError as err:
    found["listing"] = type(err).__name__
_report({mark!r}, found)
"""
    )


def edit_grader(root: Path, mark: str) -> str:
    """Append full marks to the grader's own modules and plant a usercustomize."""
    return (
        REPORT
        + f"""
import os, sys, sysconfig
ROOT = {str(root)!r}
PAYLOAD = "\\n# {mark}\\nimport builtins; builtins.{mark.replace("-", "_")} = True\\n"
results = {{}}
targets = [f"{{ROOT}}/source/harness/dlgrade/grading/outputs.py",
           f"{{ROOT}}/source/harness/dlgrade/lms/gradescope.py",
           f"{{ROOT}}/source/harness/checks/conftest.py",
           os.path.join(sysconfig.get_paths()["purelib"], "usercustomize.py")]
for path in targets:
    try:
        with open(path, "a") as handle:
            handle.write(PAYLOAD)
        results[path] = "written"
    except OSError as err:
        results[path] = type(err).__name__
_report({mark!r}, results)
"""
    )


def forge_from_daemon(root: Path, mark: str, seconds: float = 90) -> str:
    """A daemon that, for `seconds`, rewrites every .unit.json it can find to full marks,
    overwrites results.json and the grader's code, and outlives the kernel."""
    loop = f"""
import json, os, time
ROOT = {str(root)!r}
FORGED = {{"score": 1000, "output": {mark!r}, "tests": []}}
end = time.time() + {seconds}
while time.time() < end:
    for top in ("/tmp", ROOT):
        for folder, _, files in os.walk(top):
            if ".unit.json" in files:
                path = os.path.join(folder, ".unit.json")
                try:
                    data = json.load(open(path))
                    for result in data["record"]["results"]:
                        result["status"], result["points"] = "passed", result["max_points"]
                    json.dump(data, open(path, "w"))
                except (OSError, ValueError, KeyError, TypeError):
                    pass
    for path, text in ((f"{{ROOT}}/results/results.json", json.dumps(FORGED)),):
        try:
            open(path, "w").write(text)
        except OSError:
            pass
    time.sleep(0.05)
"""
    return (
        REPORT
        + DAEMON
        + f"""
import os
_daemon({mark!r}, {loop!r})
_report({mark!r}, ("daemon started as uid", os.getuid()))
"""
    )


def immutable_results(root: Path, mark: str) -> str:
    """Forge results.json and make it immutable, so the grader's replace fails."""
    return (
        REPORT
        + f"""
import json, subprocess
path = {str(root / "results" / "results.json")!r}
outcome = {{}}
try:
    open(path, "w").write(json.dumps({{"score": 1000, "output": {mark!r}, "tests": []}}))
    outcome["write"] = "written"
except OSError as err:
    outcome["write"] = type(err).__name__
done = subprocess.run(["chattr", "+i", path], capture_output=True, text=True)
outcome["chattr"] = (done.returncode, done.stderr[-200:])
_report({mark!r}, outcome)
"""
    )


def reach_network(port: int, mark: str) -> str:
    """Connect to a listener on this machine: the raw _socket module, UDP, a subprocess."""
    return (
        REPORT
        + f"""
import _socket, subprocess, sys
outcome = {{}}
try:
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(("127.0.0.1", {port}))
    s.sendall(b"{mark}")
    outcome["raw"] = "connected"
except OSError as err:
    outcome["raw"] = type(err).__name__
try:
    u = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    u.sendto(b"{mark}", ("127.0.0.1", {port}))
    outcome["udp"] = "sent"
except OSError as err:
    outcome["udp"] = type(err).__name__
child = ("import socket; s = socket.create_connection(('127.0.0.1', {port}), timeout=3); "
         "s.sendall(b'{mark}')")
done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True)
outcome["subprocess"] = (done.returncode, done.stderr[-120:])
_report({mark!r}, outcome)
"""
    )


def with_cell(notebook: Path, code: str, first: bool = False) -> None:
    """Add a code cell to a notebook file (at the end, or first)."""
    nb = nbformat.read(notebook, as_version=4)
    cell = nbformat.v4.new_code_cell(code)
    if first:
        nb.cells.insert(0, cell)
    else:
        nb.cells.append(cell)
    nbformat.write(nb, notebook)


def processes_with(text: str) -> list[int]:
    """Pids whose command line contains `text` (a daemon's marker)."""
    pids = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and int(entry.name) != os.getpid():
            pids.append(int(entry.name))
    return pids


@dataclass
class Listener:
    """TCP and UDP on one loopback port, counting whatever reaches them."""

    tcp: socket.socket
    udp: socket.socket
    received: list[bytes] = field(default_factory=list)

    @classmethod
    def start(cls) -> Listener:
        tcp = socket.socket()
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", tcp.getsockname()[1]))
        listener = cls(tcp, udp)
        for target in (listener._accept, listener._datagrams):
            threading.Thread(target=target, daemon=True).start()
        return listener

    @property
    def port(self) -> int:
        return self.tcp.getsockname()[1]

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.tcp.accept()
            except OSError:
                return
            self.received.append(b"tcp:" + conn.recv(100))
            conn.close()

    def _datagrams(self) -> None:
        while True:
            try:
                self.received.append(b"udp:" + self.udp.recv(100))
            except OSError:
                return

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


def reach_classmate(mark: str, seconds: float = 90) -> str:
    """Wait for another student's kernel, then go for its files, its sockets and its grade."""
    return (
        REPORT
        + f"""
import glob, os, socket, time
def _cmdlines():
    for path in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            yield path.split("/")[2], open(path, "rb").read().split(b"\\0")
        except OSError:
            pass
own = open("/proc/self/cmdline", "rb").read().split(b"\\0")
outcome, end = {{}}, time.time() + {seconds}
while time.time() < end and "kernel" not in outcome:
    for pid, words in _cmdlines():
        if b"--out" in words:
            out = words[words.index(b"--out") + 1].decode()
            outcome["out"] = out
        files = [w.decode() for w in words if w.endswith(b"kernel.json")]
        if files and files != [w.decode() for w in own if w.endswith(b"kernel.json")]:
            outcome["kernel"] = files[0]
    time.sleep(0.1)
attempts = {{}}
if "kernel" in outcome:
    conn = os.path.dirname(outcome["kernel"])
    run = os.path.dirname(conn)
    for name, action in {{
        "connection file": lambda: open(outcome["kernel"]).read(),
        "sockets": lambda: os.listdir(conn),
        "shell socket": lambda: socket.socket(socket.AF_UNIX).connect(conn + "/kernel-1"),
        "work": lambda: os.listdir(run + "/work"),
        "notebook": lambda: open(glob.glob(run + "/work/*.ipynb")[0]).read(),
    }}.items():
        try:
            action()
            attempts[name] = "done"
        except (OSError, IndexError) as err:
            attempts[name] = type(err).__name__
if "out" in outcome:
    for folder in glob.glob(outcome["out"] + "/*/"):
        try:
            open(folder + "grade.json", "a").write("{mark}")
            attempts[folder] = "done"
        except OSError as err:
            attempts[folder] = type(err).__name__
    try:
        attempts["out listing"] = os.listdir(outcome["out"])
    except OSError as err:
        attempts["out listing"] = type(err).__name__
_report({mark!r}, ("saw", sorted(outcome), attempts))
"""
    )


def read_files(paths: list[Path], mark: str) -> str:
    """Read each of `paths` (the grader's own files, named outright)."""
    return (
        REPORT
        + f"""
found = {{}}
for path in {[str(p) for p in paths]!r}:
    try:
        found[path] = open(path).read()[:200]
    except OSError as err:
        found[path] = type(err).__name__
_report({mark!r}, found)
"""
    )


def append_to(paths: list[Path], mark: str) -> str:
    """Append a line to each of `paths` (the grader's own modules)."""
    return (
        REPORT
        + f"""
done = {{}}
for path in {[str(p) for p in paths]!r}:
    try:
        with open(path, "a") as handle:
            handle.write("\\n# {mark}\\n")
        done[path] = "written"
    except OSError as err:
        done[path] = type(err).__name__
_report({mark!r}, done)
"""
    )
