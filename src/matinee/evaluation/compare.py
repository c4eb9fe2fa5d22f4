"""Side-by-side comparison: every model on every split, one table of mean ± std per metric.

:func:`compare` runs the protocol of :func:`~matinee.evaluation.evaluate.cross_validate` for each
model and returns a :class:`ComparisonTable` that renders to Rich, Markdown, JSON and CSV, with
the best value of each column marked.

Lists are judged by default on new users (:data:`NEW_USERS_SPLIT`, the strong-generalization
protocol of Liang et al. 2018): a fifth of the users are held out of training, half of each one's
ratings are folded in and the other half ranked against the whole catalogue. A ``popular`` row
is added as the floor: a model whose lists do not beat it has learned no taste.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from rich.console import Group
from rich.table import Table

from matinee.calibration import ListCalibration
from matinee.data.split import Split
from matinee.errors import ConfigError
from matinee.evaluation.evaluate import (
    RANKING_METRICS,
    RATING_METRICS,
    CVResult,
    EvalResult,
    EvalSettings,
    lower_is_better,
)
from matinee.logs import ProgressBar, progress
from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.training.loop import FitOptions

__all__ = [
    "FLOOR_MODEL",
    "NEW_USERS_SPLIT",
    "ComparisonRow",
    "ComparisonTable",
    "compare",
    "compare_with",
]

NEW_USERS_SPLIT = "hidden-ratings:users=0.2,hidden=0.5,seeds=3"
"""The default split spec of ``matinee compare``: new users, three seeds."""

FLOOR_MODEL = "popular"
"""The model added to every comparison as the floor of list quality."""

TIMING_COLUMNS = ("fit_seconds", "predict_seconds")

ModelFactories = Mapping[str, Callable[[], Recommender[Any]]] | Sequence[Recommender[Any]]
"""Named factories of fresh models, or model instances (refitted from their config)."""


@dataclass(frozen=True)
class ComparisonRow:
    """One model's cross-validated results."""

    model: str
    result: CVResult


