"""A short way through the app for the busiest request: a new user's recommendations.

``POST /api/v1/recommendations`` is what a page or a client calls most, and FastAPI's way to it
(exception middleware, exit stacks, route matching over every route, the request object, body
and dependency solving) cost about as much CPU as the EASE list itself. :class:`NewUserShortcut`
answers a well-formed request directly: the body read and parsed as FastAPI parses it
(``json.loads``), validated by the route's own pydantic model, scored by the same function in
the same scoring threads, sent as the same bytes. Anything else (another route, a body that
is not plain JSON with a declared length, a body the model refuses, an unknown id, any error
while scoring) goes to FastAPI with the body handed on unread, so every error answer is exactly
FastAPI's. The route stays declared in FastAPI, for the OpenAPI schema and ``/docs``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matinee.serve.registry import ModelRegistry

__all__ = ["PATH", "NewUserShortcut"]

PATH = "/api/v1/recommendations"
"""The route the shortcut answers."""

Score = Callable[..., Any]


class NewUserShortcut:
    """ASGI middleware: well-formed new-user requests answered without FastAPI's routing.

    Args:
        app: The rest of the app (FastAPI's stack), which answers everything else.
        registry: The models, as the route reads them.
        body_model: The route's request body class (:func:`recommendation_request`).
        score: ``await score(fn, *args)``: the app's scoring pool, giving the payload.
        new_user: The route's scoring function ``(bundle, body) -> payload``.
        respond: The route's ``payload -> Response``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        registry: ModelRegistry,
        body_model: type[BaseModel],
        score: Score,
        new_user: Callable[..., dict[str, Any]],
        respond: Callable[[dict[str, Any]], Any],
    ) -> None:
        self.app = app
        self._registry = registry
        self._body_model = body_model
        self._score = score
        self._new_user = new_user
        self._respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a well-formed new-user request here; hand anything else on."""
        if not _eligible(scope):
            await self.app(scope, receive, send)
            return
        body, complete = await _read_body(receive)
        if not complete:  # the client went away (or sent a stream): FastAPI decides
            await self.app(scope, _replay(body, receive, done=False), send)
            return
        payload = await self._answer(body)
        if payload is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await self._respond(payload)(scope, receive, send)

    async def _answer(self, body: bytes) -> dict[str, Any] | None:
        """The route's payload for ``body``, or None where FastAPI should answer instead."""
        try:
            request = self._body_model.model_validate(json.loads(body))
            bundle = self._registry.get(getattr(request, "model", None))
        except Exception:  # every refusal is worded by FastAPI
            return None
        try:
            payload: dict[str, Any] = await self._score(self._new_user, bundle, request)
        except Exception:  # answered (and logged) by FastAPI's handlers
            return None
        return payload


def _eligible(scope: Scope) -> bool:
    """A POST to :data:`PATH` with a declared length and a plain JSON content type."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    length = content_type = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value
        elif name == b"content-type":
            content_type = value
    if length is None or not length.isdigit() or content_type is None:
        return False
    return bool(content_type.split(b";", 1)[0].strip().lower() == b"application/json")


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body, and whether it came whole (False: a disconnect came first)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, receive: Receive, *, done: bool = True) -> Receive:
    """``receive`` that first gives ``body`` again (as the whole body when ``done``)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": not done}

    return replayed
