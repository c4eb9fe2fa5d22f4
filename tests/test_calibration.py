"""The calibration greedy (issue 17): strength 0 keeps the model's order, lists stay valid;
``"auto"`` sets each person's strength from how far their taste is from the catalogue's."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.calibration import (
    AUTO,
    AutoStrength,
    Calibration,
    calibrate_block,
    calibrate_row,
    catalogue_mix,
    check_strength,
    parse_strength,
    row_strengths,
    taste_of,
)
from matinee.errors import ConfigError
from matinee.ranking import top_k_row


def _genres(rng: np.random.Generator, n_movies: int, n_genres: int) -> np.ndarray:
    marks = rng.random((n_movies, n_genres)) < 0.3
    marks[np.arange(n_movies), rng.integers(0, n_genres, n_movies)] = True
    return marks / marks.sum(axis=1, keepdims=True)


def _case(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    genres = _genres(rng, 300, 6)
    scores = rng.normal(size=300)
    rated = rng.choice(300, 8, replace=False)
    masked = scores.copy()
    masked[rated] = -np.inf
    return masked, rated, rng.integers(1, 6, 8).astype(np.float64), genres


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 20))
def test_strength_zero_is_the_models_order(seed: int, k: int) -> None:
    masked, rated, ratings, genres = _case(seed)
    chosen = calibrate_row(masked, rated, ratings, genres, k, Calibration(0.0))
    assert chosen.tolist() == top_k_row(masked, k).tolist()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 20))
def test_auto_lists_equal_the_block_path_row_by_row(seed: int, k: int) -> None:
    """The one-row path's shortcut (strength 0: no pool, no greedy) changes no list."""
    masked, rated, ratings, genres = _case(seed)
    rows = sp.csr_matrix((ratings, (np.zeros(rated.size, int), rated)), shape=(1, 300))
    scores = np.where(np.isfinite(masked), masked, 0.0)[None, :]
    block = calibrate_block(scores, rows, genres, k, Calibration(AUTO))[0]
    assert calibrate_row(masked, rated, ratings, genres, k, Calibration(AUTO)).tolist() == [
        int(movie) for movie in block if movie >= 0
    ]


def test_catalogue_mix_is_worked_out_once_per_array_and_follows_its_values() -> None:
    genres = _genres(np.random.default_rng(3), 50, 4)
    expected = genres.sum(axis=0) / genres.sum()
    assert np.allclose(catalogue_mix(genres), expected)
    assert catalogue_mix(genres) is catalogue_mix(genres)
    other = genres[::-1] * np.array([1.0, 2.0, 0.5, 1.0])
    assert np.allclose(catalogue_mix(other), other.sum(axis=0) / other.sum())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 20), strength=st.floats(0.01, 1.0))
def test_lists_have_k_films_none_rated(seed: int, k: int, strength: float) -> None:
    masked, rated, ratings, genres = _case(seed)
    chosen = calibrate_row(masked, rated, ratings, genres, k, Calibration(strength))
    assert len(chosen) == k == len(set(chosen.tolist()))
    assert not set(chosen.tolist()) & set(rated.tolist())


def _kl(chosen: np.ndarray, p: np.ndarray, genres: np.ndarray) -> float:
    q = genres[chosen].sum(axis=0) / genres[chosen].sum()
    smooth = 0.99 * q + 0.01 * p
    inside = p > 0
    return float(np.sum(p[inside] * np.log(p[inside] / smooth[inside])))


def test_kl_falls_as_strength_grows_on_average() -> None:
    strengths = [0.0, 0.3, 0.6, 0.9]
    totals = np.zeros(len(strengths))
    for seed in range(40):
        masked, rated, ratings, genres = _case(seed)
        p = taste_of(rated, ratings, genres)[0]
        for position, strength in enumerate(strengths):
            chosen = calibrate_row(masked, rated, ratings, genres, 10, Calibration(strength))
            totals[position] += _kl(chosen, p, genres)
    assert np.all(np.diff(totals) <= 1e-9), totals


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_strengths_are_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="calibration"):
        check_strength(bad)


