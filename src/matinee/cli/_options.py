"""Options that several commands share (same flag, help and type), and their metrics table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

__all__ = [
    "DatasetName",
    "JsonFlag",
    "SaveDir",
    "Threshold",
    "TopK",
    "TrainedDataset",
    "TrainedSplit",
    "metrics_table",
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
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


def metrics_table(title: str, metrics: dict[str, float]) -> Table:
    """A two-column table of metric names and values (4 decimals)."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}")
    return table
