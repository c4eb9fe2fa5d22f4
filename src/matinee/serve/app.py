"""The FastAPI app: health, the JSON API, model reports and the web page, over a registry."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from threadpoolctl import threadpool_limits

import matinee
from matinee.errors import ConfigError
from matinee.ranking import top_k_row
from matinee.serve.errors import ApiError, BodySizeLimit, install_error_handlers
from matinee.serve.fast import NewUserShortcut
from matinee.serve.limits import ServeLimits
from matinee.serve.registry import ModelRegistry
from matinee.serve.routes import (
    ERRORS,
    ScoringPool,
    api_router,
    json_response,
    new_user_payload,
    readiness,
)
from matinee.serve.schemas import HealthResponse, ReadyResponse, recommendation_request

__all__ = ["CONFIG_ENV", "STATIC_DIR", "app_from_environment", "create_app"]

STATIC_DIR = Path(__file__).parent / "static"
"""The web page's files: ``index.html`` at ``/``, the rest under ``/static/``."""

CONFIG_ENV = "MATINEE_SERVE_CONFIG"
"""Where ``matinee serve --workers N`` hands each worker process its model dirs and limits."""

DESCRIPTION = """\
Recommendations from Matinee saved models: new users (ratings by id or title), known users,
similar movies, title search. Every error is `{"error": {"code", "message", "details"}}`.
Each model's explain report, where it has one, is at `/api/v1/models/{name}/report/`.
"""

PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Matinee</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Matinee</h1><p>The web page is not installed in this build.
The API is described at <a href="/docs">/docs</a>.</p></main></body></html>
"""


class _State:
    """Whether the app answers (False while stopping)."""

    def __init__(self) -> None:
        self.ready = True


def create_app(
    model_dirs: Sequence[Path], *, limits: ServeLimits | None = None, watch: bool = True
) -> FastAPI:
    """Load the models in ``model_dirs`` (the first is the default) and build the app.

    Args:
        model_dirs: Saved model directories; each is served under its directory name.
        limits: Request caps; default :class:`ServeLimits`.
        watch: Poll each model's manifest while the app runs and swap in replacements.

    Raises:
        ConfigError: no directory, or two with the same name.
        ModelFormatError: a directory that is not a loadable saved model.
    """
    limits = limits or ServeLimits()
    registry = ModelRegistry(model_dirs)
    state = _State()
    score = ScoringPool(limits.scoring_threads)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        blas = threadpool_limits(limits.blas_threads, user_api="blas")
        warm_up()
        watcher = registry.watch(limits.reload_poll_s) if watch else None
        state.ready = True
        try:
            yield
        finally:
            state.ready = False
            if watcher is not None:
                watcher.stop()
            score.close()
            blas.restore_original_limits()

    app = FastAPI(
        title="Matinee",
        version=matinee.__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.registry = registry
    app.state.limits = limits
    install_error_handlers(app)
    request_body = recommendation_request(limits)
    app.add_middleware(
        NewUserShortcut,
        registry=registry,
        body_model=request_body,
        score=score.payload,
        new_user=new_user_payload,
        respond=json_response,
    )
    app.add_middleware(BodySizeLimit, max_bytes=limits.max_body_bytes)  # outside the shortcut
    app.include_router(_health_router(registry, state))
    app.include_router(api_router(registry, limits, score, request_body))
    app.include_router(_report_router(registry))
    app.include_router(_page_router())
    return app


def warm_up() -> None:
    """Ready the process for requests: the top-k kernel compiled, the loaded objects frozen.

    The first list would otherwise compile (or load from numba's cache) the kernel while a
    client waits; and freezing moves every object alive now (the models' catalogs, FastAPI's
    routes) out of the cyclic collector's view, so its full passes stop scanning them while
    requests wait (see :meth:`ModelRegistry.reload`, which freezes each model swapped in).
    """
    top_k_row(np.zeros(2), 1)
    gc.collect()
    gc.freeze()


def _health_router(registry: ModelRegistry, state: _State) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=HealthResponse)
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @router.get("/readyz", response_model=ReadyResponse, responses={503: ERRORS[503]})
    async def readyz() -> dict[str, Any]:
        """Every model is loaded and the server answers; 503 while stopping."""
        return readiness(registry, state.ready)

    return router


def _report_router(registry: ModelRegistry) -> APIRouter:
    router = APIRouter(prefix="/api/v1/models/{name}/report", include_in_schema=False)

    @router.get("")
    def report_root(name: str) -> Response:
        registry.get(name)
        return RedirectResponse(f"/api/v1/models/{name}/report/", status_code=307)

    @router.get("/{path:path}")
    def report_file(name: str, path: str) -> Response:
        return FileResponse(_report_file(registry, name, path))

    return router


def _report_file(registry: ModelRegistry, name: str, path: str) -> Path:
    """The file ``path`` of the model's report, refusing anything outside it."""
    report = registry.get(name).report_dir
    if report is None:
        raise ApiError(404, "no_report", f"model {name!r} has no explain report")
    return _file_below(report, path, what=f"the report of {name!r}")


def _file_below(root: Path, path: str, *, what: str) -> Path:
    """``root/path`` (``index.html`` for a folder) if it is a file inside ``root``, else 404."""
    base = root.resolve()
    target = (base / path).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(base) or not target.is_file():
        raise ApiError(404, "not_found", f"{what} has no file {path!r}")
    return target


def _page_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def index() -> Response:
        page = STATIC_DIR / "index.html"
        if page.is_file():
            return FileResponse(page, media_type="text/html")
        return HTMLResponse(PLACEHOLDER)

    @router.get("/static/{path:path}")
    async def static(path: str) -> Response:
        return FileResponse(_file_below(STATIC_DIR, path, what="the web page"))

    return router


def environment_config(model_dirs: Sequence[Path], limits: ServeLimits, *, watch: bool) -> str:
    """The JSON that :func:`app_from_environment` reads from :data:`CONFIG_ENV`."""
    return json.dumps(
        {
            "model_dirs": [str(Path(d).resolve()) for d in model_dirs],
            "limits": asdict(limits),
            "watch": watch,
        }
    )


def app_from_environment() -> FastAPI:
    """Build the app from :data:`CONFIG_ENV`: the factory each uvicorn worker process calls.

    Raises:
        ConfigError: the variable is missing or not the JSON :func:`environment_config` writes.
    """
    text = os.environ.get(CONFIG_ENV)
    if not text:
        raise ConfigError(f"{CONFIG_ENV} is not set; start the server with `matinee serve`")
    try:
        config = json.loads(text)
        dirs = [Path(d) for d in config["model_dirs"]]
        limits = ServeLimits(**config["limits"])
        watch = bool(config["watch"])
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"{CONFIG_ENV} is not a Matinee serve config: {error}") from None
    return create_app(dirs, limits=limits, watch=watch)
