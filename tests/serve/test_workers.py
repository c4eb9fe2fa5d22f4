"""``matinee serve --workers 2`` as real processes: an exact split, restarts and a clean stop."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import LiveServer, Models, start_server, stop_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="balancing is Linux only"),
]

BODY = json.dumps({"ratings": {"1": 5, "Aladdin (1992)": 4.5, "121": 2}, "k": 10})


class Connection:
    """One persistent (keep-alive) HTTP connection to the server."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.http = http.client.HTTPConnection(host, int(port), timeout=30)

    def worker(self) -> int:
        """The pid of the worker serving this connection (``/readyz`` says)."""
        self.http.request("GET", "/readyz")
        answer = self.http.getresponse()
        assert answer.status == 200
        return int(json.loads(answer.read())["worker_pid"])

    def recommend(self) -> int:
        self.http.request(
            "POST", "/api/v1/recommendations", BODY, {"content-type": "application/json"}
        )
        answer = self.http.getresponse()
        assert len(json.loads(answer.read())["items"]) == 10
        return answer.status

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def server(models: Models, tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server([models.ease, models.bmf], tmp_path / "workers.log", "--workers", "2")
    yield live
    stop_server(live)


def open_connections(url: str, n: int) -> tuple[list[Connection], Counter[int]]:
    """``n`` persistent connections, each asked once which worker serves it."""
    connections = [Connection(url) for _ in range(n)]
    return connections, Counter(connection.worker() for connection in connections)


def test_connections_split_exactly_and_rebalance_after_closes(server: LiveServer) -> None:
    connections, split = open_connections(server.url, 8)
    assert sorted(split.values()) == [4, 4]
    pids = [connection.worker() for connection in connections]
    assert Counter(pids) == split  # persistent: each stays on its worker
    assert all(connection.recommend() == 200 for connection in connections)

    first = pids[0]
    for connection, pid in zip(connections, pids, strict=True):
        if pid == first:
            connection.close()
    time.sleep(1.0)  # the worker reports the closes to the supervisor
    more, split = open_connections(server.url, 4)
    assert split == {first: 4}  # all to the emptied worker: 4 and 4 again
    for connection in [*connections, *more]:
        connection.close()
    if shutil.which("ss"):
        assert _listening_pids(server.url) == {str(server.process.pid)}  # one socket, the parent's


def test_a_killed_worker_is_replaced_and_the_server_keeps_answering(server: LiveServer) -> None:
    connections, split = open_connections(server.url, 4)
    victim, survivor = split
    os.kill(victim, signal.SIGKILL)
    for connection in connections:
        connection.close()
    time.sleep(1.0)  # it has died (a connection handed to it in its last instant is lost)
    seen: set[int] = set()
    deadline = time.monotonic() + 300  # the replacement loads the models: slow on a busy machine
    while time.monotonic() < deadline and not seen - {victim, survivor}:
        probe = Connection(server.url)
        assert probe.recommend() == 200  # served meanwhile, by the survivor
        seen.add(probe.worker())
        probe.close()
        time.sleep(0.05)
    assert seen - {victim, survivor}, f"no replacement worker answered: {server.output()}"
    replacement = (seen - {victim, survivor}).pop()
    assert victim not in seen
    time.sleep(1.0)
    connections, split = open_connections(server.url, 6)
    assert split == {survivor: 3, replacement: 3}
    for connection in connections:
        connection.close()
    assert f"Child process [{victim}] died" in server.output()


def test_sigterm_stops_the_workers_and_the_parent_cleanly(server: LiveServer) -> None:
    connections, split = open_connections(server.url, 2)
    assert connections[0].recommend() == 200
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    for pid in split:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    log = server.output()
    assert log.count("Finished server process") == 2
    assert "Traceback" not in log
    for connection in connections:
        connection.close()


def _listening_pids(url: str) -> set[str]:
    """The processes with a listening socket on ``url``'s port."""
    port = url.rsplit(":", 1)[1]
    command = ["ss", "-Hltnp", f"( sport = :{port} )"]
    listed = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"pid=(\d+)", listed))
