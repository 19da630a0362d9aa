"""ipykernel, started without its TCP pipe (the `user` mode's kernel entry point).

ipykernel binds a tcp://127.0.0.1 socket to forward the output of forked
subprocesses; under the seccomp filter of --block-network no AF_INET socket can
exist, and libzmq aborts the process instead of raising. Without the pipe the
kernel works as usual; only a forked child's prints are not forwarded.
"""

from ipykernel import iostream, kernelapp


def _no_pipe(thread):
    thread._pipe_flag = False


iostream.IOPubThread._setup_pipe_in = _no_pipe

if __name__ == "__main__":
    kernelapp.launch_new_instance()
