"""``matinee serve DIR [DIR ...]``: the HTTP API and web page over saved models."""

from __future__ import annotations

import importlib.util
import runpy
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from matinee.cli._options import option_groups
from matinee.cli.app import app, err_console, fail
from matinee.errors import ConfigError, MatineeError

if TYPE_CHECKING:
    from matinee.serve.limits import ServeLimits

__all__ = ["LimitOptions", "serve_command"]


def _default_limits() -> ServeLimits:
    """``ServeLimits()``, for its defaults, read without loading the serve extra.

    ``import matinee.serve.limits`` runs ``matinee/serve/__init__.py``, which imports FastAPI
    (seconds, and absent without the extra), yet ``--help`` needs only the defaults; limits.py
    itself imports nothing but :mod:`matinee.errors`, so it is run from its file instead.
    """
    loaded = sys.modules.get("matinee.serve.limits")
    if loaded is None:
        package = importlib.util.find_spec("matinee.serve")
        if package is None or not package.submodule_search_locations:
            raise ConfigError("matinee.serve is missing from this installation")
        path = Path(package.submodule_search_locations[0]) / "limits.py"
        return cast("ServeLimits", runpy.run_path(str(path))["ServeLimits"]())
    return cast("ServeLimits", loaded.ServeLimits())


DEFAULT_LIMITS = _default_limits()
"""The caps a server gets when no option is given: ServeLimits' own defaults."""


@dataclass(frozen=True)
class LimitOptions:
    """The request caps a user may set, as one option group of :class:`ServeLimits` fields."""

    max_k: Annotated[int, typer.Option("--max-k", help="Longest list a request may ask for.")] = (
        DEFAULT_LIMITS.max_k
    )
    max_ratings: Annotated[
        int, typer.Option("--max-ratings", help="Most ratings in one new-user request.")
    ] = DEFAULT_LIMITS.max_ratings
    max_body_kib: Annotated[
        int, typer.Option("--max-body-kib", help="Largest request body, in KiB.")
    ] = DEFAULT_LIMITS.max_body_bytes // 1024
    max_search_limit: Annotated[
        int, typer.Option("--max-search", help="Most titles one search returns.")
    ] = DEFAULT_LIMITS.max_search_limit

    def limits(self) -> ServeLimits:
        """These caps over ServeLimits' defaults for the rest (needs the serve extra).

        Raises:
            ConfigError: a cap that is not a positive integer, or ``--max-k`` over 1000.
        """
        from matinee.serve.limits import ServeLimits

        return ServeLimits(
            max_k=self.max_k,
            max_ratings=self.max_ratings,
            max_body_bytes=self.max_body_kib * 1024,
            max_search_limit=self.max_search_limit,
        )


@app.command("serve")
@option_groups
def serve_command(
    model_dirs: Annotated[
        list[Path], typer.Argument(help="Saved model folders; the first is the default model.")
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    *,
    caps: LimitOptions,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", help="Swap in models replaced on disk.")
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = False,
) -> None:
    """Serve saved models over HTTP: JSON API under /api/v1, docs at /docs, web page at /."""
    try:
        from matinee.serve.runner import run_server
    except ImportError as error:
        raise fail(
            ConfigError(
                f"matinee serve needs the serve extra (pip install 'matinee[serve]'): {error}"
            )
        ) from None
    try:
        limits = caps.limits()
        err_console.print(
            f"serving {len(model_dirs)} model(s) on http://{host}:{port} (API docs at /docs)",
            highlight=False,
        )
        run_server(
            model_dirs,
            host=host,
            port=port,
            workers=workers,
            limits=limits,
            watch=watch,
            access_log=access_log,
        )
    except MatineeError as error:
        raise fail(error) from None
