"""Batched fold-in of new users (``predict_new_users``): the same answers as one at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from matinee.data.splits import hidden_ratings
from matinee.data.synthetic import generate_ratings
from matinee.errors import ConfigError, DataError, UnknownIdError
from matinee.evaluation.evaluate import evaluate
from matinee.models.base import Recommender
from matinee.models.factorization import mf
from matinee.models.factorization._scoring import fold_in_rows
from matinee.models.factorization.mf import (
    BiasedMF,
    BiasedMFConfig,
    DotProductMF,
    DotProductMFConfig,
)

FACTOR_MODELS = [
    BiasedMF(BiasedMFConfig(n_factors=8, epochs=3)),
    BiasedMF(BiasedMFConfig(n_factors=6, epochs=2, solver="als")),
    DotProductMF(DotProductMFConfig(n_factors=5, epochs=3)),
]


@pytest.fixture(scope="module")
def split() -> Any:
    return hidden_ratings(generate_ratings(30_000, seed=1), test_users=0.2, hidden_fraction=0.3)


@pytest.fixture(scope="module", params=range(len(FACTOR_MODELS)), ids=["sgd", "als", "dot"])
def model(request: pytest.FixtureRequest, split: Any) -> Recommender[Any]:
    return FACTOR_MODELS[request.param].fit(split.train)


def test_one_solve_for_all_rows_equals_each_persons_ridge_within_1e_9(
    model: Any, split: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = split.fold_in.user_movie_matrix()
    people = np.unique(split.fold_in.user_idx)
    solved: list[np.ndarray] = []
    ridge = mf.ridge_fold_in

    def recording(*args: Any) -> np.ndarray:
        solved.append(ridge(*args))
        return solved[-1]

    monkeypatch.setattr(mf, "ridge_fold_in", recording)
    for person in people:
        model._fold_in(rows[person].indices, rows[person].data)
    bias, vectors = fold_in_rows(
        rows[people], model._biased(), model.config.reg, model.config.bias_penalty(),
        model._uses_bias,
    )  # fmt: skip
    expected = np.array(solved)
    batched = np.column_stack([bias, vectors]) if model._uses_bias else vectors
    assert expected.shape == batched.shape
    np.testing.assert_allclose(batched, expected, rtol=0, atol=1e-9)


def test_held_out_predictions_equal_the_per_user_loop(model: Any, split: Any) -> None:
    test, rows = split.test, split.fold_in.user_movie_matrix()
    people = np.unique(test.user_idx)
    batch = model.predict_new_users(rows[people], np.searchsorted(people, test.user_idx),
                                    test.movie_idx)  # fmt: skip
    low, high = model.rating_scale_
    loop = np.empty(len(test), dtype=np.float32)
    for user in people:
        mine = test.user_idx == user
        scores = model.score_new_user(rows[user].indices, rows[user].data)
        loop[mine] = np.clip(scores[test.movie_idx[mine]], low, high)
    np.testing.assert_allclose(batch, loop, rtol=0, atol=2e-6)
    rmse = float(np.sqrt(np.mean((loop - test.rating) ** 2)))
    assert evaluate(model, split, metrics=["rmse"]).metrics["rmse"] == pytest.approx(rmse, abs=1e-6)


def test_bad_pairs_and_rows_raise_clear_errors(model: Any) -> None:
    rows = sp.csr_matrix((np.array([4.0, 3.0]), ([0, 1], [2, 5])), shape=(2, model.n_movies))
    with pytest.raises(ConfigError, match="as many people as movies"):
        model.predict_new_users(rows, [0, 1], [3])
    with pytest.raises(UnknownIdError):
        model.predict_new_users(rows, [2], [3])
    with pytest.raises(UnknownIdError):
        model.predict_new_users(rows, [0], [model.n_movies])
    empty = sp.csr_matrix((1, model.n_movies), dtype=np.float32)
    with pytest.raises(DataError, match="at least one"):
        model.predict_new_users(empty, [0], [3])
    assert model.predict_new_users(rows, [], []).shape == (0,)
