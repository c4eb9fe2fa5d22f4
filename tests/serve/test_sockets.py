"""One listening socket per worker: the supervisor's socket pickles into a fresh listener."""

from __future__ import annotations

import pickle
import select
import socket
import sys

import pytest

from matinee.errors import ConfigError
from matinee.serve.sockets import ReusePortSocket, reuse_port_listener

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def _accepted(listener: socket.socket) -> int:
    """Connections waiting on ``listener``, all accepted (and closed) now."""
    listener.setblocking(False)
    count = 0
    while select.select([listener], [], [], 0.2)[0]:
        try:
            connection, _ = listener.accept()
        except BlockingIOError:
            break
        connection.close()
        count += 1
    return count


def test_each_unpickled_copy_is_its_own_listener_and_the_kernel_spreads_clients() -> None:
    """Two workers' sockets on one port both get clients; the supervisor's gets none."""
    supervisor = reuse_port_listener("127.0.0.1", 0)
    assert isinstance(supervisor, ReusePortSocket)
    port = supervisor.getsockname()[1]
    workers = [pickle.loads(pickle.dumps(supervisor)) for _ in range(2)]
    clients = []
    try:
        for worker in workers:
            assert type(worker) is socket.socket and worker.fileno() != supervisor.fileno()
            assert worker.getsockname() == ("127.0.0.1", port)
            worker.listen(128)
        for _ in range(64):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        counts = [_accepted(worker) for worker in workers]
        assert sum(counts) == 64
        assert min(counts) > 0  # all 64 on one socket: chance 2**-63
    finally:
        for each in [*clients, *workers, supervisor]:
            each.close()


def test_an_address_in_use_is_a_config_error() -> None:
    """A port another socket holds without SO_REUSEPORT cannot be shared: said, not crashed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            reuse_port_listener("127.0.0.1", port)
