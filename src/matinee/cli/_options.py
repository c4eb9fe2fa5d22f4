"""Argument and option types that several commands share: one declaration, one help text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["DatasetName", "JsonFlag", "ModelName", "SavedModel", "TableJsonFlag"]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
TableJsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SavedModel = Annotated[Path, typer.Argument(help="Folder of a model saved by matinee.")]
ModelName = Annotated[str, typer.Argument(help="Registered model name, e.g. biased-mf.")]
DatasetName = Annotated[str, typer.Option("--dataset", help="Release name.")]
