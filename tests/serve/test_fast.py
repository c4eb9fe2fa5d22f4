"""The new-user shortcut: FastAPI's own answers, bytes for bytes, for good and bad requests."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import matinee.serve.app as app_module
import matinee.serve.routes as routes_module
from matinee.serve import create_app
from matinee.serve.fast import PATH, NewUserShortcut
from matinee.serve.limits import ServeLimits
from matinee.serve.registry import ModelRegistry
from matinee.serve.routes import json_response, new_user_payload
from matinee.serve.schemas import recommendation_request

GOOD = [
    {"ratings": {"1": 5, "50": 4.5, "181": 2}, "k": 5},
    {"ratings": [{"movie_id": 1, "rating": 4}, {"title": "Star Wars", "rating": 5}]},
    {"ratings": {"1": 5}, "genres": ["Comedy"], "years": [1990, 1999], "calibration": 0.5},
    {"ratings": {"1": 5, "181": 1}, "model": "bmf", "exclude": [50], "min_ratings": 20},
]
BAD: list[bytes] = [
    b"",
    b"{",
    b"[1]",
    b'{"ratings": {}}',
    b'{"ratings": {"1": 9}}',
    b'{"ratings": {"999999": 4}}',
    b'{"ratings": {"1": NaN}}',
    b'{"ratings": {"1": 4}, "model": "nope"}',
    b'{"ratings": {"1": 4}, "model": "bmf", "k": 101}',
    b'{"ratings": {"1": 4}, "k": 0}',
    b'{"ratings": {"1": 4}, "extra": 1}',
    b'{"ratings": {"Zzzzqqqxx": 4}}',
    b"\xff\xfe{",
]
SLOW = "application/merge-patch+json"
"""A JSON content type FastAPI parses but the shortcut leaves to it: FastAPI's own answer."""


@pytest.fixture(scope="module")
def app_client(models: Any, make_client: Any) -> Iterator[Any]:
    with make_client(create_app([models.ease, models.bmf], watch=False)) as client:
        yield client


def _post(client: Any, body: bytes, content_type: str) -> Any:
    return client.post(PATH, content=body, headers={"content-type": content_type})


@pytest.mark.parametrize(
    "body", [json.dumps(b).encode() for b in GOOD] + BAD, ids=lambda b: repr(b[:30])
)
def test_shortcut_answers_as_fastapi_does(app_client: Any, body: bytes) -> None:
    """Status, headers and body of the shortcut equal those of FastAPI's route."""
    fast = _post(app_client, body, "application/json")
    slow = _post(app_client, body, SLOW)
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.status_code < 500


class _Rest:
    """The app behind the shortcut: records what reaches it, and the body it reads."""

    def __init__(self) -> None:
        self.calls: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"rest"})


def _shortcut(models: Any) -> tuple[NewUserShortcut, _Rest, ModelRegistry]:
    registry = ModelRegistry([models.ease])
    rest = _Rest()

    async def score(function: Any, *args: Any) -> Any:
        return function(*args)

    shortcut = NewUserShortcut(
        rest,
        registry=registry,
        body_model=recommendation_request(ServeLimits()),
        score=score,
        new_user=new_user_payload,
        respond=json_response,
    )
    return shortcut, rest, registry


def _call(
    app: Any, body: bytes, headers: list[tuple[bytes, bytes]], chunks: list[dict[str, Any]]
) -> tuple[int, bytes]:
    scope = {"type": "http", "method": "POST", "path": PATH, "headers": headers}
    incoming = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _json_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


def test_a_good_request_never_reaches_the_rest(models: Any) -> None:
    shortcut, rest, registry = _shortcut(models)
    body = b'{"ratings": {"1": 5, "50": 4}, "k": 3}'
    chunks = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.request", "body": body[10:], "more_body": False},
    ]
    status, answer = _call(shortcut, body, _json_headers(body), chunks)
    request = recommendation_request(ServeLimits()).model_validate_json(body)
    expected = json_response(new_user_payload(registry.get(None), request)).body
    assert (status, answer, rest.calls) == (200, expected, [])


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"application/json")],  # no declared length (chunked)
        [(b"content-type", b"text/plain"), (b"content-length", b"38")],
        [(b"content-length", b"38")],
    ],
)
def test_other_requests_reach_the_rest_untouched(models: Any, headers: Any) -> None:
    shortcut, rest, _ = _shortcut(models)
    body = b'{"ratings": {"1": 5, "50": 4}, "k": 3}'
    chunk = {"type": "http.request", "body": body, "more_body": False}
    assert _call(shortcut, body, headers, [chunk]) == (299, b"rest")
    assert rest.calls == [body]


@pytest.mark.parametrize("body", BAD[:8], ids=repr)
def test_a_refused_body_reaches_the_rest_whole(models: Any, body: bytes) -> None:
    shortcut, rest, _ = _shortcut(models)
    chunks = [
        {"type": "http.request", "body": body[:3], "more_body": True},
        {"type": "http.request", "body": body[3:], "more_body": False},
    ]
    assert _call(shortcut, body, _json_headers(body), chunks) == (299, b"rest")
    assert rest.calls == [body]


def test_a_client_gone_mid_body_is_handed_on(models: Any) -> None:
    shortcut, rest, _ = _shortcut(models)
    body = b'{"ratings": {"1": 5}}'
    chunk = {"type": "http.request", "body": body[:5], "more_body": True}
    assert _call(shortcut, body, _json_headers(body), [chunk]) == (299, b"rest")
    assert rest.calls == [body[:5]]


def test_the_shortcut_scores_in_the_scoring_threads(
    models: Any, make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shortcut's list is made in the app's scoring threads, never on the event loop."""
    threads: list[str] = []

    def recording(bundle: Any, body: Any) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return new_user_payload(bundle, body)

    monkeypatch.setattr(app_module, "new_user_payload", recording)
    monkeypatch.setattr(routes_module, "new_user_payload", recording)
    with make_client(create_app([models.ease], watch=False)) as client:
        answer = _post(client, b'{"ratings": {"1": 5}}', "application/json")
        assert answer.status_code == 200
        _post(client, b'{"ratings": {"1": 5}}', SLOW)  # FastAPI's route: the same threads
    assert len(threads) == 2 and all(t.startswith("matinee-scoring") for t in threads)
