"""The supervisor's one listening socket, and the thread that hands each connection to a worker.

With ``SO_REUSEPORT`` sockets the kernel split 32 ``wrk`` connections over 2 workers 16/16 to
22/10 by a hash of their addresses, and the busier worker's queue set the tail latency. Here the
supervisor alone accepts, and passes each accepted connection (``SCM_RIGHTS``, over a Unix
``SOCK_SEQPACKET`` pair per worker) to the ready worker with the fewest open connections, ties
going to the one that waited longest, so persistent clients split exactly.

The messages on a worker's pair, one datagram each:

* supervisor to worker: ``b"s"`` carrying one accepted socket;
* worker to supervisor: ``b"R"`` once it serves, then ``b"C"`` and the number of connections it
  has closed so far (8 bytes, little-endian). A total, not a byte per close: a report the worker
  could not send (its queue full) is made good by the next, and open = handed - closed is exact.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass

from matinee.errors import ConfigError

__all__ = ["CLOSED", "HAND_OFF", "READY", "Balancer", "closed_report", "listen"]

log = logging.getLogger(__name__)

HAND_OFF = b"s"
READY = b"R"
CLOSED = b"C"
_TOTAL = struct.Struct("<q")

ACCEPTS_PER_WAKE = 64
"""Connections accepted in one go before the workers' reports are read again."""


def closed_report(total: int) -> bytes:
    """The message saying a worker has closed ``total`` connections since it started."""
    return CLOSED + _TOTAL.pack(total)


def listen(host: str, port: int, backlog: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (port 0: any free one).

    Raises:
        ConfigError: the address cannot be bound (in use, or not this machine's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


@dataclass
class _Channel:
    """The supervisor's end of one worker's pair, and what it knows of that worker."""

    sock: socket.socket
    pid: int
    handed: int = 0
    closed: int = 0
    ready: bool = False
    last: int = 0  # the hand-off sequence number of its latest connection

    @property
    def open(self) -> int:
        return self.handed - self.closed


class Balancer:
    """Accepts on ``listener`` in a thread and hands each connection to the least busy worker.

    It accepts nothing until ``workers`` workers are ready (so the first clients split evenly),
    and afterwards whenever at least one is: while a dead worker restarts, the others take the
    new connections. :meth:`attach`, :meth:`detach` and :meth:`stop` may be called from any
    thread; the selector is only touched by the balancer's own.
    """

    def __init__(self, listener: socket.socket, workers: int) -> None:
        listener.setblocking(False)
        self._listener = listener
        self._expected = workers
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._lock = threading.Lock()
        self._commands: list[Callable[[], None]] = []
        self._channels: dict[int, _Channel] = {}
        self._accepting = False
        self._serving = False
        self._sequence = 0
        self._running = True
        self._selector.register(self._wake_read, selectors.EVENT_READ, self._run_commands)
        self._thread = threading.Thread(target=self._run, name="matinee-balancer", daemon=True)

    def start(self) -> None:
        """Start the balancer's thread."""
        self._thread.start()

    def attach(self, slot: int, sock: socket.socket, pid: int) -> None:
        """Route connections to worker ``pid`` on ``sock`` (its pair) once it says it is ready."""
        self._call(lambda: self._attach(slot, sock, pid))

    def detach(self, slot: int) -> None:
        """Forget the worker in ``slot`` (it died or was stopped); its pair is closed."""
        self._call(lambda: self._drop(slot))

    def split(self) -> dict[int, int]:
        """Open connections per worker pid, as the balancer counts them."""
        with self._lock:
            return {channel.pid: channel.open for channel in self._channels.values()}

    def stop(self) -> None:
        """Stop accepting, close the listener and every pair; returns when the thread has ended."""
        self._call(self._shut)
        self._thread.join()
        self._wake_read.close()
        self._wake_write.close()
        self._selector.close()

    def _call(self, command: Callable[[], None]) -> None:
        with self._lock:
            self._commands.append(command)
        with contextlib.suppress(BlockingIOError):  # a wake-up is already waiting
            self._wake_write.send(b"w")

    def _run(self) -> None:
        while self._running:
            for key, _ in self._selector.select():
                key.data(key.fileobj)

    def _run_commands(self, _: object) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            commands, self._commands = self._commands, []
        for command in commands:
            command()

    def _attach(self, slot: int, sock: socket.socket, pid: int) -> None:
        self._drop(slot)
        sock.setblocking(False)
        with self._lock:
            self._channels[slot] = _Channel(sock, pid)
        self._selector.register(sock, selectors.EVENT_READ, lambda _: self._read(slot))

    def _drop(self, slot: int) -> None:
        with self._lock:
            channel = self._channels.pop(slot, None)
        if channel is None:
            return
        self._selector.unregister(channel.sock)
        channel.sock.close()
        self._update_accepting()

    def _shut(self) -> None:
        for slot in list(self._channels):
            self._drop(slot)
        if self._accepting:
            self._selector.unregister(self._listener)
            self._accepting = False
        self._listener.close()
        self._running = False

    def _read(self, slot: int) -> None:
        """Take every report waiting from the worker in ``slot``; an empty read: it is gone."""
        channel = self._channels.get(slot)
        while channel is not None:
            try:
                message = channel.sock.recv(16)
            except BlockingIOError:
                return
            except OSError:
                message = b""
            if not message:
                self._drop(slot)
                return
            if message == READY:
                channel.ready = True
                self._update_accepting()
            elif message[:1] == CLOSED and len(message) == 1 + _TOTAL.size:
                with self._lock:
                    channel.closed = max(channel.closed, _TOTAL.unpack(message[1:])[0])

    def _update_accepting(self) -> None:
        """Listen for clients when enough workers are ready, stop when none is."""
        ready = sum(channel.ready for channel in self._channels.values())
        self._serving = self._serving or ready >= self._expected
        wanted = ready > 0 and self._serving
        if wanted and not self._accepting:
            self._selector.register(self._listener, selectors.EVENT_READ, self._accept)
        elif self._accepting and not wanted:
            self._selector.unregister(self._listener)
        self._accepting = wanted

    def _accept(self, _: object) -> None:
        for _ in range(ACCEPTS_PER_WAKE if self._accepting else 0):
            try:
                connection, _address = self._listener.accept()
            except BlockingIOError:
                return
            except OSError as error:  # out of file descriptors, say: the client waits
                log.warning("accepting a connection failed: %s", error)
                return
            with connection:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._hand(connection)

    def _hand(self, connection: socket.socket) -> None:
        """Pass ``connection`` to the ready worker with the fewest open (longest idle first)."""
        ready = [(slot, c) for slot, c in self._channels.items() if c.ready]
        for slot, channel in sorted(ready, key=lambda item: (item[1].open, item[1].last)):
            try:
                socket.send_fds(channel.sock, [HAND_OFF], [connection.fileno()])
            except BlockingIOError:
                continue  # its queue is full (a long stall): the next worker
            except OSError:
                self._drop(slot)
                continue
            with self._lock:
                channel.handed += 1
            self._sequence += 1
            channel.last = self._sequence
            return
        log.warning("no worker could take a connection from %s; closed it", connection)
