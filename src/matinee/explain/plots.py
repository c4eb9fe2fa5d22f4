"""Pictures of the analyses: one function per analysis, each returning a matplotlib Figure.

No computation happens here: every function draws a frame or dataclass made by the analysis
modules. Figures are built with :class:`matplotlib.figure.Figure` (no pyplot state, no display),
use colour-blind-safe colours (Okabe-Ito for categories, viridis / PuOr for values) and label
their axes. Maps, heatmaps and data plots live in :mod:`.plots_maps` and :mod:`.plots_data`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from matinee.atomic import atomic_file
from matinee.errors import ConfigError, DataError, MatineeError
from matinee.explain.biases import BiasRanking

try:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise MatineeError(
        "pictures need matplotlib, which is not installed: pip install 'matinee[plot]'"
    ) from error

__all__ = [
    "OKABE_ITO",
    "Axes",
    "Figure",
    "category_colour",
    "new_figure",
    "plot_bias_ranking",
    "plot_top_movies",
    "plot_top_viewers",
    "save_figure",
    "short_title",
]

OKABE_ITO = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
    "#F0E442",
    "#000000",
)
"""The Okabe-Ito palette, distinguishable with every common colour-vision deficiency."""

TITLE_WIDTH = 38
"""Characters of a movie title shown on an axis before it is cut with an ellipsis."""


def category_colour(index: int) -> str:
    """Colour of category ``index``: Okabe-Ito, then viridis shades beyond eight categories."""
    if index < len(OKABE_ITO):
        return OKABE_ITO[index]
    from matplotlib import colormaps

    shade = colormaps["viridis"]((index * 0.37) % 1.0)
    return "#{:02x}{:02x}{:02x}".format(*(int(255 * c) for c in shade[:3]))


def short_title(title: str, width: int = TITLE_WIDTH) -> str:
    """``title`` cut to ``width`` characters (with an ellipsis) so axis labels stay readable."""
    return title if len(title) <= width else title[: width - 1].rstrip() + "…"


def new_figure(width: float, height: float) -> Figure:
    """A figure with constrained layout, so labels and legends are never cut off."""
    return Figure(figsize=(width, height), layout="constrained", dpi=100)


def save_figure(figure: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write ``figure`` as a PNG atomically (temporary file, then rename) and return the path."""
    with atomic_file(path) as temp:
        figure.savefig(temp, format="png", dpi=dpi)
    return Path(path)


def _require_columns(frame: pl.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}")
    if frame.height == 0:
        raise DataError(f"{what} is empty: nothing to draw")


def _barh(axes: Axes, labels: Sequence[str], values: Sequence[float], colour: str) -> None:
    """Horizontal bars, first label at the top."""
    positions = np.arange(len(labels))[::-1]
    axes.barh(positions, values, color=colour)
    axes.set_yticks(positions, [short_title(label) for label in labels], fontsize=8)
    axes.axvline(0.0, color="#555555", linewidth=0.8)


def plot_bias_ranking(ranking: BiasRanking, *, title: str = "Movie biases") -> Figure:
    """Two bar charts: the movies with the highest and the lowest learned bias."""
    _require_columns(ranking.top, ("title", "bias"), "the bias ranking")
    rows = max(ranking.top.height, ranking.bottom.height)
    figure = new_figure(11.0, 1.2 + 0.28 * rows)
    high, low = figure.subplots(1, 2)
    _barh(high, ranking.top["title"].to_list(), ranking.top["bias"].to_list(), OKABE_ITO[0])
    _barh(low, ranking.bottom["title"].to_list(), ranking.bottom["bias"].to_list(), OKABE_ITO[3])
    high.set_title("Highest bias (liked beyond reviewer generosity)", fontsize=10)
    low.set_title("Lowest bias", fontsize=10)
    for axes in (high, low):
        axes.set_xlabel("movie bias (rating points)")
    figure.suptitle(f"{title} ({ranking.candidates:,} movies ranked)")
    return figure


def plot_top_movies(
    frame: pl.DataFrame,
    *,
    factors: Sequence[int] | None = None,
    max_factors: int = 6,
    label: str = "factor",
    title: str = "Top movies per factor",
) -> Figure:
    """A small bar chart per dimension of its top movies (from ``top_movies_per_factor``)."""
    _require_columns(frame, ("factor", "rank", "title", "value"), "the top-movies frame")
    chosen = list(factors) if factors is not None else sorted(set(frame["factor"].to_list()))
    chosen = chosen[:max_factors]
    if not chosen:
        raise ConfigError("no factor chosen to draw")
    columns = min(3, len(chosen))
    grid_rows = -(-len(chosen) // columns)
    per_factor = int(frame.group_by("factor").len()["len"].to_numpy().max())
    figure = new_figure(5.0 * columns, 0.6 + grid_rows * (0.7 + 0.22 * per_factor))
    axes_grid = np.atleast_1d(figure.subplots(grid_rows, columns, squeeze=False).ravel())
    for position, factor in enumerate(chosen):
        part = frame.filter(pl.col("factor") == factor).sort("rank")
        if part.height == 0:
            raise DataError(f"{label} {factor} is not in the frame")
        axes = axes_grid[position]
        colour = category_colour(position)
        _barh(axes, part["title"].to_list(), part["value"].to_list(), colour)
        axes.set_title(f"{label} {factor}", fontsize=10)
        axes.set_xlabel("value", fontsize=8)
    for axes in axes_grid[len(chosen) :]:
        axes.set_visible(False)
    figure.suptitle(title)
    return figure


def plot_top_viewers(
    appearances: pl.DataFrame, *, n: int = 20, title: str = "Viewers who drive hidden nodes"
) -> Figure:
    """Bars of how many nodes each of the ``n`` most frequent top viewers drives."""
    _require_columns(appearances, ("user_id", "appearances"), "the viewer appearances")
    part = appearances.head(n)
    figure = new_figure(7.0, 1.2 + 0.25 * part.height)
    axes = figure.subplots()
    labels = [f"user {u}" for u in part["user_id"].to_list()]
    _barh(axes, labels, part["appearances"].to_list(), OKABE_ITO[2])
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("nodes where the viewer is among the top viewers")
    axes.set_title(title)
    return figure
