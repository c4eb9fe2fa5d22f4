"""Maps and heatmaps: movies on a 2-D/3-D map, movies x factors, active users x rated movies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from matinee.errors import DataError
from matinee.explain.distributions import ActivityCrosstab
from matinee.explain.factors import MovieFactorGrid
from matinee.explain.plots import Figure, _require_columns, category_colour, new_figure, short_title

__all__ = ["plot_crosstab", "plot_factor_heatmap", "plot_movie_map"]


def plot_movie_map(
    frame: pl.DataFrame,
    *,
    labels: int | Sequence[str] = 15,
    title: str = "Movie map",
    axis_name: str = "t-SNE",
) -> Figure:
    """Movies as points on a map (``movie_map`` output), coloured by ``cluster`` when present.

    Args:
        frame: Columns ``x, y`` (and ``z`` for 3-D), ``title``, optional ``cluster`` and
            ``n_ratings``.
        labels: How many of the most rated movies to name on the map, or the titles to name.
        title: The figure title.
        axis_name: Name of the map's axes (``t-SNE``, ``PCA``, ``UMAP``).
    """
    _require_columns(frame, ("x", "y", "title"), "the movie map")
    three_d = "z" in frame.columns
    figure = new_figure(10.0, 8.0)
    # A 3-D subplot is an Axes3D, whose extra z arguments the Axes stubs do not know.
    axes: Any = figure.add_subplot(projection="3d") if three_d else figure.add_subplot()
    coords = [frame[c].to_numpy() for c in (("x", "y", "z") if three_d else ("x", "y"))]
    if "cluster" in frame.columns:
        clusters = frame["cluster"].to_numpy()
        for cluster in np.unique(clusters):
            mask = clusters == cluster
            axes.scatter(
                *(c[mask] for c in coords),
                s=12,
                alpha=0.75,
                color=category_colour(int(cluster)),
                edgecolors="#333333",
                linewidths=0.2,
                label=f"cluster {cluster} ({int(mask.sum())})",
            )
        axes.legend(
            loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="k-means", frameon=False
        )
    else:
        axes.scatter(*coords, s=10, alpha=0.6, color=category_colour(0))
    rows = _label_rows(frame, labels)
    limit = labels if isinstance(labels, int) else len(rows)
    titles = [short_title(str(t), 30) for t in frame["title"].to_list()]
    if three_d:
        placed = [(row, "left") for row in rows[:limit]]
    else:
        placed = _place_labels(rows, coords[0], coords[1], titles, limit, isinstance(labels, int))
    for row, align in placed:
        point = [float(c[row]) for c in coords]
        text = f" {titles[row]}" if align == "left" else f"{titles[row]} "
        axes.text(*point, text, fontsize=7, ha=align, va="center")
    axes.set_xlabel(f"{axis_name} 1")
    axes.set_ylabel(f"{axis_name} 2")
    if three_d:
        axes.set_zlabel(f"{axis_name} 3")
    axes.set_title(title)
    return figure


def _place_labels(
    rows: list[int],
    x: np.ndarray,
    y: np.ndarray,
    titles: list[str],
    limit: int,
    avoid_overlaps: bool,
) -> list[tuple[int, str]]:
    """Up to ``limit`` (row, alignment) labels, in ``rows`` order, that stay inside the axes.

    A label goes right of its point, or left of it where it would leave the axes. With
    ``avoid_overlaps`` a label whose box overlaps an earlier (better-known) label's is skipped.
    Boxes are estimated in axis fractions for 7-point text on the 10 x 8 inch map: about 0.0075
    of the width per character and 0.03 of the height per line.
    """
    span_x = float(np.ptp(x)) or 1.0
    span_y = float(np.ptp(y)) or 1.0
    placed: list[tuple[int, str]] = []
    boxes: list[tuple[float, float, float, float]] = []
    for row in rows:
        if len(placed) == limit:
            break
        at_x = (float(x[row]) - float(x.min())) / span_x
        at_y = (float(y[row]) - float(y.min())) / span_y
        width = 0.0075 * (len(titles[row]) + 1)
        align = "left" if at_x + width <= 1.0 else "right"
        left = at_x if align == "left" else at_x - width
        box = (left, at_y - 0.015, left + width, at_y + 0.015)
        free = all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in boxes)
        if free or not avoid_overlaps:
            placed.append((row, align))
            boxes.append(box)
    return placed


def _label_rows(frame: pl.DataFrame, labels: int | Sequence[str]) -> list[int]:
    titles = frame["title"].to_list()
    if isinstance(labels, int):
        if "n_ratings" in frame.columns and frame["n_ratings"].null_count() < frame.height:
            order = np.argsort(-frame["n_ratings"].fill_null(0).to_numpy(), kind="stable")
        else:
            order = np.arange(frame.height)
        return [int(i) for i in order] if labels > 0 else []
    wanted = set(labels)
    unknown = wanted - set(titles)
    if unknown:
        raise DataError(f"titles not on the map: {sorted(unknown)[:5]}")
    return [i for i, t in enumerate(titles) if t in wanted]


def plot_factor_heatmap(grid: MovieFactorGrid, *, title: str = "Movies x factors") -> Figure:
    """A heatmap of movie vector values: diverging colours for signed values, viridis otherwise."""
    if grid.values.size == 0:
        raise DataError("the movie x factor grid is empty: nothing to draw")
    signed = bool(np.any(grid.values < 0))
    rows, columns = grid.values.shape
    figure = new_figure(2.5 + 0.45 * columns, 1.2 + 0.22 * rows)
    axes = figure.add_subplot()
    if signed:
        limit = float(np.abs(grid.values).max()) or 1.0
        image = axes.imshow(grid.values, cmap="PuOr_r", vmin=-limit, vmax=limit, aspect="auto")
    else:
        image = axes.imshow(grid.values, cmap="viridis", aspect="auto")
    axes.set_yticks(np.arange(rows), [short_title(t) for t in grid.titles], fontsize=7)
    axes.set_xticks(np.arange(columns), grid.factor_labels, rotation=60, ha="right", fontsize=8)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="value", shrink=0.6)
    return figure


def plot_crosstab(
    crosstab: ActivityCrosstab, *, title: str = "Most active users x most rated movies"
) -> Figure:
    """A heatmap of ratings (blank where unrated) of the most active users and rated movies."""
    if crosstab.values.size == 0:
        raise DataError("the crosstab is empty: nothing to draw")
    rows, columns = crosstab.values.shape
    figure = new_figure(3.0 + 0.32 * columns, 3.2 + 0.25 * rows)
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(crosstab.values), cmap="viridis", aspect="auto")
    axes.set_facecolor("#dddddd")
    axes.set_yticks(np.arange(rows), [f"user {u}" for u in crosstab.user_ids], fontsize=7)
    axes.set_xticks(
        np.arange(columns),
        [short_title(t, 30) for t in crosstab.titles],
        rotation=60,
        ha="right",
        fontsize=7,
    )
    axes.set_xlabel("movie (most rated first)")
    axes.set_ylabel("user (most active first)")
    axes.set_title(title)
    figure.colorbar(image, ax=axes, label="rating (grey: not rated)", shrink=0.6)
    return figure
