"""Drive an ASGI app in this process, without sockets or an HTTP client: the app's own cost.

:class:`InProcessApp` runs the app's lifespan (so its BLAS limits, warm-up and scoring threads
are those of a real worker) and sends it one request at a time through plain ASGI messages.
What a request costs here is what the app spends on it, which is what a server's CPUs have to
pay for, apart from uvicorn's parsing and the kernel's loopback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]


class InProcessApp:
    """An ASGI app started in a private event loop; :meth:`request` sends it one request."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._lifespan_in: asyncio.Queue[Message] | None = None
        self._lifespan_out: asyncio.Queue[Message] | None = None
        self._lifespan: asyncio.Task[None] | None = None

    def __enter__(self) -> InProcessApp:
        self._loop.run_until_complete(self._start())
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.run_until_complete(self._stop())
        self._loop.close()

    async def _start(self) -> None:
        self._lifespan_in, self._lifespan_out = asyncio.Queue(), asyncio.Queue()
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.create_task(
            self._app(scope, self._lifespan_in.get, self._lifespan_out.put)
        )
        await self._lifespan_in.put({"type": "lifespan.startup"})
        started = await self._lifespan_out.get()
        if started["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"the app did not start: {started}")

    async def _stop(self) -> None:
        assert self._lifespan_in is not None and self._lifespan_out is not None
        await self._lifespan_in.put({"type": "lifespan.shutdown"})
        await self._lifespan_out.get()
        if self._lifespan is not None:
            await self._lifespan

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The status and body of one request (``path`` may carry a query string)."""
        return self._loop.run_until_complete(self._request(method, path, body))

    async def _request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        route, _, query = path.partition("?")
        headers = [(b"host", b"bench"), (b"content-length", str(len(body)).encode())]
        if body:
            headers.append((b"content-type", b"application/json"))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": route,
            "raw_path": route.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        sent = False
        status, chunks = 0, []

        async def receive() -> Message:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()  # no more body: wait as a disconnect would
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status, b"".join(chunks)
