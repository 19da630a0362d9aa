"""How the kernel process is launched in each isolation mode (dlgrade.engine.isolation).

bwrap: no network, own pid/ipc/uts namespaces, a root made only of the Python
installation, /usr and a few /etc files, the run directories and the shim.
The repository (reference/, checks/), the grades output and other students
are not mounted at all. The launcher then sets rlimits and switches to a
per-run uid, because RLIMIT_NPROC does not apply to root.

user: the same launcher without namespaces: a per-run uid (always), a seccomp filter
that refuses network sockets, a private TMPDIR, and a copy of the shim outside the
harness (whose files are root-only in this mode). The run directories are the uid's
alone (0700), so a kernel cannot reach another run's files or sockets.

none: the launcher as the grader's own user; rlimits only.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dlgrade.engine import isolation
from dlgrade.engine.config import SandboxConfig
from dlgrade.engine.reaper import SANDBOX_UIDS
from dlgrade.engine.workspace import RunDirs, world_readable

SHIM_DIR = Path(__file__).parent / "shim"
SHIM_MOUNT = Path("/opt/dlgrade-shim")
COLAB_CONTENT = "/content"
_ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "nsswitch.conf",
    "alternatives",
    "fonts",
)
_TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class Launch:
    """The kernel command, its environment and what isolation it gets."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    isolation: str
    uid: int | None
    gpu: bool


def bwrap_usable() -> bool:
    """bwrap is installed and can create its namespaces here."""
    return isolation.bwrap_problem() is None


def sandbox_uid(dirs: RunDirs) -> int:
    """A per-run uid, so the process cap counts only this kernel's processes, and killing
    every process of the uid ends exactly what this notebook started."""
    return SANDBOX_UIDS[int.from_bytes(os.urandom(3), "big") % len(SANDBOX_UIDS)]


def gpu_present() -> bool:
    return Path("/dev/nvidiactl").exists()


@cache
def gpu_names() -> tuple[str, ...]:
    """The GPUs' names from nvidia-smi, without touching CUDA in this process (a grader
    forked from a zygote must never have initialised CUDA)."""
    if not gpu_present() or shutil.which("nvidia-smi") is None:
        return ()
    try:
        listing = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listing.splitlines() if line.strip())


def device_summary(config: SandboxConfig) -> str:
    """Which device runs what, for the grade record."""
    if config.allow_gpu and gpu_present():
        names = ", ".join(gpu_names()) or "a CUDA GPU"
        return (
            f"student notebooks ran with {names} available to their code (see cuda-used); "
            "the grader's own computations ran on the CPU"
        )
    return "no GPU: student notebooks and the grader ran on the CPU (.cuda() is mapped to the CPU)"


def build_launch(config: SandboxConfig, dirs: RunDirs, cwd: Path, data: Path | None) -> Launch:
    """The kernel command for the configured mode (SandboxUnavailable if it cannot run here)."""
    mode = config.isolation
    isolation.require(mode)
    gpu = config.allow_gpu and gpu_present()
    as_root = os.geteuid() == 0
    uid = sandbox_uid(dirs) if (mode == "bwrap" and as_root) or mode == "user" else None
    shim = {"bwrap": SHIM_MOUNT, "user": private_shim(dirs), "none": SHIM_DIR}[mode]
    tmp = Path("/tmp") if mode == "bwrap" else dirs.tmp
    env = kernel_env(dirs, data, shim, tmp, cuda_shim=not gpu, decoded=config.decoded_datasets)
    launcher = [
        sys.executable, "-m", "_dlgrade_launch",
        "--memory-mb", str(config.memory_mb),
        "--memory-kind", "data" if gpu else "as",  # CUDA reserves huge address space
        "--nproc", str(config.max_processes),
        "--fsize", str(config.max_file_bytes),
    ]  # fmt: skip
    if uid is not None:
        launcher += ["--uid", str(uid)]
    if mode == "bwrap":
        launcher.append("--in-pid-namespace")
    if mode == "user":
        launcher.append("--block-network")
    launcher += ["--", "-f", "{connection_file}"]
    description = isolation.DESCRIPTIONS[mode]
    if mode != "bwrap":
        if mode == "none" and as_root:
            description += "; process cap not enforced (running as root)"
        return Launch(launcher, env, cwd, description, uid, gpu)
    argv = bwrap_argv(dirs, cwd, data, gpu, uid, as_root) + launcher
    return Launch(argv, env, cwd, description, uid, gpu)


