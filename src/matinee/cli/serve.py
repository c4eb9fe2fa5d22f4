"""``matinee serve DIR [DIR ...]``: the HTTP API and web page over saved models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from matinee.cli._options import option_groups
from matinee.cli.app import app, err_console, fail
from matinee.errors import ConfigError, MatineeError
from matinee.serve.limits import ServeLimits

__all__ = ["LimitOptions", "serve_command"]


DEFAULT_LIMITS = ServeLimits()
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
        """These caps over ServeLimits' defaults for the rest.

        Raises:
            ConfigError: a cap that is not a positive integer, or ``--max-k`` over 1000.
        """
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
