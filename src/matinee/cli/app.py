"""The root Typer app and the shared output helpers of every command."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import UsageError

from matinee.errors import MatineeError

__all__ = ["USAGE_EXIT_CODE", "app", "console", "err_console", "error_line", "fail", "print_json"]

USAGE_EXIT_CODE = 2
"""Exit code of a command line that does not parse (as click and ConfigError use)."""

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


def error_line(message: object) -> None:
    """Print ``error: MESSAGE`` as exactly one line on stderr, whatever the terminal width.

    Off a terminal the line is written as plain text (no colour, no wrapping), so scripts and
    logs get one grep-able line; on a terminal Rich colours it but does not wrap it.
    """
    text = " ".join(str(message).split())
    if err_console.is_terminal:
        err_console.print(f"[bold red]error:[/] {escape(text)}", highlight=False, soft_wrap=True)
    else:
        sys.stderr.write(f"error: {text}\n")
        sys.stderr.flush()


def fail(error: MatineeError) -> typer.Exit:
    """Print a Matinee error for a person and return the exit to raise with its exit code."""
    error_line(error)
    return typer.Exit(code=error.exit_code)


def usage_failure(usage: UsageError) -> int:
    """Print a command line that does not parse as one ``error:`` line; return its exit code.

    Click's own display is a boxed usage message; scripts get the same single line as for
    every other error, naming the option or argument at fault and where to find help.
    """
    command = usage.ctx.command_path if usage.ctx is not None else "matinee"
    error_line(f"{usage.format_message()} (see `{command} --help`)")
    return USAGE_EXIT_CODE
