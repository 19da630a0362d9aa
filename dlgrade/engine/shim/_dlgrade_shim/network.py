"""Refuse connections to anything but loopback and local sockets.

Under bubblewrap the network namespace already has no route out; this guard
makes the failure explicit; in the `user` mode a seccomp filter refuses the socket
before this guard sees it, and with no isolation (`none`) this is the only barrier.
"""

import errno
import ipaddress
import socket

from _dlgrade_shim import observe

_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


def _allowed(address):
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX paths and the like stay local
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str) or host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name: resolving it would already be network use


def _refuse(address):
    observe.note(
        "network-blocked", f"connection to {address!r} refused (no network in the sandbox)"
    )
    raise OSError(
        errno.ENETUNREACH, f"Network is unreachable (dlgrade sandbox: no network; {address!r})"
    )


def install():
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self, address):
        if not _allowed(address):
            _refuse(address)
        return original_connect(self, address)

    def connect_ex(self, address):
        if not _allowed(address):
            _refuse(address)
        return original_connect_ex(self, address)

    def sendto(self, data, *args):
        if args and not _allowed(args[-1]):
            _refuse(args[-1])
        return original_sendto(self, data, *args)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
