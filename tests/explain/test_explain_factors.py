from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matinee.data.ids import IdMap
from matinee.errors import ConfigError, DataError
from matinee.explain.distributions import movie_catalog
from matinee.explain.factors import (
    FACTOR_COLUMNS,
    movie_factor_grid,
    pca_components,
    top_movie_indices,
    top_movies_per_factor,
    top_viewers_per_node,
    viewer_appearances,
)

VECTORS = np.array(
    [
        [0.9, 0.0],
        [0.8, 0.1],
        [0.1, 0.7],
        [0.0, 0.95],
        [0.5, 0.5],
        [-0.4, -0.3],
    ]
)


def _catalog(n: int) -> pl.DataFrame:
    table = pl.DataFrame(
        {"movie_id": list(range(n)), "title": [f"T{i}" for i in range(n)], "genres": [[]] * n}
    )
    return movie_catalog(IdMap(range(n)), table)


def test_top_movies_per_factor_known_answer() -> None:
    frame = top_movies_per_factor(VECTORS, _catalog(6), n=2)
    assert frame.columns == list(FACTOR_COLUMNS)
    assert frame.filter(pl.col("factor") == 0)["title"].to_list() == ["T0", "T1"]
    assert frame.filter(pl.col("factor") == 1)["title"].to_list() == ["T3", "T2"]
    assert frame["value"].to_list() == [0.9, 0.8, 0.95, 0.7]
    lowest = top_movies_per_factor(VECTORS, _catalog(6), n=1, lowest=True)
    assert lowest["title"].to_list() == ["T5", "T5"]


def test_candidates_restrict_the_choice() -> None:
    tops = top_movie_indices(VECTORS, n=1, candidates=[1, 2, 4])
    assert [t.tolist() for t in tops] == [[1], [2]]
    with pytest.raises(DataError, match=r"0\.\.5"):
        top_movie_indices(VECTORS, candidates=[6])
    with pytest.raises(ConfigError):
        top_movie_indices(VECTORS, n=0)
    with pytest.raises(DataError, match="catalogue has 3"):
        top_movies_per_factor(VECTORS, _catalog(3))


@settings(max_examples=30, deadline=None)
@given(arrays(np.float64, (7, 3), elements=st.floats(-5, 5)), st.integers(1, 7))
def test_top_values_dominate_the_rest(vectors: np.ndarray, n: int) -> None:
    for column, top in enumerate(top_movie_indices(vectors, n=n)):
        rest = np.setdiff1d(np.arange(7), top)
        assert top.size == n
        assert np.all(np.diff(vectors[top, column]) <= 0)
        if rest.size:
            assert vectors[top, column].min() >= vectors[rest, column].max()


def test_pca_finds_the_dominant_direction(rng: np.random.Generator) -> None:
    direction = np.array([3.0, 4.0, 0.0]) / 5.0
    strength = rng.normal(size=200) * 10
    vectors = np.outer(strength, direction) + rng.normal(scale=0.1, size=(200, 3))
    pca = pca_components(vectors, n_components=2, fit_rows=np.arange(100))
    assert pca.scores.shape == (200, 2)
    assert pca.fitted_rows.tolist() == list(range(100))
    assert pca.explained_variance_ratio[0] > 0.99
    correlation = np.corrcoef(pca.scores[:, 0], strength)[0, 1]
    assert abs(correlation) > 0.999
    with pytest.raises(ConfigError, match="n_components"):
        pca_components(vectors, n_components=4)


def test_movie_factor_grid_groups_rows_by_factor() -> None:
    grid = movie_factor_grid(VECTORS, _catalog(6), per_factor=2, label="node")
    assert grid.titles == ("T0", "T1", "T3", "T2")
    assert grid.factor_labels == ("node 0", "node 1")
    np.testing.assert_array_equal(grid.values, VECTORS[[0, 1, 3, 2]])


def test_top_viewers_and_their_appearances() -> None:
    weights = np.array([[0.9, 0.1, 0.8], [0.2, 0.9, 0.7], [0.1, 0.3, 0.0]])
    users = IdMap([100, 200, 300], kind="user")
    top = top_viewers_per_node(weights, users, n=2)
    assert top.filter(pl.col("node") == 0)["user_id"].to_list() == [100, 200]
    assert top.filter(pl.col("node") == 1)["user_id"].to_list() == [200, 300]
    assert top.filter(pl.col("node") == 2)["user_id"].to_list() == [100, 200]
    appearances = viewer_appearances(top)
    assert appearances.rows() == [(200, 3, [0, 1, 2]), (100, 2, [0, 2]), (300, 1, [1])]
    with pytest.raises(DataError, match="3 users"):
        top_viewers_per_node(weights[:2], users)
    with pytest.raises(DataError):
        viewer_appearances(pl.DataFrame({"x": [1]}))
