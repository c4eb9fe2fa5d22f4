"""A worker process that serves the connections its supervisor hands it, with uvicorn's server.

The worker has no listening socket. It reads accepted sockets from its Unix pair (see
:mod:`matinee.serve.balancer`) and adopts each with ``loop.connect_accepted_socket`` and the
protocol uvicorn's ``Server.startup`` builds, so keep-alive, limits, connection tracking and
graceful shutdown stay uvicorn's; the protocol also reports each close back on the pair.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable

from uvicorn import Config, Server
from uvicorn.supervisors.multiprocess import Process

from matinee.errors import ConfigError
from matinee.serve.balancer import READY, closed_report

__all__ = ["BalancedServer", "WorkerProcess"]

log = logging.getLogger("uvicorn.error")

MAX_FDS_PER_MESSAGE = 1
"""The supervisor sends one socket per message."""


def _counted(base: type[asyncio.Protocol], on_close: Callable[[], None]) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's HTTP protocol) calling ``on_close`` after each connection is lost."""

    def connection_lost(self: asyncio.Protocol, exc: Exception | None) -> None:
        try:
            base.connection_lost(self, exc)
        finally:
            on_close()

    counted: type[asyncio.Protocol] = type(
        f"Counted{base.__name__}", (base,), {"connection_lost": connection_lost}
    )
    return counted


class BalancedServer(Server):
    """uvicorn's ``Server`` fed by ``channel`` (its pair with the supervisor) instead of sockets."""

    def __init__(self, config: Config, channel: socket.socket) -> None:
        super().__init__(config)
        self._channel = channel
        self._closed = 0
        self._report_waiting = False
        self._adopting: set[asyncio.Task[None]] = set()
        self._protocol: type[asyncio.Protocol] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Uvicorn's startup (lifespan, models) with no listener; then tell the supervisor."""
        await super().startup(sockets=[])
        self._protocol = _counted(self.config.http_protocol_class, self._connection_closed)
        self._channel.setblocking(False)
        asyncio.get_running_loop().add_reader(self._channel.fileno(), self._receive)
        self._send(READY)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Take no more connections, then uvicorn's graceful shutdown of those open."""
        asyncio.get_running_loop().remove_reader(self._channel.fileno())
        await super().shutdown(sockets=None)

    def _receive(self) -> None:
        """Adopt every socket waiting on the pair; its end (the supervisor gone): stop."""
        while True:
            try:
                message, fds, _, _ = socket.recv_fds(
                    self._channel, 1, MAX_FDS_PER_MESSAGE, socket.MSG_CMSG_CLOEXEC
                )
            except BlockingIOError:
                return
            except OSError:
                message, fds = b"", []
            if not message and not fds:
                log.info("Supervisor gone; shutting down")
                asyncio.get_running_loop().remove_reader(self._channel.fileno())
                self.should_exit = True
                return
            for fd in fds:
                task = asyncio.get_running_loop().create_task(self._adopt(socket.socket(fileno=fd)))
                self._adopting.add(task)
                task.add_done_callback(self._adopting.discard)

    async def _adopt(self, sock: socket.socket) -> None:
        config, protocol = self.config, self._protocol
        assert protocol is not None  # set at startup, before any socket is read

        def create() -> asyncio.Protocol:
            return protocol(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        try:
            await asyncio.get_running_loop().connect_accepted_socket(create, sock)
        except (OSError, ValueError) as error:
            log.warning("could not serve a handed connection: %s", error)
            sock.close()
            self._connection_closed()

    def _connection_closed(self) -> None:
        self._closed += 1
        self._report()

    def _report(self) -> None:
        """Send the closed total now, or when the pair has room again."""
        self._report_waiting = False
        if not self._send(closed_report(self._closed)):
            self._report_waiting = True
            asyncio.get_running_loop().add_writer(self._channel.fileno(), self._flush)

    def _flush(self) -> None:
        asyncio.get_running_loop().remove_writer(self._channel.fileno())
        if self._report_waiting:
            self._report()

    def _send(self, message: bytes) -> bool:
        """Send ``message`` on the pair; False when its queue is full (a closed pair: dropped)."""
        try:
            self._channel.send(message)
        except BlockingIOError:
            return False
        except OSError:
            pass  # the supervisor is gone; _receive sees the end and stops
        return True


class WorkerProcess(Process):
    """uvicorn's worker process (spawned, health-checked by ping) running a :class:`BalancedServer`.

    uvicorn hands its ``sockets`` to the child; here that list is the worker's end of its pair.
    """

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        """Serve in the child: ``sockets`` holds the worker's end of its pair."""
        if not sockets:
            raise ConfigError("a balanced worker needs its pair with the supervisor")
        self._server = BalancedServer(self.config, sockets[0])
        threading.Thread(target=self.always_pong, daemon=True).start()
        self._server.run()
