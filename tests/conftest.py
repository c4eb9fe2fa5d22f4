"""Shared fixtures: seeded RNG, tiny hand-made ratings, and real releases from the mirror."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from matinee.data.ratings import Ratings
from matinee.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The genuine MovieLens mirror (MATINEE_DATA_MIRROR, else ../shared/data)."""
    path = Path(os.environ.get("MATINEE_DATA_MIRROR", DEFAULT_MIRROR)).resolve()
    if not path.is_dir():
        pytest.fail(f"MovieLens mirror not found at {path}; set MATINEE_DATA_MIRROR")
    return path


@pytest.fixture(scope="session")
def settings(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings reading the mirror, with a cache private to this test session."""
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"), mirror=mirror, show_progress=False)


def low_rank_ratings(seed: int, density: float = 0.5) -> tuple[Ratings, Ratings]:
    """Rank-2 ratings with biases on 1-5 for 60 users x 30 movies: ``density`` of the cells,
    80% train and 20% test (a known answer the neural models must learn)."""
    rng = np.random.default_rng(seed)
    n_users, n_movies = 60, 30
    full = (
        3.0
        + rng.normal(0, 0.5, (n_users, 1))
        + rng.normal(0, 0.5, (1, n_movies))
        + rng.normal(0, 0.6, (n_users, 2)) @ rng.normal(0, 0.6, (2, n_movies))
    )
    users, movies = np.nonzero(rng.random(full.shape) < density)
    ratings = Ratings.from_raw(
        users, movies, np.clip(full[users, movies], 1, 5), rating_scale=(1.0, 5.0)
    )
    is_test = rng.random(len(ratings)) < 0.2
    return ratings.take(~is_test), ratings.take(is_test)


@pytest.fixture(scope="session")
def low_rank() -> Callable[..., tuple[Ratings, Ratings]]:
    """:func:`low_rank_ratings`, for test modules (which cannot import this file)."""
    return low_rank_ratings


@pytest.fixture
def tiny() -> Ratings:
    """Five users, four movies, twelve ratings on the 1-5 scale; small enough to solve by hand."""
    users = [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
    movies = [10, 20, 30, 10, 40, 20, 30, 40, 10, 30, 20, 40]
    ratings = [5, 3, 4, 4, 2, 2, 5, 1, 5, 4, 3, 2]
    return Ratings.from_raw(users, movies, ratings, np.arange(12) * 100, rating_scale=(1.0, 5.0))
