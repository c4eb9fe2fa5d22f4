"""Argument and option types that several commands share, and their metrics table.

One flag, help text and type per option, declared once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from matinee.cli.app import console

__all__ = [
    "DatasetName",
    "JsonFlag",
    "ModelName",
    "SaveDir",
    "SavedModel",
    "TableJsonFlag",
    "Threshold",
    "TopK",
    "TrainedDataset",
    "TrainedSplit",
    "metrics_table",
    "scores_table",
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
TableJsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SavedModel = Annotated[Path, typer.Argument(help="Folder of a model saved by matinee.")]
ModelName = Annotated[str, typer.Argument(help="Registered model name, e.g. biased-mf.")]
TopK = Annotated[
    int, typer.Option("-k", "--top-k", help="Length of ranked lists for ranking metrics.")
]
Threshold = Annotated[
    float, typer.Option("--relevance", help="Test ratings at or above this are relevant.")
]
SaveDir = Annotated[Path, typer.Option("--out", help="Folder to save the model in.")]
DatasetName = Annotated[str, typer.Option("--dataset", help="Release name.")]
TrainedDataset = Annotated[
    str | None, typer.Option("--dataset", help="Release; default: the one trained on.")
]
TrainedSplit = Annotated[
    str | None, typer.Option("--split", help="Split spec; default: the one trained on.")
]


def scores_table(engine: str) -> Callable[[Mapping[str, Any]], None]:
    """What a scoring command prints of its summary: the metrics table of model, data and split.

    ``engine`` follows the model's name in the title (" (Spark)", or "" for Matinee itself).
    """

    def show(summary: Mapping[str, Any]) -> None:
        title = f"{summary['model']}{engine} on {summary['dataset']} {summary['split']}"
        console.print(metrics_table(title, summary["metrics"]))

    return show


def metrics_table(title: str, metrics: dict[str, float]) -> Table:
    """A two-column table of metric names and values (4 decimals)."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}")
    return table
