"""Sets resource limits (and drops root) then execs the Jupyter kernel.

Run as `python -m _dlgrade_launch --memory-mb M --nproc N --fsize B [--uid U]
[--memory-kind as|data] [--block-network] -- KERNEL ARGS`. RLIMIT_NPROC does not
bind root, so as root the kernel switches to a per-run unprivileged uid first.

--block-network (the `user` isolation mode, which has no network namespace) loads a
seccomp filter: creating any socket but a local (AF_UNIX) one fails with EACCES, and
so does io_uring (its socket operations would bypass the filter). Loading it also sets
no_new_privs, so no setuid program can give the kernel its privileges back. Both are
inherited by every process the notebook starts. The kernel talks to the grader over
ZMQ's ipc transport (AF_UNIX), which stays allowed.
"""

import argparse
import errno
import os
import resource
import signal
import sys


def _parse(argv):
    parser = argparse.ArgumentParser(prog="_dlgrade_launch")
    parser.add_argument("--memory-mb", type=int, required=True)
    parser.add_argument("--memory-kind", choices=("as", "data"), default="as")
    parser.add_argument("--nproc", type=int, required=True)
    parser.add_argument("--fsize", type=int, required=True)
    parser.add_argument("--uid", type=int)
    parser.add_argument("--in-pid-namespace", action="store_true")
    parser.add_argument("--block-network", action="store_true")
    parser.add_argument("kernel_args", nargs=argparse.REMAINDER)
    return parser.parse_args(argv)


def _limit(which, value):
    resource.setrlimit(which, (value, value))


def _block_network():
    import socket

    import pyseccomp as seccomp

    refuse = seccomp.ERRNO(errno.EACCES)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    rules.add_rule(refuse, "io_uring_setup")
    rules.load()  # sets no_new_privs first (libseccomp's default)


def main(argv):
    args = _parse(argv)
    memory = args.memory_mb * 1024 * 1024
    _limit(resource.RLIMIT_AS if args.memory_kind == "as" else resource.RLIMIT_DATA, memory)
    _limit(resource.RLIMIT_FSIZE, args.fsize)
    _limit(resource.RLIMIT_CORE, 0)
    # Over-size writes then fail with EFBIG instead of killing the kernel.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if args.block_network:
        # Loaded while still root (its imports may live where only root reads); an
        # exception here stops the launch: the kernel never runs without the filter.
        _block_network()
    if args.uid is not None:
        os.setgroups([])
        os.setresgid(args.uid, args.uid, args.uid)
        os.setresuid(args.uid, args.uid, args.uid)
    _limit(resource.RLIMIT_NPROC, args.nproc)
    if args.in_pid_namespace:
        # Our parent is the namespace's init (pid 1): ipykernel's parent poller would
        # take that for an orphaned kernel. bwrap --die-with-parent covers that case.
        os.environ.pop("JPY_PARENT_PID", None)
    kernel_args = [a for a in args.kernel_args if a != "--"]
    entry = "_dlgrade_kernel" if args.block_network else "ipykernel_launcher"
    os.execv(sys.executable, [sys.executable, "-m", entry, *kernel_args])


if __name__ == "__main__":
    main(sys.argv[1:])
