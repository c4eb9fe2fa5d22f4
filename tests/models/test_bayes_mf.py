"""BayesianMF: the exact compression of the posterior sum, averaging, and the fold-in."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.evaluation.rating_metrics import rmse
from matinee.models.factorization.bayes_mf import BayesianMF, BayesianMFConfig, compress_product


@settings(max_examples=30, deadline=None)
@given(
    rows=st.integers(2, 30),
    columns=st.integers(2, 30),
    width=st.integers(1, 12),
    rank=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_compression_is_the_truncated_svd_of_the_product(
    rows: int, columns: int, width: int, rank: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    left, right = rng.normal(size=(rows, width)), rng.normal(size=(columns, width))
    product = left @ right.T
    a, b = compress_product(left, right, rank)
    assert a.shape[1] == b.shape[1] <= rank
    values = np.linalg.svd(product, compute_uv=False)
    best_error = np.sqrt(np.sum(values[rank:] ** 2))
    error = np.linalg.norm(product - a @ b.T)
    assert error <= best_error + 1e-6 * max(1.0, values[0])


def test_the_posterior_average_beats_the_last_sample(
    low_rank: Callable[..., tuple[Ratings, Ratings]],
) -> None:
    train, test = low_rank(3)
    averaged = BayesianMF(BayesianMFConfig(epochs=60, burn_in=10, n_factors=4)).fit(train)
    last = BayesianMF(BayesianMFConfig(epochs=60, burn_in=60, n_factors=4)).fit(train)
    errors = [
        rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
        for model in (averaged, last)
    ]
    assert errors[0] < errors[1] - 0.01, errors


def test_validation_loss_is_the_running_average(
    low_rank: Callable[..., tuple[Ratings, Ratings]],
) -> None:
    train, test = low_rank(4)
    model = BayesianMF(BayesianMFConfig(epochs=30, burn_in=5, n_factors=4)).fit(train, test)
    final = rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
    best = min(record["val_loss"] for record in model.history_)
    assert final == pytest.approx(best, abs=2e-3)


def test_a_new_user_folds_in_towards_their_ratings(
    low_rank: Callable[..., tuple[Ratings, Ratings]],
) -> None:
    train, _ = low_rank(5)
    model = BayesianMF(BayesianMFConfig(epochs=30, burn_in=5, n_factors=4)).fit(train)
    movies = np.arange(10, dtype=np.int32)
    high = model.score_new_user(movies, np.full(10, 5.0, dtype=np.float32))
    low = model.score_new_user(movies, np.full(10, 1.0, dtype=np.float32))
    assert np.all(high > low)


@pytest.mark.parametrize("values", [{"burn_in": -1}, {"posterior_rank": 0}, {"reg_fold_in": 0}])
def test_bad_config_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        BayesianMFConfig(**values)  # type: ignore[arg-type]
