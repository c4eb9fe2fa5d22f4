"""The test kit: tiny data builders and the contract suite's small model settings.

Importable (like ``lenskit.testing``), so that test modules, benchmarks and other projects share
one copy instead of pasting helpers. Pytest fixtures over these live in
:mod:`matinee.testing.fixtures`, the only module here that needs pytest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from matinee.data.ratings import Ratings

__all__ = ["CONTRACT_SETTINGS", "contract_settings", "low_rank_ratings", "tiny_ratings"]

CONTRACT_SETTINGS: dict[str, Mapping[str, object]] = {
    "autorec": {"hidden": (32,), "epochs": 15, "batch_size": 8, "learning_rate": 0.01},
    "embedding-net": {
        "n_factors": 8,
        "hidden": (16,),
        "hidden_dropout": 0.1,
        "epochs": 15,
        "batch_size": 16,
        "learning_rate": 0.01,
    },
    "movie-autoencoder": {"masked_loss": True, "reg": 0.001, "epochs": 15, "batch_size": 4},
    "blend": {
        "parts": ("baseline", "biased-mf", "svdpp"),
        "part_settings": ("biased-mf.epochs=15", "svdpp.epochs=15"),
    },
}
"""Registry name -> config fields that make a model small and fast for the contract suite (the
neural models; the movie autoencoder's loss is masked because the test data are sparse; the
blend without its neural part, which tests/models/test_blend.py covers)."""


def contract_settings(name: str) -> Mapping[str, object]:
    """The contract suite's settings for the model registered as ``name`` (empty: defaults)."""
    return CONTRACT_SETTINGS.get(name, {})


def tiny_ratings() -> Ratings:
    """Five users, four movies, twelve ratings on the 1-5 scale; small enough to solve by hand."""
    users = [1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5]
    movies = [10, 20, 30, 10, 40, 20, 30, 40, 10, 30, 20, 40]
    ratings = [5, 3, 4, 4, 2, 2, 5, 1, 5, 4, 3, 2]
    return Ratings.from_raw(users, movies, ratings, np.arange(12) * 100, rating_scale=(1.0, 5.0))


def low_rank_ratings(seed: int, density: float = 0.5) -> tuple[Ratings, Ratings]:
    """Rank-2 ratings with biases on 1-5 for 60 users x 30 movies, cut 80/20 into train and test.

    ``density`` of the cells are rated; the low rank is a known answer the models must learn.
    """
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
