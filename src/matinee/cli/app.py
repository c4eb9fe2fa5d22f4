"""The root Typer app and the shared output helpers of every command."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

from matinee.errors import MatineeError

__all__ = ["app", "console", "err_console", "fail", "print_json"]

app = typer.Typer(
    name="matinee",
    help="Train, evaluate, explain and serve movie recommenders built on MovieLens ratings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

console = Console()
"""Where commands print results."""

err_console = Console(stderr=True)
"""Where commands print errors and progress."""


def print_json(data: Any) -> None:
    """Print machine-readable output (``--json``) on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def fail(error: MatineeError) -> typer.Exit:
    """Print a Matinee error for a person and return the exit to raise with its exit code."""
    err_console.print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(code=error.exit_code)
