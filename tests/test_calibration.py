"""The calibration greedy (issue 17): strength 0 keeps the model's order, lists stay valid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.calibration import Calibration, calibrate_row, check_strength, taste_of
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