def test_check_and_parse_take_auto() -> None:
    assert check_strength("auto") == AUTO
    assert parse_strength(" Auto ") == AUTO
    assert parse_strength("0.25") == 0.25
    for bad in ("high", "1.5", "nan"):
        with pytest.raises(ConfigError, match="calibration"):
            parse_strength(bad)


@pytest.mark.parametrize(
    "kwargs", [{"onset": -0.1}, {"span": 0.0}, {"span": float("inf")}, {"most": 1.5}]
)
def test_bad_auto_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="auto calibration"):
        AutoStrength(**kwargs)


def test_auto_strength_grows_with_the_distance_from_the_catalogue() -> None:
    """The catalogue's own mix gets 0; one genre far from it gets ``most``; between, a ramp."""
    genres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    catalogue = genres.sum(axis=0) / genres.sum()
    mixed = 0.5 * catalogue + 0.5 * np.array([0.0, 0.0, 1.0])
    rows = np.vstack([catalogue, mixed, [0.0, 0.0, 1.0], np.zeros(3)])
    setting = AutoStrength(onset=0.1, span=0.5, most=0.8)
    strengths = row_strengths(rows, genres, Calibration(AUTO, auto=setting))
    kl_mixed = float(np.sum(mixed * np.log(mixed / catalogue)))
    expected_mixed = 0.8 * min(max((kl_mixed - 0.1) / 0.5, 0.0), 1.0)
    assert strengths == pytest.approx([0.0, expected_mixed, 0.8, 0.0])
    assert 0.0 < strengths[1] < 0.8
    fixed = row_strengths(rows, genres, Calibration(0.3))
    assert fixed.tolist() == [0.3] * 4


def test_auto_keeps_the_models_order_for_a_taste_like_the_catalogue() -> None:
    """Someone who rated one film of every kind is near the catalogue: no pull at all."""
    genres = np.eye(4)[np.arange(200) % 4]
    scores = np.random.default_rng(3).normal(size=200)
    rated = np.arange(4)
    masked = scores.copy()
    masked[rated] = -np.inf
    auto = Calibration(AUTO, auto=AutoStrength(onset=0.05))
    chosen = calibrate_row(masked, rated, np.full(4, 4.0), genres, 10, auto)
    assert chosen.tolist() == top_k_row(masked, 10).tolist()


def test_auto_pulls_a_one_genre_person_to_their_genre() -> None:
    genres = np.eye(4)[np.arange(200) % 4]
    scores = np.random.default_rng(4).normal(size=200) + 2.0 * (np.arange(200) % 4 != 0)
    rated = np.array([0, 4, 8, 12])
    masked = scores.copy()
    masked[rated] = -np.inf
    plain = top_k_row(masked, 10)
    chosen = calibrate_row(masked, rated, np.full(4, 5.0), genres, 10, Calibration(AUTO))
    assert np.mean(plain % 4 == 0) < 0.5 < np.mean(chosen % 4 == 0)
    assert not set(chosen.tolist()) & set(rated.tolist())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 20))
def test_auto_lists_have_k_films_none_rated(seed: int, k: int) -> None:
    masked, rated, ratings, genres = _case(seed)
    chosen = calibrate_row(masked, rated, ratings, genres, k, Calibration(AUTO))
    assert len(chosen) == k == len(set(chosen.tolist()))
    assert not set(chosen.tolist()) & set(rated.tolist())


def test_a_block_of_people_each_gets_their_own_strength() -> None:
    """Rows in one block (evaluation's path) get the lists they get one at a time."""
    rng = np.random.default_rng(7)
    genres = _genres(rng, 300, 6)
    scores = rng.normal(size=(5, 300)).astype(np.float32)
    rated = sp.random(5, 300, density=0.03, format="csr", random_state=8, dtype=np.float64)
    rated.data = np.ceil(rated.data * 5)
    rated.sort_indices()
    block = calibrate_block(scores, rated, genres, 10, Calibration(AUTO))
    for row in range(5):
        films = rated[row].indices
        masked = scores[row].astype(np.float64)
        masked[films] = -np.inf
        alone = calibrate_row(masked, films, rated[row].data, genres, 10, Calibration(AUTO))
        assert block[row].tolist() == alone.tolist()