def private_shim(dirs: RunDirs) -> Path:
    """A copy of the shim the kernel may read: the harness it ships in is root-only in
    user mode. Root-owned and read-only to the kernel, so the notebook cannot change
    the code that reports its figures and values."""
    target = dirs.root / "shim"
    shutil.copytree(SHIM_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    world_readable(target)
    return target


def kernel_env(
    dirs: RunDirs,
    data: Path | None,
    shim: Path,
    tmp: Path,
    cuda_shim: bool,
    decoded: bool = True,
) -> dict[str, str]:
    """A minimal environment: nothing of the grader's own environment leaks in."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(dirs.work),
        "USER": "student",  # getpass.getuser() needs no passwd entry for the uid
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp),
        "PYTHONPATH": str(shim),
        "PYTHONDONTWRITEBYTECODE": "1",
        "IPYTHONDIR": str(tmp / ".ipython"),
        "JUPYTER_RUNTIME_DIR": str(tmp / ".jupyter"),
        "MPLCONFIGDIR": str(dirs.work / ".config" / "matplotlib"),
        "DLGRADE_SHIM": "1",
        "DLGRADE_OUT": str(dirs.out),
        "DLGRADE_STANDINS": str(shim / "standins"),
        "DLGRADE_CUDA_SHIM": "1" if cuda_shim else "0",
        "DLGRADE_DECODED": "1" if decoded else "0",
    }
    if data is not None:
        env["DLGRADE_DATA_ROOT"] = str(data)
    # A thread budget set for this grading run (see dlgrade.grading.runner) holds inside too.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    if not cuda_shim:
        # A real GPU: the driver's libraries may sit where only these variables point
        # (e.g. /usr/local/nvidia/lib64, mounted with /usr), and which GPU is ours.
        for name in ("LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
            if name in os.environ:
                env[name] = os.environ[name]
    return env


def bwrap_argv(
    dirs: RunDirs, cwd: Path, data: Path | None, gpu: bool, uid: int | None, as_root: bool
) -> list[str]:
    argv = [
        "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
        "--die-with-parent", "--new-session", "--hostname", "sandbox",
        "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    if not as_root:
        argv.append("--unshare-user")
    for name in _TOP_LEVEL:
        path = Path("/", name)
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    argv += [
        "--perms",
        "0755",
        "--dir",
        "/etc",
    ]  # bwrap would make it 0700: unreadable after the uid switch
    for name in _ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    # The Python installation and the venv, but not the repository the venv sits in.
    prefixes = sorted({Path(sys.base_prefix).resolve(), Path(sys.prefix)})
    mounts = [("--ro-bind", p, p) for p in prefixes if not str(p).startswith("/usr/")]
    mounts += [("--ro-bind", SHIM_DIR, SHIM_MOUNT), ("--ro-bind", dirs.inputs, dirs.inputs)]
    if data is not None:
        mounts.append(("--ro-bind", data, data))
    mounts += [("--bind", path, path) for path in (dirs.work, dirs.out, dirs.conn)]
    argv += _parent_dirs([dest for _, _, dest in mounts])
    for flag, source, dest in mounts:
        argv += [flag, str(source), str(dest)]
    argv += _identity_files(dirs, uid)
    if gpu:
        argv += _gpu_binds()
    # Colab notebooks keep files under /content (its working directory): the working
    # copy is mounted there too, so `/content/data` is writable as it is on Colab.
    argv += ["--bind", str(dirs.work), COLAB_CONTENT]
    argv += ["--chdir", str(cwd)]
    return argv


def _parent_dirs(destinations: list[Path]) -> list[str]:
    """Create mount points' parents world-traversable (bwrap makes them 0700 otherwise)."""
    parents = sorted(
        {a for d in destinations for a in d.parents if a != Path("/")}, key=lambda p: len(p.parts)
    )
    argv: list[str] = []
    for parent in parents:
        argv += ["--perms", "0755", "--dir", str(parent)]
    return argv


def _identity_files(dirs: RunDirs, uid: int | None) -> list[str]:
    """/etc/passwd and /etc/group naming the sandbox user (some libraries look it up)."""
    ident = dirs.root / "etc"
    ident.mkdir(exist_ok=True)
    user = uid if uid is not None else os.getuid()
    (ident / "passwd").write_text(
        f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{user}:{user}:student:{dirs.work}:/bin/sh\n"
    )
    (ident / "group").write_text(f"root:x:0:\nstudent:x:{user}:\n")
    return [
        "--ro-bind", str(ident / "passwd"), "/etc/passwd",
        "--ro-bind", str(ident / "group"), "/etc/group",
    ]  # fmt: skip


def _gpu_binds() -> list[str]:
    binds: list[str] = []
    for device in sorted(Path("/dev").glob("nvidia*")):
        binds += ["--dev-bind", str(device), str(device)]
    binds += ["--ro-bind-try", "/sys", "/sys"]
    return binds
