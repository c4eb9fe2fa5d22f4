from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import DataError
from matinee.explain import biases, clusters, coherence, distributions, factors
from matinee.explain.plots import (
    Figure,
    category_colour,
    plot_bias_ranking,
    plot_top_movies,
    plot_top_viewers,
    save_figure,
    short_title,
)
from matinee.explain.plots_data import (
    plot_coherence,
    plot_rating_counts,
    plot_rating_values,
    plot_training_curves,
)
from matinee.explain.plots_maps import plot_crosstab, plot_factor_heatmap, plot_movie_map

N_MOVIES = 40
GENRES = ["Comedy", "Drama", "Horror", "Western"]


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, pl.DataFrame, Ratings]:
    rng = np.random.default_rng(42)
    ids = list(range(1, N_MOVIES + 1))
    table = pl.DataFrame(
        {
            "movie_id": ids,
            "title": [f"A rather long movie title number {i} (19{i:02d})" for i in ids],
            "genres": [[GENRES[i % 4]] for i in ids],
        }
    )
    users = rng.integers(1, 30, size=600)
    movies = rng.integers(1, N_MOVIES + 1, size=600)
    pairs = np.unique(np.stack([users, movies], axis=1), axis=0)
    ratings = Ratings.from_raw(pairs[:, 0], pairs[:, 1], rng.integers(1, 11, size=len(pairs)) / 2.0)
    catalog = distributions.movie_catalog(IdMap(ids), table, ratings)
    return rng.normal(size=(N_MOVIES, 5)), catalog, ratings


@pytest.fixture(scope="module")
def figures(data: tuple[np.ndarray, pl.DataFrame, Ratings]) -> dict[str, Callable[[], Figure]]:
    vectors, catalog, ratings = data
    grouped = clusters.cluster_movies(vectors, catalog, k=3)
    mapped = clusters.movie_map(vectors, catalog, method="pca").with_columns(grouped["cluster"])
    mapped_3d = clusters.movie_map(vectors, catalog, method="pca", dims=3)
    weights = np.abs(vectors[:29, :3])
    top_viewers = factors.top_viewers_per_node(weights, IdMap(range(29), kind="user"), n=3)
    history = [
        {"epoch": float(e), "loss": 1.0 / e, "val_loss": 1.1 / e + 0.01 * e} for e in (1, 2, 3)
    ]
    table = coherence.compare_coherence({"m": vectors}, catalog, n=5, clusters=3, draws=3)
    return {
        "biases": lambda: plot_bias_ranking(biases.bias_ranking(vectors[:, 0], catalog, n=5)),
        "top_movies": lambda: plot_top_movies(factors.top_movies_per_factor(vectors, catalog, n=4)),
        "viewers": lambda: plot_top_viewers(factors.viewer_appearances(top_viewers)),
        "map": lambda: plot_movie_map(mapped, labels=8),
        "map_titles": lambda: plot_movie_map(mapped_3d, labels=catalog["title"].head(2).to_list()),
        "heatmap": lambda: plot_factor_heatmap(factors.movie_factor_grid(vectors, catalog)),
        "heatmap_positive": lambda: plot_factor_heatmap(
            factors.movie_factor_grid(np.abs(vectors), catalog)
        ),
        "crosstab": lambda: plot_crosstab(distributions.activity_crosstab(ratings, n_users=8)),
        "per_movie": lambda: plot_rating_counts(distributions.ratings_per_movie(ratings)),
        "per_user": lambda: plot_rating_counts(distributions.ratings_per_user(ratings), per="user"),
        "values": lambda: plot_rating_values(distributions.rating_values(ratings)),
        "curves": lambda: plot_training_curves(distributions.training_curves(history)),
        "coherence": lambda: plot_coherence(table),
    }


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


NAMES = [
    "biases", "top_movies", "viewers", "map", "map_titles", "heatmap", "heatmap_positive",
    "crosstab", "per_movie", "per_user", "values", "curves", "coherence",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_renders_to_png(
    name: str, figures: dict[str, Callable[[], Figure]], tmp_path: Path
) -> None:
    figure = figures[name]()
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_title() or figure.get_suptitle()
    path = save_figure(figure, tmp_path / "sub" / f"{name}.png")
    assert path.stat().st_size > 5_000
    width, height = _png_size(path)
    assert 300 <= width <= 3000 and 250 <= height <= 3000
    assert not list(path.parent.glob(".*"))  # no temporary file left behind


def test_figure_list_is_complete(figures: dict[str, Callable[[], Figure]]) -> None:
    assert sorted(figures) == sorted(NAMES)


def test_helpers_and_empty_input() -> None:
    assert short_title("x" * 50, 10) == "x" * 9 + "…"
    assert short_title("short") == "short"
    assert category_colour(0) == "#0072B2"
    assert category_colour(12).startswith("#") and len(category_colour(12)) == 7
    empty = pl.DataFrame({"n_ratings": []}, schema={"n_ratings": pl.Int64})
    with pytest.raises(DataError, match="empty"):
        plot_rating_counts(empty)
    with pytest.raises(DataError, match="lacks"):
        plot_movie_map(pl.DataFrame({"x": [1.0]}))
