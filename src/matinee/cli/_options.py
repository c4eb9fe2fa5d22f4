"""Argument and option types that several commands share, and their metrics table.

One flag, help text and type per option, declared once. Options that several commands take
together are an option group: a dataclass of typed options that :func:`option_groups` spells
out in each command's signature (as click's shared option decorators do).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from matinee.cli.app import console
from matinee.errors import ConfigError

if TYPE_CHECKING:
    import polars as pl

    from matinee.evaluation.evaluate import EvalSettings

__all__ = [
    "DatasetName",
    "JsonFlag",
    "ModelName",
    "OneSplit",
    "SaveDir",
    "SavedModel",
    "Scoring",
    "TableJsonFlag",
    "Threshold",
    "TopK",
    "TrainedDataset",
    "TrainedOn",
    "TrainedSplit",
    "metrics_table",
    "option_groups",
    "scores_table",
]

R = TypeVar("R")

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
OneSplit = Annotated[str, typer.Option("--split", help="Split spec, e.g. u1 or random:0.2.")]


@dataclass(frozen=True)
class TrainedOn:
    """``--dataset`` and ``--split`` of a command on a saved model; unset, the ones it records."""

    dataset: TrainedDataset = None
    split: TrainedSplit = None

    def resolve(self, model_dir: Path, extra: Mapping[str, Any]) -> tuple[str, str]:
        """The release and split spec to score on, given the saved model's manifest ``extra``.

        Raises:
            ConfigError: neither the options nor the manifest name them.
        """
        name = self.dataset or extra.get("dataset")
        spec = self.split or extra.get("split")
        if not isinstance(name, str) or not isinstance(spec, str):
            raise ConfigError(
                f"{model_dir} does not record its dataset and split; pass --dataset and --split"
            )
        return name, spec


@dataclass(frozen=True)
class Scoring:
    """How a scoring command ranks and judges: list length and relevance bar."""

    k: TopK = 10
    relevance: Threshold = 4.0

    def settings(self, movies: pl.DataFrame | None = None) -> EvalSettings:
        """The evaluation settings of these options (``movies``: calibrate lists by genre).

        Raises:
            ConfigError: ``--top-k`` below 1 or a threshold that is not finite.
        """
        from matinee.evaluation.evaluate import EvalSettings

        return EvalSettings(self.k, self.relevance, movies=movies)


def option_groups(command: Callable[..., R]) -> Callable[..., R]:
    """``command`` with each parameter typed as an option group spelt out as the group's options.

    Typer reads a command's options from its signature; a parameter whose type is a dataclass
    stands there for that dataclass's fields (typed options with their defaults), in place, and
    the command gets the dataclass built from them.
    """
    hints = typing.get_type_hints(command, include_extras=True)
    groups: dict[str, tuple[type[Any], list[str]]] = {}
    parameters: list[inspect.Parameter] = []
    for parameter in inspect.signature(command).parameters.values():
        hint = hints.get(parameter.name, parameter.annotation)
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            parameters.append(parameter.replace(annotation=hint))
            continue
        fields = typing.get_type_hints(hint, include_extras=True)
        groups[parameter.name] = (hint, [field.name for field in dataclasses.fields(hint)])
        parameters.extend(
            inspect.Parameter(
                field.name, parameter.kind, default=field.default, annotation=fields[field.name]
            )
            for field in dataclasses.fields(hint)
        )

    @functools.wraps(command)
    def run(**values: Any) -> R:
        for name, (group, names) in groups.items():
            values[name] = group(**{key: values.pop(key) for key in names})
        return command(**values)

    run.__signature__ = inspect.signature(command).replace(  # type: ignore[attr-defined]
        parameters=parameters
    )
    return run


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
