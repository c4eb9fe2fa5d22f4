"""``matinee models [NAME]``: the registered models and the settings each one takes."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import inspect
import itertools
import re
import textwrap
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from matinee.cli.app import app, console, print_json
from matinee.models.registry import MODELS, SUMMARIES, available_models, model_class

if TYPE_CHECKING:
    from matinee.models.config import Config

__all__ = ["field_descriptions", "plain_text"]

EXTRA_MODULES = {"neural": "torch"}
"""Extra -> the module whose presence means it is installed (checked without importing it)."""

_ROLE = re.compile(r":[\w:]+:`(?:([^`<]*?)\s*<[^`>]*>|~?(?:[\w.]*\.)?([^`]*))`")
_LITERAL = re.compile(r"``(.+?)``|(?<![\w`])`([^`]+)`(?![\w`])")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*|(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])")


def plain_text(rst: str) -> str:
    """Docstring text without reST inline markup, for a terminal.

    ``r = mu`` becomes r = mu, :class:`~matinee.data.Ratings` becomes Ratings, a role with an
    explicit title keeps the title, and *emphasis* loses its stars.
    """
    text = _ROLE.sub(lambda m: m.group(1) or m.group(2), rst)
    text = _LITERAL.sub(lambda m: m.group(1) or m.group(2), text)
    return _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)


def _missing_extra(name: str) -> str:
    """Why a model cannot load here (its extra is not installed), or ""; imports nothing."""
    extra = MODELS[name][1]
    module = EXTRA_MODULES.get(extra or "")
    if module is None or importlib.util.find_spec(module) is not None:
        return ""
    return f"needs pip install 'matinee[{extra}]'"


def field_descriptions(config_type: type[Config]) -> dict[str, str]:
    """Each config field's docstring (the string literal under it), from the class sources."""
    from matinee.models.config import Config

    found: dict[str, str] = {}
    for cls in reversed(config_type.__mro__):
        if not (isinstance(cls, type) and issubclass(cls, Config)):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[node.target.id] = " ".join(after.value.value.split())
    return found


def _settings(name: str) -> list[dict[str, Any]]:
    config_type = model_class(name).config_type
    types = config_type.field_docs()
    docs = field_descriptions(config_type)
    return [
        {
            "field": field.name,
            "type": types[field.name].split(" = ")[0],
            "default": field.default,
            "description": plain_text(docs.get(field.name, "")),
        }
        for field in dataclasses.fields(config_type)
    ]


@app.command("models")
def models_command(
    name: Annotated[str | None, typer.Argument(help="A model name to show its settings.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the models, or show one model's settings (for --set key=value)."""
    if name is None:
        _list_models(json_output)
        return
    settings = _settings(name)
    if json_output:
        print_json({"name": name, "settings": settings})
        return
    table = Table(title=f"{name} settings")
    table.add_column("field", no_wrap=True)
    table.add_column("type", overflow="fold")
    table.add_column("default", overflow="fold")
    table.add_column("what it does", overflow="fold", ratio=1)
    for row in settings:
        table.add_row(row["field"], row["type"], repr(row["default"]), row["description"])
    console.print(table)


def _list_models(json_output: bool) -> None:
    """Every model with its one-line summary, from the registry alone (no model is imported)."""
    rows: list[dict[str, Any]] = [
        {
            "name": n,
            "extra": MODELS[n][1],
            "summary": plain_text(SUMMARIES[n]),
            "missing": _missing_extra(n),
        }
        for n in available_models()
    ]
    if json_output:
        print_json(rows)
        return
    table = Table(title="Models")
    table.add_column("name", no_wrap=True)
    table.add_column("needs", no_wrap=True)
    table.add_column("what it is", overflow="fold", ratio=1)
    for row in rows:
        summary = str(row["summary"]) + (f" [dim]({row['missing']})[/]" if row["missing"] else "")
        table.add_row(row["name"], row["extra"] or "", summary)
    console.print(table)
