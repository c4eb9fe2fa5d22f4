"""Schemathesis against the app's own OpenAPI schema: no 5xx, every response as documented."""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matinee.serve import create_app  # noqa: E402

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/api/v1/models"),
    ("GET", "/api/v1/movies/search"),
    ("GET", "/api/v1/movies/{movie_id}"),
    ("GET", "/api/v1/movies/{movie_id}/similar"),
    ("POST", "/api/v1/recommendations"),
    ("GET", "/api/v1/users/{user_id}/recommendations"),
    ("POST", "/api/v1/admin/reload"),
]


@pytest.fixture(scope="module")
def api_schema(models: Any) -> Any:
    app = create_app([models.ease, models.bmf], watch=False)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_every_operation_is_fuzzed(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_api_conforms_to_its_schema(api_schema: Any, method: str, path: str) -> None:
    operation = api_schema[path][method]
    examples = 10 if path == "/api/v1/admin/reload" else 40

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


def test_the_fuzzing_catches_a_server_error(models: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app([models.ease], watch=False)
    bundle = app.state.registry.get()

    def broken(self: Any, text: str, *, limit: int = 10) -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(type(bundle), "search", broken)
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)["/api/v1/movies/search"]["GET"]

    @given(case=operation.as_strategy())
    @settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    # In process the app's bug surfaces as the exception itself; on a socket, as a JSON 500.
    with pytest.raises(Exception, match=r"bug|Server error"):
        check()
