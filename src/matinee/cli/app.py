"""The root Typer app, its lazily loaded commands, and the shared output helpers of every command.

Start-up stays short because a command's module (and the numpy, polars or torch it needs) is
imported only when that command runs: :data:`COMMANDS` names each command's module and the line
``matinee --help`` shows for it. The root group also gives every command the same help
placeholders (``INTEGER``, ``PATH``, ``MODEL_DIR``; nothing after a flag).
"""

from __future__ import annotations

import copy
import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer
import typer.core
from rich.console import Console
from rich.markup import escape
from typer._click.exceptions import UsageError

from matinee.errors import MatineeError

__all__ = [
    "COMMANDS",
    "USAGE_EXIT_CODE",
    "app",
    "console",
    "err_console",
    "error_line",
    "fail",
    "print_json",
    "report",
]

USAGE_EXIT_CODE = 2
"""Exit code of a command line that does not parse (as click and ConfigError use)."""

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("matinee.cli.data", "MovieLens releases: list, fetch, describe."),
    "models": (
        "matinee.cli.catalog",
        "List the models, or show one model's settings (for --set key=value).",
    ),
    "train": (
        "matinee.cli.models",
        "Train a model, score it on the split's test part, and save it with its metrics.",
    ),
    "evaluate": (
        "matinee.cli.models",
        "Re-score a saved model on the split it was trained on (its data fingerprint is checked).",
    ),
    "compare": (
        "matinee.cli.models",
        "Run several models on the same splits and print one side-by-side table.",
    ),
    "tune": (
        "matinee.cli.tune",
        "Search a model's settings with Optuna on inner splits; score the best once on test.",
    ),
    "predict": (
        "matinee.cli.predict",
        "Predict one user's rating of one movie (raw MovieLens ids) with a saved model.",
    ),
    "recommend": (
        "matinee.cli.recommend",
        "Top-k movies for a known user (--user) or for someone new (--rated / --rated-file).",
    ),
    "similar": (
        "matinee.cli.recommend",
        "The movies a saved model finds most like one movie, found by its title or id.",
    ),
    "explain": (
        "matinee.cli.explain",
        "Write PNGs and one self-contained HTML page explaining what a saved model learned.",
    ),
    "movies": ("matinee.cli.movies", "Find movies by title."),
    "spark": ("matinee.cli.spark", "Train and evaluate models in Apache Spark."),
    "serve": (
        "matinee.cli.serve",
        "Serve saved models over HTTP: JSON API under /api/v1, docs at /docs, web page at /.",
    ),
}
"""Command name -> (module that registers it, its one-line help). A test checks each line
against the command's own docstring, so the two cannot drift apart."""


def _clean_placeholders(command: Any, ctx: Any | None) -> Any:
    """Give a command's parameters plain placeholders; idempotent, recursive over sub-groups."""
    if getattr(command, "_matinee_clean", False):
        return command
    params = list(command.params)
    if ctx is not None:
        help_option = command.get_help_option(ctx)
        params += [help_option] if help_option is not None else []
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, typer.core.TyperOption) and param.is_flag:
            param.metavar = ""
        elif isinstance(param, typer.core.TyperArgument):
            param.metavar = (param.name or "value").upper()
            param.__class__ = _PlainArgument
            param.type = _type_shown_as(param.type, _type_placeholder(param))
        elif isinstance(param, typer.core.TyperOption):
            param.metavar = _type_placeholder(param)
    command._matinee_clean = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        _clean_placeholders(sub, ctx)
    return command


class _PlainArgument(typer.core.TyperArgument):
    """An argument shown as ``MODEL_DIR`` in the usage line (Typer writes ``{MODEL_DIR}``)."""

    def make_metavar(self, ctx: Any, *, usage: bool = False) -> str:
        """The argument's name, in brackets when it is optional."""
        name = (self.metavar or self.name or "").upper() + ("..." if self.nargs != 1 else "")
        return f"[{name}]" if usage and not self.required else name


TYPE_PLACEHOLDERS = {"int": "INTEGER", "integer": "INTEGER", "str": "TEXT", "text": "TEXT"}
"""Click type names that read better spelled out; the others (FLOAT, PATH) are upper-cased."""


def _type_shown_as(param_type: Any, placeholder: str) -> Any:
    """A copy of a Click type whose help placeholder is ``placeholder`` (Typer shows ``<str>``)."""
    shown = copy.copy(param_type)
    shown.get_metavar = lambda *args, **kwargs: placeholder
    return shown


def _type_placeholder(param: typer.core.TyperOption | typer.core.TyperArgument) -> str:
    """The placeholder of a value's type, as Click names it: INTEGER, FLOAT, TEXT, PATH."""
    name = str(getattr(param.type, "name", "value")).lower()
    return TYPE_PLACEHOLDERS.get(name, name.upper())


class LazyGroup(typer.core.TyperGroup):
    """The root group: imports a command's module only when that command is asked for."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command: the lazily loaded ones in :data:`COMMANDS` order, then the rest."""
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command, importing its module first; while listing help, a one-line stand-in."""
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            module, summary = COMMANDS[cmd_name]
            if self._listing and module not in sys.modules:
                return typer.core.TyperCommand(cmd_name, help=summary, short_help=summary)
            importlib.import_module(module)
            command = typer.main.get_group(app).commands.get(cmd_name)
            if command is not None:
                self.commands[cmd_name] = command
        return None if command is None else _clean_placeholders(command, ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        """The root help, listing commands from :data:`COMMANDS` without importing them."""
        _clean_placeholders(self, ctx)
        with self._listing_only():
            super().format_help(ctx, formatter)

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False


app = typer.Typer(
    name="matinee",
    cls=LazyGroup,
    help="Train, evaluate, explain and serve movie recommenders built on MovieLens ratings.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from matinee import __version__

        sys.stdout.write(f"matinee {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Train, evaluate, explain and serve movie recommenders built on MovieLens ratings."""


console = Console()
"""Where commands print results."""

err_console = Console(stderr=True)
"""Where commands print errors and progress."""


def print_json(data: Any) -> None:
    """Print machine-readable output (``--json``) on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


T = TypeVar("T")


def report(work: Callable[[], T], as_json: bool, show: Callable[[T], None]) -> None:
    """Run a command's work, then print its result: as JSON with ``--json``, else by ``show``.

    A :class:`MatineeError` from the work is printed as one ``error:`` line and ends the command
    with that error's exit code (:func:`fail`), before anything else is printed.
    """
    try:
        result = work()
    except MatineeError as error:
        raise fail(error) from None
    if as_json:
        print_json(result)
        return
    show(result)


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
