"""The supervisor's balancer in process: workers are socket pairs, clients real TCP connections."""

from __future__ import annotations

import select
import socket
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from matinee.errors import ConfigError
from matinee.serve.balancer import HAND_OFF, READY, Balancer, closed_report, listen

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


class FakeWorker:
    """The worker's end of a pair: what a real worker reads and reports, by hand."""

    def __init__(self, balancer: Balancer, slot: int) -> None:
        self.end, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        balancer.attach(slot, theirs, pid=1000 + slot)
        self.held: list[socket.socket] = []

    def take(self, timeout_s: float = 0.5) -> int:
        """Receive every connection handed so far (waiting ``timeout_s`` for the first)."""
        count = 0
        while select.select([self.end], [], [], timeout_s if count == 0 else 0.2)[0]:
            message, fds, _, _ = socket.recv_fds(self.end, 1, 1)
            assert message == HAND_OFF and len(fds) == 1
            self.held.append(socket.socket(fileno=fds[0]))
            count += 1
        return count

    def close_all(self) -> None:
        """Close every connection held and report the total, as a worker's protocol does."""
        for held in self.held:
            held.close()
        self.end.send(closed_report(len(self.held)))


@pytest.fixture
def balancer() -> Iterator[Balancer]:
    listener = listen("127.0.0.1", 0, 128)
    running = Balancer(listener, workers=2)
    running.start()
    yield running
    running.stop()


def connect(balancer: Balancer, clients: list[socket.socket], n: int) -> None:
    port = balancer._listener.getsockname()[1]
    clients.extend(socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n))


def test_exact_split_waits_for_all_workers_and_follows_closes(balancer: Balancer) -> None:
    first, second = FakeWorker(balancer, 0), FakeWorker(balancer, 1)
    clients: list[socket.socket] = []
    try:
        first.end.send(READY)
        connect(balancer, clients, 2)
        assert first.take(0.3) == 0  # one of two ready: nobody is served yet
        second.end.send(READY)
        connect(balancer, clients, 6)
        assert (first.take(), second.take()) == (4, 4)
        assert balancer.split() == {1000: 4, 1001: 4}

        first.close_all()
        assert _eventually(lambda: balancer.split() == {1000: 0, 1001: 4})
        connect(balancer, clients, 4)
        assert (first.take(), second.take(0.2)) == (4, 0)  # the emptied worker takes all four

        first.end.close()  # the first worker dies: the second takes every new client
        connect(balancer, clients, 3)
        assert second.take() == 3
        assert balancer.split() == {1001: 7}
    finally:
        for each in [*clients, *first.held, *second.held, second.end]:
            each.close()


def test_ties_alternate_between_idle_workers(balancer: Balancer) -> None:
    """Clients that close at once (no keep-alive) still alternate, not all to the first."""
    workers = [FakeWorker(balancer, 0), FakeWorker(balancer, 1)]
    clients: list[socket.socket] = []
    try:
        for worker in workers:
            worker.end.send(READY)
        taken = []
        for _ in range(4):
            connect(balancer, clients, 1)
            counts = [worker.take(0.3 if i == 0 else 0.05) for i, worker in enumerate(workers)]
            for worker in workers:
                worker.close_all()
            assert _eventually(lambda: set(balancer.split().values()) == {0})
            taken.append(counts.index(1))
        assert taken in ([0, 1, 0, 1], [1, 0, 1, 0])
    finally:
        for each in [*clients, *(s for w in workers for s in [*w.held, w.end])]:
            each.close()


def _eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_an_address_in_use_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            listen("127.0.0.1", port, 16)


def test_without_fd_passing_uvicorns_own_supervisor_runs_the_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where sockets cannot be handed over (not Linux), ``--workers`` is uvicorn's shared socket."""
    import uvicorn

    from matinee.serve import runner

    seen: dict[str, object] = {}
    monkeypatch.setattr(runner, "BALANCED", False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options, app=app))
    runner._run_workers(3, {"host": "127.0.0.1", "port": 0})
    assert seen["workers"] == 3 and seen["factory"] is True
    assert seen["timeout_worker_healthcheck"] == runner.WORKER_HEALTHCHECK_S
