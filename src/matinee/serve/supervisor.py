"""The parent of ``matinee serve --workers N`` on Linux: it listens, balances and keeps N workers.

What uvicorn's ``Multiprocess`` supervisor does (spawned workers, each pinged and restarted
when it dies or hangs, a startup failure stopping everything, SIGINT/SIGTERM a graceful stop)
with one change: the parent owns the listening socket and hands each connection to the worker
with the fewest open ones (:class:`matinee.serve.balancer.Balancer`), instead of letting the
kernel or the first worker awake choose.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from types import FrameType

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE

from matinee.serve.balancer import Balancer
from matinee.serve.worker import WorkerProcess

__all__ = ["Supervisor"]

log = logging.getLogger("uvicorn.error")  # where uvicorn's own supervisor logs

TICK_S = 0.5
"""How often the supervisor handles signals and checks its workers (uvicorn's interval)."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Supervisor:
    """``config.workers`` worker processes behind ``listener``, until SIGINT or SIGTERM."""

    def __init__(self, config: Config, listener: socket.socket) -> None:
        self.config = config
        self.balancer = Balancer(listener, config.workers)
        self.workers: dict[int, WorkerProcess] = {}
        self.should_exit = threading.Event()
        self._signals: list[int] = []

    def run(self) -> None:
        """Start the workers and keep them; returns once all have stopped."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._on_signal)
        log.info("Started parent process [%d]", os.getpid())
        self.balancer.start()
        try:
            for slot in range(self.config.workers):
                self._start(slot)
            while not self.should_exit.wait(TICK_S):
                self._handle_signals()
                self._keep_workers()
        finally:
            self._stop_all()
        log.info("Stopping parent process [%d]", os.getpid())

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._signals.append(sig)  # handled on the next tick, outside the signal handler

    def _handle_signals(self) -> None:
        while self._signals:
            name = signal.Signals(self._signals.pop(0)).name
            log.info("Received %s, exiting.", name)
            self.should_exit.set()

    def _start(self, slot: int) -> None:
        """Spawn a worker for ``slot`` with a fresh pair; the balancer routes to it once ready."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = WorkerProcess(self.config, [theirs])
            process.start()
        finally:
            theirs.close()  # the child holds its own copy now
        self.workers[slot] = process
        self.balancer.attach(slot, ours, int(process.pid or 0))

    def _keep_workers(self) -> None:
        """Replace each worker that died or stopped answering (uvicorn's keep_subprocess_alive)."""
        for slot, process in list(self.workers.items()):
            if self.should_exit.is_set():
                return
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            self.balancer.detach(slot)
            if process.exitcode == STARTUP_FAILURE:
                # It failed before serving: the app or its models are broken, and every restart
                # would fail the same way.
                log.error(
                    "Child process [%s] failed to start, stopping the parent process.", process.pid
                )
                self.should_exit.set()
                return
            log.info("Child process [%s] died", process.pid)
            self._start(slot)

    def _stop_all(self) -> None:
        """Stop accepting, then let each worker finish its requests and stop (uvicorn's way)."""
        self.balancer.stop()
        for process in self.workers.values():
            process.terminate()
        for process in self.workers.values():
            process.join()
