"""``matinee serve DIR [DIR ...]``: the HTTP API and web page over saved models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matinee.cli.app import app, err_console, fail
from matinee.errors import ConfigError, MatineeError

__all__ = ["serve_command"]


@app.command("serve")
def serve_command(
    model_dirs: Annotated[
        list[Path], typer.Argument(help="Saved model folders; the first is the default model.")
    ],
    host: Annotated[
        str, typer.Option("--host", help="Address to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes.")] = 1,
    max_k: Annotated[
        int, typer.Option("--max-k", help="Longest list a request may ask for.")
    ] = 100,
    max_ratings: Annotated[
        int, typer.Option("--max-ratings", help="Most ratings in one new-user request.")
    ] = 1000,
    max_body_kib: Annotated[
        int, typer.Option("--max-body-kib", help="Largest request body, in KiB.")
    ] = 256,
    max_search: Annotated[
        int, typer.Option("--max-search", help="Most titles one search returns.")
    ] = 50,
    watch: Annotated[
        bool, typer.Option("--watch/--no-watch", help="Swap in models replaced on disk.")
    ] = True,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = False,
) -> None:
    """Serve saved models over HTTP: JSON API under /api/v1, docs at /docs, web page at /."""
    try:
        from matinee.serve.limits import ServeLimits
        from matinee.serve.runner import run_server
    except ImportError as error:
        raise fail(
            ConfigError(
                f"matinee serve needs the serve extra (pip install 'matinee[serve]'): {error}"
            )
        ) from None
    try:
        limits = ServeLimits(
            max_k=max_k,
            max_ratings=max_ratings,
            max_body_bytes=max_body_kib * 1024,
            max_search_limit=max_search,
        )
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
