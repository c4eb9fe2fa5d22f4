"""``matinee models [NAME]``: the registered models and the settings each one takes."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import textwrap
from typing import Annotated, Any

import typer
from rich.table import Table

from matinee.cli.app import app, console, print_json
from matinee.errors import MatineeError
from matinee.models.config import Config
from matinee.models.registry import MODELS, available_models, model_class

__all__ = ["field_descriptions"]


def field_descriptions(config_type: type[Config]) -> dict[str, str]:
    """Each config field's docstring (the string literal under it), from the class sources."""
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


def _summary(name: str) -> tuple[str, str]:
    """First docstring line of a model, or why it cannot be loaded (a missing extra)."""
    try:
        cls = model_class(name)
    except MatineeError as error:
        return "", str(error)
    return (inspect.getdoc(cls) or "").splitlines()[0], ""


def _settings(name: str) -> list[dict[str, Any]]:
    config_type = model_class(name).config_type
    types = config_type.field_docs()
    docs = field_descriptions(config_type)
    return [
        {
            "field": field.name,
            "type": types[field.name].split(" = ")[0],
            "default": field.default,
            "description": docs.get(field.name, ""),
        }
        for field in dataclasses.fields(config_type)
    ]


@app.command("models")
def models_command(
    name: Annotated[str | None, typer.Argument(help="A model name to show its settings.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the models, or show one model's settings (for ``--set key=value``)."""
    if name is None:
        summaries = {n: _summary(n) for n in available_models()}
        if json_output:
            rows = [
                {"name": n, "extra": MODELS[n][1], "summary": summary}
                for n, (summary, _) in summaries.items()
            ]
            print_json(rows)
            return
        table = Table("name", "needs", "what it is", title="Models")
        for n, (summary, problem) in summaries.items():
            table.add_row(n, MODELS[n][1] or "", summary or f"[dim]{problem}[/]")
        console.print(table)
        return
    settings = _settings(name)
    if json_output:
        print_json({"name": name, "settings": settings})
        return
    table = Table("field", "type", "default", "what it does", title=f"{name} settings")
    for row in settings:
        table.add_row(row["field"], row["type"], repr(row["default"]), row["description"])
    console.print(table)
