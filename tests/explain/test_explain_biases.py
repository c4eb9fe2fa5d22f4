from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, DataError
from matinee.explain.biases import BIAS_COLUMNS, bias_ranking
from matinee.explain.distributions import movie_catalog


def _catalog(counts: list[int]) -> pl.DataFrame:
    """Movies 1..n where movie k has counts[k-1] ratings (by distinct users)."""
    users, movies = [], []
    for movie, count in enumerate(counts, start=1):
        users += list(range(count))
        movies += [movie] * count
    ratings = Ratings.from_raw(users, movies, [3.0] * len(users))
    table = pl.DataFrame(
        {
            "movie_id": list(range(1, len(counts) + 1)),
            "title": [f"M{m}" for m in range(1, len(counts) + 1)],
            "genres": [["Drama"]] * len(counts),
        }
    )
    return movie_catalog(IdMap(range(1, len(counts) + 1)), table, ratings)


def test_ranking_on_hand_data() -> None:
    catalog = _catalog([5, 5, 5, 5, 5])
    ranking = bias_ranking([0.1, -0.5, 0.9, 0.0, -0.2], catalog, n=2)
    assert ranking.top.columns == list(BIAS_COLUMNS)
    assert ranking.top["title"].to_list() == ["M3", "M1"]
    assert ranking.top["bias"].to_list() == [0.9, 0.1]
    assert ranking.bottom["title"].to_list() == ["M2", "M5"]
    assert ranking.bottom["rank"].to_list() == [1, 2]
    assert ranking.candidates == 5


def test_min_ratings_and_most_rated_filters() -> None:
    catalog = _catalog([1, 10, 3, 8, 2])
    biases = [5.0, 1.0, 4.0, 2.0, -3.0]
    assert bias_ranking(biases, catalog, n=1, min_ratings=3).top["title"].to_list() == ["M3"]
    assert bias_ranking(biases, catalog, n=1, min_ratings=3).bottom["title"].to_list() == ["M2"]
    two = bias_ranking(biases, catalog, n=5, most_rated=2)
    assert sorted(two.top["title"].to_list()) == ["M2", "M4"]
    assert two.candidates == 2
    assert two.top["n_ratings"].to_list() == [8, 10]


def test_bad_inputs_raise_clear_errors() -> None:
    catalog = _catalog([2, 2])
    with pytest.raises(DataError, match="catalogue has 2"):
        bias_ranking([0.0, 1.0, 2.0], catalog)
    with pytest.raises(DataError, match="NaN"):
        bias_ranking([0.0, np.nan], catalog)
    with pytest.raises(DataError, match="one-dimensional"):
        bias_ranking([[0.0, 1.0]], catalog)
    with pytest.raises(ConfigError, match="n must"):
        bias_ranking([0.0, 1.0], catalog, n=0)
    with pytest.raises(DataError, match="at least 5"):
        bias_ranking([0.0, 1.0], catalog, min_ratings=5)
    no_counts = movie_catalog(IdMap([1, 2]))
    with pytest.raises(ConfigError, match="counts"):
        bias_ranking([0.0, 1.0], no_counts, min_ratings=1)
