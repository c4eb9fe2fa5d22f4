"""The explanation report: every analysis that applies to a model, as PNGs and one HTML page.

:func:`build_report` runs each analysis in turn. One that does not apply (no biases, no movie
vectors, no history, no ratings) is listed under "Skipped" with the reason instead of failing the
report. The folder is written beside its target and swapped in with ``os.replace``, so a reader
never sees half a report.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matinee.atomic import atomic_directory
from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, MatineeError, NotFittedError
from matinee.explain import biases, clusters, coherence, distributions, factors
from matinee.explain.clusters import MapMethod
from matinee.explain.plots import Figure, plot_bias_ranking, plot_top_movies, plot_top_viewers
from matinee.explain.plots import save_figure as _save_png
from matinee.explain.plots_data import (
    plot_coherence,
    plot_rating_counts,
    plot_rating_values,
    plot_training_curves,
)
from matinee.explain.plots_maps import plot_crosstab, plot_factor_heatmap, plot_movie_map
from matinee.explain.report_html import (
    REPORT_MARKER,
    REPORT_MARKER_TEXT,
    Section,
    is_report,
    page,
    table,
    titles_per_factor,
)
from matinee.models.base import Recommender

__all__ = ["REPORT_MARKER", "ReportOptions", "build_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ReportOptions:
    """What the report shows and how much of it."""

    top_n: int = 10
    """Movies listed per bias end, factor, component and cluster."""
    min_ratings: int = 20
    """Fewest ratings a movie needs to enter the bias ranking (when counts are known)."""
    candidates: int = 2000
    """Most-rated movies that describe factors and components (the notebooks used 2,000)."""
    pca_components: int = 3
    """PCA components of the movie vectors."""
    clusters: int = 8
    """k-means clusters of the mapped movies."""
    map_movies: int = 600
    """Most-rated movies placed on the cluster map."""
    map_method: MapMethod = "tsne"
    """How the map is laid out ("tsne", "pca", or "umap" when installed)."""
    map_labels: int = 20
    """Best-known movies named on the maps."""
    factors_shown: int = 6
    """Factors, nodes or components drawn in the bar charts and listed in tables."""
    coherence_draws: int = 20
    """Random draws of the genre-coherence baseline."""
    seed: int = 0
    """Seed of k-means, t-SNE and the baseline draws."""

    def __post_init__(self) -> None:
        for name in ("top_n", "candidates", "pca_components", "clusters", "map_movies"):
            if getattr(self, name) < 1:
                raise ConfigError(f"ReportOptions.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("min_ratings", "map_labels", "seed"):
            if getattr(self, name) < 0:
                raise ConfigError(f"ReportOptions.{name} must be >= 0, got {getattr(self, name)}")
        if self.coherence_draws < 2:
            raise ConfigError(
                f"ReportOptions.coherence_draws must be >= 2, got {self.coherence_draws}"
            )
        if self.factors_shown < 1:
            raise ConfigError(f"ReportOptions.factors_shown must be >= 1, got {self.factors_shown}")
        if self.map_method not in ("tsne", "pca", "umap"):
            raise ConfigError(
                f"ReportOptions.map_method must be tsne, pca or umap, got {self.map_method!r}"
            )
        if self.map_method == "umap" and not clusters.umap_available():
            raise ConfigError(
                "ReportOptions.map_method 'umap' needs the umap-learn package, which is not "
                "installed: pip install 'matinee[plot]' (or choose tsne or pca)"
            )


class _Skip(Exception):
    """An analysis that does not apply to this model; the message says why."""


@dataclass
class _Context:
    model: Recommender[Any]
    catalog: pl.DataFrame
    ratings: Ratings | None
    options: ReportOptions
    folder: Path
    unit: str

    def save(self, figure: Figure, name: str) -> str:
        _save_png(figure, self.folder / f"{name}.png")
        return f"{name}.png"

    def vectors(self) -> np.ndarray:
        vectors = self.model.movie_vectors()
        if vectors is None:
            raise _Skip(f"{self.model.name} has no movie vectors")
        return np.asarray(vectors, dtype=np.float64)

    def candidates(self) -> np.ndarray:
        return distributions.most_rated_movies(self.catalog, self.options.candidates)


def _unit_name(model: Recommender[Any]) -> str:
    name = model.name.lower()
    if "nmf" in name:
        return "feature"
    if "autoencoder" in name or "autorec" in name:
        return "node"
    return "factor"


def _training(ctx: _Context) -> Section:
    if not ctx.model.history_:
        raise _Skip(f"{ctx.model.name} is not trained epoch by epoch: no training history")
    curves = distributions.training_curves(ctx.model.history_)
    image = ctx.save(
        plot_training_curves(curves, title=f"{ctx.model.name}: loss per epoch"), "training"
    )
    return Section(
        "Training curves",
        "Loss per epoch, from the history saved with the model.",
        [image],
        [table(curves)],
    )


def _biases(ctx: _Context) -> Section:
    values = ctx.model.movie_biases()
    if values is None:
        raise _Skip(f"{ctx.model.name} learns no movie biases")
    has_counts = ctx.ratings is not None
    minimum = ctx.options.min_ratings if has_counts else 0
    ranking = biases.bias_ranking(values, ctx.catalog, n=ctx.options.top_n, min_ratings=minimum)
    columns = ["rank", "title", "n_ratings", "bias"]
    return Section(
        "Movie biases",
        f"Movies liked more (or less) than reviewer generosity explains; "
        f"only movies with at least {minimum} ratings.",
        [ctx.save(plot_bias_ranking(ranking, title=f"{ctx.model.name}: movie biases"), "biases")],
        [
            table(ranking.top.select(columns), "highest"),
            table(ranking.bottom.select(columns), "lowest"),
        ],
    )


def _factors(ctx: _Context) -> Section:
    vectors, unit, shown = ctx.vectors(), ctx.unit, ctx.options.factors_shown
    top = factors.top_movies_per_factor(
        vectors, ctx.catalog, n=ctx.options.top_n, candidates=ctx.candidates()
    )
    grid = factors.movie_factor_grid(
        vectors, ctx.catalog, candidates=ctx.candidates(), max_factors=12, label=unit
    )
    images = [
        ctx.save(
            plot_top_movies(
                top, max_factors=shown, label=unit, title=f"{ctx.model.name}: top movies per {unit}"
            ),
            "factors",
        ),
        ctx.save(
            plot_factor_heatmap(grid, title=f"{ctx.model.name}: movies x {unit}s"), "factor_heatmap"
        ),
    ]
    intro = (
        f"Each {unit} described by the movies scoring highest on it, among the "
        f"{ctx.options.candidates:,} most rated; {vectors.shape[1]} {unit}s in all."
    )
    listed = 2 * shown
    tables = [table(titles_per_factor(top.filter(pl.col("factor") < listed), unit), "highest")]
    if np.any(vectors < 0):
        low = factors.top_movies_per_factor(
            vectors, ctx.catalog, n=ctx.options.top_n, candidates=ctx.candidates(), lowest=True
        )
        caption = f"lowest (the other end of a signed {unit})"
        tables.append(
            table(titles_per_factor(low.filter(pl.col("factor") < listed), unit), caption)
        )
    return Section(f"Top movies per {unit}", intro, images, tables)


def _pca(ctx: _Context) -> Section:
    vectors = ctx.vectors()
    n_components = min(ctx.options.pca_components, vectors.shape[1])
    if n_components < 2:
        raise _Skip("PCA needs movie vectors of at least 2 dimensions")
    pca = factors.pca_components(
        vectors, n_components=n_components, fit_rows=ctx.candidates(), seed=ctx.options.seed
    )
    top = factors.top_movies_per_factor(
        pca.scores, ctx.catalog, n=ctx.options.top_n, candidates=pca.fitted_rows
    )
    low = factors.top_movies_per_factor(
        pca.scores, ctx.catalog, n=ctx.options.top_n, candidates=pca.fitted_rows, lowest=True
    )
    frame = distributions.take_rows(ctx.catalog, pca.fitted_rows).with_columns(
        pl.Series("x", pca.scores[pca.fitted_rows, 0]),
        pl.Series("y", pca.scores[pca.fitted_rows, 1]),
    )
    shares = ", ".join(f"{100 * s:.1f}%" for s in pca.explained_variance_ratio)
    figure = plot_movie_map(
        frame,
        labels=ctx.options.map_labels,
        axis_name="component",
        title=f"{ctx.model.name}: PCA of movie vectors (variance {shares})",
    )
    tables = [
        table(titles_per_factor(top, "component"), "highest scores"),
        table(titles_per_factor(low, "component"), "lowest scores"),
    ]
    intro = (
        f"{n_components} principal components of the vectors of the "
        f"{pca.fitted_rows.size:,} most rated movies."
    )
    return Section("PCA components", intro, [ctx.save(figure, "pca")], tables)


def _clusters(ctx: _Context) -> Section:
    vectors, options = ctx.vectors(), ctx.options
    rows = distributions.most_rated_movies(ctx.catalog, options.map_movies)
    k = min(options.clusters, rows.size)
    grouped = clusters.cluster_movies(vectors, ctx.catalog, k=k, rows=rows, seed=options.seed)
    mapped = clusters.movie_map(
        vectors, ctx.catalog, method=options.map_method, rows=rows, seed=options.seed
    )
    mapped = mapped.with_columns(grouped["cluster"])
    axis = {"tsne": "t-SNE", "pca": "PCA", "umap": "UMAP"}[options.map_method]
    figure = plot_movie_map(
        mapped,
        labels=options.map_labels,
        axis_name=axis,
        title=f"{ctx.model.name}: k-means clusters on a {axis} map",
    )
    summary = clusters.cluster_summary(grouped, n_titles=options.top_n // 2)
    intro = f"k-means ({k} clusters) of the {rows.size:,} most rated movies' vectors."
    return Section("Clusters", intro, [ctx.save(figure, "clusters")], [table(summary)])


def _viewers(ctx: _Context) -> Section:
    weights = factors.viewer_weights(ctx.model)
    if weights is None:
        raise _Skip(f"{ctx.model.name} exposes no viewer x node weights")
    users = ctx.model.users_
    if users is None:
        raise NotFittedError(f"{ctx.model.name} is not fitted")
    top = factors.top_viewers_per_node(weights, users, n=ctx.options.top_n)
    appearances = factors.viewer_appearances(top)
    figure = plot_top_viewers(
        appearances, title=f"{ctx.model.name}: viewers who drive hidden nodes"
    )
    return Section(
        "Viewers per node",
        "Viewers with the largest input weights into each node.",
        [ctx.save(figure, "viewers")],
        [table(appearances.head(20))],
    )


def _coherence(ctx: _Context) -> Section:
    vectors = ctx.vectors()
    if all(len(g) == 0 for g in ctx.catalog["genres"].to_list()):
        raise _Skip("no movie genres are known (give a dataset or save the movies table)")
    scores = coherence.compare_coherence(
        {ctx.model.name: vectors},
        ctx.catalog,
        n=ctx.options.top_n,
        candidates=ctx.candidates(),
        clusters=ctx.options.clusters,
        draws=ctx.options.coherence_draws,
        seed=ctx.options.seed,
    )
    intro = (
        f"Share of each {ctx.unit}'s (or cluster's) top-{ctx.options.top_n} movies that carry "
        "its most common genre, against random movies of the same candidates."
    )
    return Section(
        "Genre coherence", intro, [ctx.save(plot_coherence(scores), "coherence")], [table(scores)]
    )


def _data(ctx: _Context) -> Section:
    if ctx.ratings is None:
        raise _Skip("no ratings were given (pass a dataset)")
    ratings = ctx.ratings
    titles = dict(
        zip(ctx.catalog["movie_id"].to_list(), ctx.catalog["title"].to_list(), strict=True)
    )
    images = [
        ctx.save(
            plot_rating_counts(distributions.ratings_per_movie(ratings), per="movie"),
            "ratings_per_movie",
        ),
        ctx.save(
            plot_rating_counts(distributions.ratings_per_user(ratings), per="user"),
            "ratings_per_user",
        ),
        ctx.save(plot_rating_values(distributions.rating_values(ratings)), "rating_values"),
        ctx.save(
            plot_crosstab(distributions.activity_crosstab(ratings, titles=titles)), "crosstab"
        ),
    ]
    return Section("Ratings", f"The ratings the report was made with: {ratings!r}.", images)


_ANALYSES: tuple[tuple[str, Callable[[_Context], Section]], ...] = (
    ("Training curves", _training),
    ("Movie biases", _biases),
    ("Top movies per factor", _factors),
    ("PCA components", _pca),
    ("Clusters", _clusters),
    ("Viewers per node", _viewers),
    ("Genre coherence", _coherence),
    ("Ratings", _data),
)


def build_report(
    model: Recommender[Any],
    dataset: Dataset | None,
    out_dir: str | os.PathLike[str],
    *,
    movies: pl.DataFrame | None = None,
    options: ReportOptions | None = None,
) -> Path:
    """Write every analysis that applies to ``model`` as PNGs plus ``index.html`` in ``out_dir``.

    Args:
        model: A fitted model (loaded or just trained).
        dataset: The data the model was trained on, for titles, genres and rating counts; None
            gives a report of ids and vectors only.
        out_dir: The report folder; an earlier report there is replaced, any other non-empty
            folder is refused.
        movies: A movies table to use instead of the dataset's (for example the one saved with
            the model).
        options: What to show; :class:`ReportOptions` defaults if None.

    Returns:
        The path of ``index.html``.
    """
    if not isinstance(model, Recommender):
        raise ConfigError(f"build_report takes a fitted model, got {type(model).__name__}")
    if model.movies_ is None:
        raise NotFittedError(f"{type(model).__name__} is not fitted; nothing to explain")
    options = options or ReportOptions()
    target = Path(out_dir)
    if movies is None and dataset is not None:
        movies = dataset.movies
    ratings = dataset.ratings if dataset is not None else None
    catalog = distributions.movie_catalog(model.movies_, movies, ratings)
    with atomic_directory(target, recognise=is_report, what="a Matinee report") as staging:
        ctx = _Context(model, catalog, ratings, options, staging, _unit_name(model))
        sections, skipped = _run_analyses(ctx)
        text = page(model, dataset, sections, skipped, staging)
        (staging / "index.html").write_text(text, encoding="utf-8")
        (staging / REPORT_MARKER).write_text(REPORT_MARKER_TEXT, encoding="utf-8")
    log.info("wrote the %s report to %s (%d sections)", model.name, target, len(sections))
    return target / "index.html"


def _run_analyses(ctx: _Context) -> tuple[list[Section], list[tuple[str, str]]]:
    sections: list[Section] = []
    skipped: list[tuple[str, str]] = []
    for title, analysis in _ANALYSES:
        try:
            sections.append(analysis(ctx))
        except _Skip as reason:
            skipped.append((title, str(reason)))
        except MatineeError as error:
            log.warning("report section %r failed: %s", title, error)
            skipped.append((title, f"could not be made: {error}"))
    return sections, skipped