@dataclass(frozen=True)
class ComparisonTable:
    """Results of several models on the same splits, with one column per metric."""

    rows: tuple[ComparisonRow, ...]
    split_names: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        """Metric columns in a stable order (rating, ranking, then timings)."""
        present = {key for row in self.rows for key in row.result.mean}
        order = [*RATING_METRICS, *RANKING_METRICS, *TIMING_COLUMNS]
        return sorted(present, key=lambda key: (order.index(key.partition("@")[0]), key))

    def best(self) -> dict[str, str]:
        """Column -> name of the model with the best mean (lowest for errors and times)."""
        winners: dict[str, str] = {}
        for column in self.columns:
            scored = [
                (row.result.mean[column], row.model)
                for row in self.rows
                if column in row.result.mean
            ]
            scored = [(value, name) for value, name in scored if math.isfinite(value)]
            if scored:
                pick = min if lower_is_better(column) else max
                winners[column] = pick(scored, key=lambda pair: pair[0])[1]
        return winners

    def _cell(self, row: ComparisonRow, column: str) -> str:
        if column not in row.result.mean:
            return "-"
        mean, std = row.result.mean[column], row.result.std[column]
        digits = 2 if column in TIMING_COLUMNS else 4
        text = f"{mean:.{digits}f}"
        return f"{text} ± {std:.{digits}f}" if len(row.result.folds) > 1 else text

    def to_rich(self, width: int = 80) -> Group:
        """Rich tables, models side by side and one row per metric; best values bold green.

        Metrics go down the rows, and models are split over as many tables as it takes to fit
        ``width`` columns, so no number is ever cut or wrapped.
        """
        metric_width = max((len(column) for column in self.columns), default=6)
        widths = [
            max(len(row.model), *(len(self._cell(row, c)) for c in self.columns))
            for row in self.rows
        ]
        chunks: list[list[int]] = [[]]
        used = metric_width + 4
        for index, cell_width in enumerate(widths):
            if chunks[-1] and used + cell_width + 3 > width:
                chunks.append([])
                used = metric_width + 4
            chunks[-1].append(index)
            used += cell_width + 3
        title = f"splits: {', '.join(self.split_names)}"
        return Group(*(self._rich_part(title, chunk, widths) for chunk in chunks))

    def _rich_part(self, title: str, chunk: list[int], widths: list[int]) -> Table:
        best = self.best()
        table = Table(title=title)
        table.add_column("metric", style="bold", no_wrap=True)
        for index in chunk:
            table.add_column(
                self.rows[index].model, justify="right", no_wrap=True, min_width=widths[index]
            )
        for column in self.columns:
            cells = []
            for index in chunk:
                row = self.rows[index]
                text = self._cell(row, column)
                cells.append(f"[bold green]{text}[/]" if best.get(column) == row.model else text)
            table.add_row(column, *cells)
        return table

    def to_markdown(self) -> str:
        """A GitHub Markdown table; the best value of each column is bold."""
        best = self.best()
        lines = [
            "| model | " + " | ".join(self.columns) + " |",
            "|---|" + "---:|" * len(self.columns),
        ]
        for row in self.rows:
            cells = [
                f"**{self._cell(row, c)}**" if best.get(c) == row.model else self._cell(row, c)
                for c in self.columns
            ]
            lines.append(f"| {row.model} | " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """Plain data: splits, per-model mean/std/folds, and the best model per column."""
        return {
            "splits": list(self.split_names),
            "columns": self.columns,
            "best": self.best(),
            "models": {row.model: row.result.to_dict() for row in self.rows},
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def to_csv(self) -> str:
        """One line per model: ``<metric>_mean`` and ``<metric>_std`` columns plus ``best_of``."""
        best = self.best()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = ["model"]
        for column in self.columns:
            header += [f"{column}_mean", f"{column}_std"]
        writer.writerow([*header, "best_of"])
        for row in self.rows:
            values: list[object] = [row.model]
            for column in self.columns:
                values += [row.result.mean.get(column, ""), row.result.std.get(column, "")]
            wins = ";".join(c for c in self.columns if best.get(c) == row.model)
            writer.writerow([*values, wins])
        return buffer.getvalue()


def _factories(models: ModelFactories) -> dict[str, Callable[[], Recommender[Any]]]:
    """Name -> factory; instances become factories of fresh copies with the same config."""
    if isinstance(models, Mapping):
        named = dict(models)
    else:
        named = {}
        for model in models:
            if not isinstance(model, Recommender):
                raise ConfigError(f"compare takes Recommender models, got {type(model).__name__}")
            label = model.name
            suffix = 2
            while label in named:
                label, suffix = f"{model.name}-{suffix}", suffix + 1
            named[label] = _copy_factory(model)
    if not named:
        raise ConfigError("compare needs at least one model")
    return named


def _copy_factory(model: Recommender[Any]) -> Callable[[], Recommender[Any]]:
    cls, config = type(model), model.config
    return lambda: cls(config)


def _fold_reporter(
    bar: ProgressBar, model_text: str, n_splits: int
) -> Callable[[EvalResult], None]:
    """What to call after each fold: advance the overall bar and name the fold now running."""
    finished = 0

    def advance(result: EvalResult) -> None:
        nonlocal finished
        finished += 1
        bar.advance(1)
        if finished < n_splits:
            bar.describe(f"{model_text} · fold {finished + 1}/{n_splits}")

    return advance


def compare(
    models: ModelFactories,
    splits: Sequence[Split],
    *,
    k: int = 10,
    relevance_threshold: float = 4.0,
    metrics: Sequence[str] | None = None,
    fit_options: FitOptions | None = None,
    show_progress: bool = False,
    floor: bool = True,
    movies: pl.DataFrame | None = None,
    calibration: ListCalibration | None = None,
) -> ComparisonTable:
    """Fit and evaluate every model on every split; return the side-by-side table.

    Args:
        models: Named factories of fresh models, or model instances (refitted from their config).
        splits: The folds every model is run on (for example u1-u5).
        k: Length of ranked lists.
        relevance_threshold: Test ratings at or above this are relevant.
        metrics: Base metric names, or None for all that apply to each model.
        fit_options: Passed to every ``fit``.
        show_progress: Draw a progress bar over (model, split) runs.
        floor: Add a :data:`FLOOR_MODEL` row when no model of that name is compared.
        movies: The movies table; its genres calibrate the lists as people get them (see
            :func:`~matinee.evaluation.evaluate.evaluate`); without it lists are uncalibrated.
        calibration: Strengths for new and known users' lists (None: the defaults).
    """
    settings = EvalSettings(k, relevance_threshold, metrics, movies, calibration)
    return compare_with(
        settings, models, splits, fit_options=fit_options, show_progress=show_progress, floor=floor
    )


def compare_with(
    settings: EvalSettings,
    models: ModelFactories,
    splits: Sequence[Split],
    *,
    fit_options: FitOptions | None = None,
    show_progress: bool = False,
    floor: bool = True,
) -> ComparisonTable:
    """:func:`compare` with the scoring given as one :class:`EvalSettings` (as the CLI builds it).

    Raises:
        ConfigError: no splits or no models, or a model that is not a Recommender.
    """
    if not splits:
        raise ConfigError("compare needs at least one split")
    factories = _factories(models)
    if floor and FLOOR_MODEL not in factories:
        factories[FLOOR_MODEL] = model_class(FLOOR_MODEL)
    rows = []
    n_models, n_splits = len(factories), len(splits)
    with progress("comparing", n_models * n_splits, enabled=show_progress) as bar:
        for number, (name, factory) in enumerate(factories.items(), start=1):
            model_text = f"{name}: model {number}/{n_models}"
            bar.describe(f"{model_text} · fold 1/{n_splits}")

            advance = _fold_reporter(bar, model_text, n_splits)

            result = settings.cross_validate(factory, splits, fit_options, on_fold=advance)
            rows.append(ComparisonRow(name, result))
    return ComparisonTable(tuple(rows), tuple(split.name for split in splits))
