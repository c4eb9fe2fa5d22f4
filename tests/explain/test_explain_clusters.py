from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, MatineeError
from matinee.explain.clusters import cluster_movies, cluster_summary, movie_map, umap_available
from matinee.explain.distributions import movie_catalog

CENTRES = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
GENRES = ["Comedy", "Horror", "Western"]


def _blobs(rng: np.random.Generator, per: int = 10) -> tuple[np.ndarray, pl.DataFrame]:
    """Three well separated blobs; blob b's movies are ids b*100.. with genre GENRES[b]."""
    vectors = np.vstack([c + rng.normal(scale=0.3, size=(per, 3)) for c in CENTRES])
    ids = [b * 100 + i for b in range(3) for i in range(per)]
    table = pl.DataFrame(
        {
            "movie_id": ids,
            "title": [f"B{i // 100}-{i % 100}" for i in ids],
            "genres": [[GENRES[i // 100]] for i in ids],
        }
    )
    # Movie i of each blob has i + 1 ratings, so "-9" titles are the best known.
    users = [u for i in ids for u in range(i % 100 + 1)]
    movies = [i for i in ids for _ in range(i % 100 + 1)]
    ratings = Ratings.from_raw(users, movies, [4.0] * len(users))
    return vectors, movie_catalog(IdMap(ids), table, ratings)


def test_kmeans_recovers_separated_blobs(rng: np.random.Generator) -> None:
    vectors, catalog = _blobs(rng)
    clusters = cluster_movies(vectors, catalog, k=3, seed=1)
    labels = clusters["cluster"].to_numpy()
    for blob in range(3):
        assert len(set(labels[blob * 10 : (blob + 1) * 10])) == 1
    assert len(set(labels)) == 3
    summary = cluster_summary(clusters, n_titles=2)
    assert summary["size"].to_list() == [10, 10, 10]
    for genres, titles in zip(summary["top_genres"], summary["best_known"], strict=True):
        genre = genres[0].split()[0]
        assert genres[0] == f"{genre} 100%"
        blob = GENRES.index(genre)
        assert titles.to_list() == [f"B{blob}-9", f"B{blob}-8"]


def test_cluster_rows_and_bad_k(rng: np.random.Generator) -> None:
    vectors, catalog = _blobs(rng)
    subset = cluster_movies(vectors, catalog, k=2, rows=[0, 1, 10, 11])
    assert subset["movie_idx"].to_list() == [0, 1, 10, 11]
    with pytest.raises(ConfigError, match="k must"):
        cluster_movies(vectors, catalog, k=5, rows=[0, 1, 2])
    with pytest.raises(ConfigError):
        cluster_summary(pl.DataFrame({"cluster": [0]}))


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_maps_keep_blobs_apart(rng: np.random.Generator, method: str) -> None:
    vectors, catalog = _blobs(rng)
    frame = movie_map(vectors, catalog, method=method, seed=0)  # type: ignore[arg-type]
    assert frame.height == 30
    points = frame.select("x", "y").to_numpy()
    blob_centres = np.array([points[b * 10 : (b + 1) * 10].mean(axis=0) for b in range(3)])
    spread = max(points[b * 10 : (b + 1) * 10].std(axis=0).max() for b in range(3))
    gaps = [np.linalg.norm(blob_centres[a] - blob_centres[b]) for a, b in [(0, 1), (0, 2), (1, 2)]]
    assert min(gaps) > 3 * spread


def test_three_d_map_and_errors(rng: np.random.Generator) -> None:
    vectors, catalog = _blobs(rng)
    frame = movie_map(vectors, catalog, method="pca", dims=3, rows=range(12))
    assert {"x", "y", "z"} <= set(frame.columns)
    assert frame.height == 12
    with pytest.raises(ConfigError, match="dims"):
        movie_map(vectors, catalog, dims=4)
    with pytest.raises(ConfigError, match="unknown map method"):
        movie_map(vectors, catalog, method="mds")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="more than 2 movies"):
        movie_map(vectors, catalog, method="pca", rows=[0, 1])


def test_umap_says_what_to_install_when_missing(rng: np.random.Generator) -> None:
    vectors, catalog = _blobs(rng)
    if umap_available():
        assert movie_map(vectors, catalog, method="umap").height == 30
    else:
        with pytest.raises(MatineeError, match="pip install umap-learn"):
            movie_map(vectors, catalog, method="umap")
