from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matinee.data.ids import IdMap
from matinee.errors import ConfigError, DataError
from matinee.explain.coherence import (
    COMPARISON_COLUMNS,
    cluster_units,
    coherence,
    compare_coherence,
    factor_units,
    genre_purity,
)
from matinee.explain.distributions import movie_catalog

GENRES = ["Comedy", "Drama", "Horror", "Western"]


def _catalog(genres: list[list[str]]) -> pl.DataFrame:
    n = len(genres)
    table = pl.DataFrame(
        {"movie_id": list(range(n)), "title": [f"T{i}" for i in range(n)], "genres": genres}
    )
    return movie_catalog(IdMap(range(n)), table)


def test_genre_purity_known_values() -> None:
    assert genre_purity([["Comedy"], ["Comedy", "Drama"], ["Comedy"]]) == (1.0, "Comedy")
    assert genre_purity([["Drama"], ["Comedy"], ["Drama", "Horror"], []]) == (0.5, "Drama")
    assert genre_purity([["Horror"], ["Comedy"]]) == (0.5, "Comedy")  # ties: alphabetical
    assert genre_purity([]) == (0.0, "")
    assert genre_purity([[], []]) == (0.0, "")


@given(st.lists(st.lists(st.sampled_from(GENRES), max_size=3), min_size=1, max_size=12))
def test_purity_lies_between_a_share_and_one(genres: list[list[str]]) -> None:
    purity, genre = genre_purity(genres)
    assert 0.0 <= purity <= 1.0
    if any(genres):
        assert genre in GENRES
        assert purity >= 1 / len(genres)
        assert purity == sum(genre in g for g in genres) / len(genres)


def test_units_sharing_a_genre_score_one_and_beat_the_baseline() -> None:
    genres = [[GENRES[i % 4]] for i in range(40)]
    catalog = _catalog(genres)
    units = [np.arange(g, 40, 4)[:10] for g in range(4)]
    result = coherence(units, catalog, draws=10, seed=3)
    assert result.purity == 1.0
    np.testing.assert_array_equal(result.unit_purity, [1.0, 1.0, 1.0, 1.0])
    assert result.dominant_genres == tuple(GENRES)
    assert result.distinct_genres == 4
    assert result.distinct_movies == 1.0
    assert 0.25 <= result.baseline < 0.6
    assert result.lift > 1.5
    assert result.z > 3


def test_random_units_have_lift_near_one() -> None:
    genres = [[GENRES[i % 4]] for i in range(400)]
    catalog = _catalog(genres)
    rng = np.random.default_rng(7)
    units = [rng.choice(400, 10, replace=False) for _ in range(40)]
    result = coherence(units, catalog, draws=20)
    assert 0.85 < result.lift < 1.15
    assert abs(result.z) < 4


def test_repeated_movies_lower_distinct_movies() -> None:
    catalog = _catalog([["Drama"]] * 6)
    result = coherence([[0, 1, 2], [0, 3, 4]], catalog, draws=2)
    assert result.distinct_movies == pytest.approx(4 / 6)
    assert math.isnan(result.z)  # every random set is pure too: no spread
    assert result.lift == 1.0


def test_coherence_errors() -> None:
    catalog = _catalog([["Drama"]] * 4)
    with pytest.raises(DataError, match="at least one unit"):
        coherence([], catalog)
    with pytest.raises(ConfigError, match="draws"):
        coherence([[0]], catalog, draws=1)
    with pytest.raises(ConfigError, match="larger than the pool"):
        coherence([[0, 1, 2]], catalog, pool=[0, 1])


def test_factor_units_use_both_ends_of_signed_factors() -> None:
    signed = np.array([[1.0], [-1.0], [0.5], [-0.5]])
    assert [u.tolist() for u in factor_units(signed, n=1)] == [[0], [1]]
    positive = np.abs(signed)
    assert [u.tolist() for u in factor_units(positive, n=2)] == [[0, 1]]
    assert len(factor_units(positive, n=1, both_ends=True)) == 2


def test_compare_coherence_ranks_a_genre_aligned_model_first(rng: np.random.Generator) -> None:
    n = 80
    genre_of = np.arange(n) % 4
    catalog = _catalog([[GENRES[g]] for g in genre_of])
    aligned = np.eye(4)[genre_of] + rng.uniform(0, 0.1, size=(n, 4))
    noise = rng.uniform(0, 1, size=(n, 4))
    table = compare_coherence(
        {"aligned": aligned, "noise": noise}, catalog, n=10, clusters=4, draws=10
    )
    assert table.columns == list(COMPARISON_COLUMNS)
    assert table["model"].to_list() == ["aligned", "aligned", "noise", "noise"]
    assert table["kind"].to_list() == ["factors", "clusters"] * 2
    aligned_rows = table.filter(pl.col("model") == "aligned")
    assert aligned_rows["purity"].to_list() == [1.0, 1.0]
    assert table.filter(pl.col("model") == "noise")["purity"].max() < 1.0
    assert len(cluster_units(aligned, k=4, n=5)) == 4
    with pytest.raises(DataError, match="at least one model"):
        compare_coherence({}, catalog)
