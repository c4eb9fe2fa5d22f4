"""The one error shape of the API and the handlers that turn every failure into it.

Every error is ``{"error": {"code", "message", "details"}}`` with a 4xx status; an
unexpected bug gets a 500 of the same shape (logged with its traceback, never sent).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matinee.errors import (
    ConfigError,
    DataError,
    MatineeError,
    ModelFormatError,
    NotFittedError,
    UnknownIdError,
    UnknownNameError,
)

__all__ = [
    "ApiError",
    "UnknownModelError",
    "BodySizeLimit",
    "error_body",
    "install_error_handlers",
]

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "body_too_large",
    415: "unsupported_media_type",
    503: "not_ready",
}


class UnknownModelError(UnknownNameError):
    """A model name the server has not loaded (``known``: the loaded names)."""

    kind = "model"
    listed = "loaded"


class ApiError(Exception):
    """An error a route raises on purpose, with its status, code and details."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON of one error."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status)


def _sentence(text: str) -> str:
    text = text.strip() or "the request failed"
    return text if text.endswith((".", "?", "!")) else text + "."


def matinee_error_response(error: MatineeError) -> JSONResponse:
    """Map a library error to its status: unknown ids 404, ambiguous titles 409, bad input 422."""
    from matinee.service import AmbiguousTitleError

    message = _sentence(str(error))
    if isinstance(error, UnknownModelError):
        details = {"kind": "model", "unknown": [error.name], "known": error.known}
        return _response(404, "unknown_model", message, details)
    if isinstance(error, UnknownIdError):
        unknown = [i if isinstance(i, int | str) else str(i) for i in error.ids]
        return _response(404, "unknown_id", message, {"kind": error.kind, "unknown": unknown})
    if isinstance(error, AmbiguousTitleError):
        candidates = {
            text: [movie.to_dict() for movie in found] for text, found in error.candidates.items()
        }
        return _response(409, "ambiguous_title", message, {"candidates": candidates})
    if isinstance(error, ModelFormatError | NotFittedError):
        return _response(503, "model_unavailable", message)
    if isinstance(error, ConfigError):
        return _response(422, "invalid_parameter", message)
    if isinstance(error, DataError):
        return _response(422, "invalid_input", message)
    return _response(422, "invalid_request", message)


def _validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    from matinee.serve.schemas import UNION_TAGS

    return [
        {
            "loc": [str(part) for part in error.get("loc", ()) if part not in UNION_TAGS],
            "message": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


def validation_response(error: RequestValidationError) -> JSONResponse:
    """A 422 naming the first field at fault, every problem listed in ``details.errors``."""
    problems = _validation_errors(error.errors())
    if problems:
        first = problems[0]
        where = ".".join(part for part in first["loc"] if part) or "request"
        message = f"{where}: {first['message']}"
    else:
        message = "the request is not valid"
    return _response(422, "validation_error", _sentence(message), {"errors": problems})


def http_error_response(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """404, 405 and friends from routing, in the API's error shape."""
    code = _HTTP_CODES.get(error.status_code, "http_error")
    if error.status_code == 404:
        message = f"no such resource: {request.url.path}"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(error.detail)
    response = _response(error.status_code, code, _sentence(message))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every failure the API's error shape."""

    async def on_api_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return _response(error.status, error.code, _sentence(error.message), error.details)

    async def on_matinee_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, MatineeError)
        return matinee_error_response(error)

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        return validation_response(error)

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return http_error_response(request, error)

    async def on_bug(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _response(500, "internal_error", "The server failed on this request; see its log.")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(MatineeError, on_matinee_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_bug)


class BodySizeLimit:
    """ASGI middleware refusing bodies over ``max_bytes`` with a JSON 413, before parsing.

    A declared ``Content-Length`` over the cap is refused at once; a chunked body is counted
    as it arrives and refused (as an HTTP 413 raised into the route) when it passes the cap.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 if its body is too big."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            error = _too_large(declared, self.max_bytes)
            response = _response(413, "body_too_large", _sentence(str(error.detail)))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _too_large(seen, self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _too_large(size: int, limit: int) -> HTTPException:
    return HTTPException(
        413, f"the request body ({size} bytes or more) is over the limit of {limit} bytes"
    )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
