"""One listening socket per worker process (``SO_REUSEPORT``), so the kernel spreads clients.

uvicorn's supervisor binds one socket and every worker accepts from it. Whichever worker wakes
first accepts every connection waiting, so persistent clients that connect together (a browser's
pool, a load balancer's, ``wrk``'s) land on one worker: ``ss`` during a 32-connection ``wrk`` run
on 2 workers counted 32 and 0, 30 and 2, 24 and 8, 32 and 0 connections per worker, and the
busier worker's queue sets the tail latency. With ``SO_REUSEPORT`` each worker listens on its own
socket bound to the same address, and the kernel assigns each new connection to one of them by a
hash of its addresses, as nginx's ``reuseport`` does.

:func:`reuse_port_listener` binds the supervisor's socket (which reserves the port and resolves
port 0, but never listens). uvicorn hands it to each worker it starts, by pickling; the socket
pickles as the recipe for a fresh listener on the same address, so every worker, a restarted
one too, gets its own.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from matinee.errors import ConfigError

__all__ = ["ReusePortSocket", "reuse_port_listener"]


def _bound(family: int, address: Any) -> socket.socket:
    """A TCP socket of ``family`` with ``SO_REUSEPORT``, bound to ``address``, not listening."""
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


class ReusePortSocket(socket.socket):
    """The supervisor's bound socket; pickled into a worker, a new socket on the same address."""

    def __reduce__(self) -> tuple[Any, tuple[int, Any]]:
        return _bound, (int(self.family), self.getsockname())


def reuse_port_listener(host: str, port: int) -> ReusePortSocket | None:
    """The supervisor's socket on ``host:port``, or None where the kernel would not balance.

    Only Linux spreads connections over ``SO_REUSEPORT`` sockets (elsewhere the option exists
    with other meanings, or not at all); there the caller keeps uvicorn's shared socket.

    Raises:
        ConfigError: the address cannot be bound (in use, or not this machine's).
    """
    if not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        return None
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        plain = _bound(family, (host, port))
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    listener = ReusePortSocket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, plain.detach())
    listener.set_inheritable(True)
    return listener
