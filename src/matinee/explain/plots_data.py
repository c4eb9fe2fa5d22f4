"""Pictures of the data and of training: rating counts, rating values, curves, coherence."""

from __future__ import annotations

import numpy as np
import polars as pl

from matinee.explain.plots import OKABE_ITO, Figure, _require_columns, new_figure

__all__ = [
    "plot_coherence",
    "plot_rating_counts",
    "plot_rating_values",
    "plot_training_curves",
]


def plot_rating_counts(counts: pl.DataFrame, *, per: str = "movie") -> Figure:
    """A histogram (log-spaced bins) of ratings per movie or per user.

    Args:
        counts: ``ratings_per_movie`` or ``ratings_per_user`` output (column ``n_ratings``).
        per: What was counted, for the labels ("movie" or "user").
    """
    _require_columns(counts, ("n_ratings",), f"the ratings-per-{per} counts")
    values = counts["n_ratings"].to_numpy()
    bins = np.unique(np.geomspace(1, max(int(values.max()), 2) + 1, 40).astype(int))
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    axes.hist(values, bins=bins.tolist(), color=OKABE_ITO[0], edgecolor="white", linewidth=0.4)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel(f"ratings per {per} (log scale)")
    axes.set_ylabel(f"{per}s (log scale)")
    median = float(np.median(values))
    axes.axvline(median, color=OKABE_ITO[3], linestyle="--", label=f"median {median:g}")
    axes.legend(frameon=False)
    axes.set_title(f"How many ratings each {per} has ({values.size:,} {per}s)")
    return figure


def plot_rating_values(values: pl.DataFrame) -> Figure:
    """Bars of how often each rating value occurs (``rating_values`` output)."""
    _require_columns(values, ("rating", "count"), "the rating values")
    ratings = values["rating"].to_numpy()
    steps = np.diff(np.sort(ratings))
    width = 0.8 * float(steps.min()) if steps.size else 0.4
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    axes.bar(ratings, values["count"].to_numpy(), width=width, color=OKABE_ITO[1])
    axes.set_xticks(ratings, [f"{r:g}" for r in ratings])
    axes.set_xlabel("rating")
    axes.set_ylabel("ratings")
    axes.set_title(f"Rating values ({int(values['count'].sum()):,} ratings)")
    return figure


def plot_training_curves(curves: pl.DataFrame, *, title: str = "Training curves") -> Figure:
    """Training and validation loss per epoch (``training_curves`` output)."""
    _require_columns(curves, ("epoch", "loss"), "the training curves")
    figure = new_figure(7.0, 4.2)
    axes = figure.add_subplot()
    epochs = curves["epoch"].to_numpy()
    axes.plot(epochs, curves["loss"].to_numpy(), marker="o", color=OKABE_ITO[0], label="train")
    if "val_loss" in curves.columns and curves["val_loss"].null_count() < curves.height:
        validation = curves["val_loss"].to_numpy()
        axes.plot(
            epochs, validation, marker="s", color=OKABE_ITO[3], linestyle="--", label="validation"
        )
        best = int(np.nanargmin(validation))
        axes.annotate(
            f"best {validation[best]:.4f}",
            (epochs[best], validation[best]),
            textcoords="offset points",
            xytext=(0, 10),
            ha="center",
            fontsize=8,
        )
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.legend(frameon=False)
    axes.set_title(title)
    return figure


def plot_coherence(table: pl.DataFrame, *, title: str = "Genre coherence") -> Figure:
    """Grouped bars of purity against the shuffled baseline (``compare_coherence`` output)."""
    _require_columns(table, ("model", "kind", "purity", "baseline", "lift"), "the coherence table")
    labels = [f"{m}\n{k}" for m, k in zip(table["model"], table["kind"], strict=True)]
    positions = np.arange(table.height)
    figure = new_figure(max(5.0, 1.4 * table.height + 2.0), 4.5)
    axes = figure.add_subplot()
    width = 0.38
    purity = table["purity"].to_numpy()
    axes.bar(positions - width / 2, purity, width, color=OKABE_ITO[0], label="top-10 genre purity")
    axes.bar(
        positions + width / 2,
        table["baseline"].to_numpy(),
        width,
        color="#999999",
        label="random movies (baseline)",
    )
    for x, y, lift in zip(positions, purity, table["lift"].to_numpy(), strict=True):
        axes.text(x - width / 2, y + 0.01, f"x{lift:.2f}", ha="center", va="bottom", fontsize=8)
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylabel("share of movies with the dominant genre")
    axes.set_ylim(0, 1.1)
    axes.legend(loc="upper center", ncols=2, frameon=False, fontsize=8)
    axes.set_title(title)
    return figure
