"""MaskedNMF and MatrixNMF: non-negativity, fits, calibration, scikit-learn agreement, fold-in."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import NMF

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.models._calibration import without_calibration
from matinee.models.factorization._sgd import factor_dot
from matinee.models.factorization.nmf import MaskedNMF, MaskedNMFConfig, MatrixNMF, MatrixNMFConfig


def _non_negative_low_rank(seed: int) -> tuple[Ratings, Ratings]:
    """A rank-3 non-negative matrix on the 1-5 scale, 70% observed for training."""
    rng = np.random.default_rng(seed)
    full = rng.uniform(0.4, 1.0, (50, 3)) @ rng.uniform(0.4, 1.0, (3, 30)) + 1.0
    return _observed_part(np.clip(full, 1, 5), (1.0, 5.0), 0.7, rng)


def _observed_part(
    full: np.ndarray, scale: tuple[float, float], share: float, rng: np.random.Generator
) -> tuple[Ratings, Ratings]:
    """A random ``share`` of the cells of ``full`` for training, the rest held out."""
    user_idx, movie_idx = (a.ravel().astype(np.int32) for a in np.indices(full.shape))
    everything = Ratings(
        user_idx,
        movie_idx,
        full.ravel(),
        np.zeros(full.size, dtype=np.int64),
        IdMap(np.arange(full.shape[0]), kind="user"),
        IdMap(np.arange(full.shape[1]), kind="movie"),
        scale,
    )
    observed = rng.random(full.size) < share
    return everything.take(observed), everything.take(~observed)


def _rmse(model: MaskedNMF | MatrixNMF, data: Ratings) -> float:
    predicted = model.predict(data.user_idx, data.movie_idx)
    return float(np.sqrt(np.mean((predicted - data.rating) ** 2)))


def test_masked_nmf_factors_are_non_negative_and_fit_observed_cells() -> None:
    train, held_out = _non_negative_low_rank(0)
    config = MaskedNMFConfig(n_factors=3, epochs=300, reg_users=0.0, reg_movies=0.0)
    model = MaskedNMF(config).fit(train)
    params = model.parameters()
    assert params["user_factors"].min() >= 0 and params["movie_factors"].min() >= 0
    assert _rmse(model, train) < 0.1
    assert _rmse(model, held_out) < 0.2
    assert model.history_[-1]["loss"] < model.history_[0]["loss"]


def test_masked_nmf_fold_in_is_non_negative_and_close_to_the_trained_user() -> None:
    train, _ = _non_negative_low_rank(1)
    model = MaskedNMF(MaskedNMFConfig(n_factors=3, epochs=300, reg_users=0.01)).fit(train)
    rows = train.user_idx == 4
    folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
    assert folded.min() >= 0
    assert np.max(np.abs(folded - model.score_users([4])[0])) < 0.2


def test_masked_nmf_same_seed_same_model(tiny: Ratings) -> None:
    first = MaskedNMF(MaskedNMFConfig(n_factors=2, epochs=5)).fit(tiny).parameters()
    again = MaskedNMF(MaskedNMFConfig(n_factors=2, epochs=5)).fit(tiny).parameters()
    assert np.array_equal(first["user_factors"], again["user_factors"])


def _offset_ratings(seed: int) -> tuple[Ratings, Ratings]:
    """Per-user and per-movie offsets (0.5-2.5 each) plus a small rank-1 term, 60% observed."""
    rng = np.random.default_rng(seed)
    users, movies = rng.uniform(0.5, 2.5, 60), rng.uniform(0.5, 2.5, 40)
    full = users[:, None] + movies[None, :] + 0.3 * np.outer(rng.random(60), rng.random(40))
    return _observed_part(full, (0.5, 5.5), 0.6, rng)


def test_masked_nmf_signed_biases_fit_what_factors_alone_cannot() -> None:
    train, held_out = _offset_ratings(0)
    config = MaskedNMFConfig(n_factors=1, epochs=200, reg_users=0.0, reg_movies=0.0, reg_bias=0.0)
    biased = MaskedNMF(config).fit(train)
    plain = MaskedNMF(MaskedNMFConfig(**{**config.to_dict(), "biased": False})).fit(train)
    params = biased.parameters()
    assert params["user_factors"].min() >= 0 and params["movie_factors"].min() >= 0
    assert min(params["user_bias"].min(), params["movie_bias"].min()) < 0  # signed, not offsets
    assert params["bias_mean"][0] == pytest.approx(float(np.mean(train.rating)))
    assert _rmse(biased, held_out) < 0.1 < _rmse(plain, held_out)
    rows = train.user_idx == 3
    folded = biased.score_new_user(train.movie_idx[rows], train.rating[rows])
    assert np.max(np.abs(folded - biased.score_users([3])[0])) < 0.2


def test_masked_nmf_fold_in_keeps_factors_non_negative_and_bias_signed() -> None:
    train, _ = _offset_ratings(2)
    model = MaskedNMF(MaskedNMFConfig(n_factors=2, epochs=30, reg_bias=0.0)).fit(train)
    movies = np.arange(train.n_movies, dtype=np.int32)
    low = np.full(movies.size, 0.5)
    scores = model.score_new_user(movies, low)
    assert np.mean(scores) < float(np.mean(train.rating)) - 1.0


def test_masked_nmf_saved_without_offsets_loads_with_zero_ones() -> None:
    train, _ = _offset_ratings(1)
    model = MaskedNMF(MaskedNMFConfig(n_factors=2, epochs=20)).fit(train)
    params = model.parameters()
    older = {
        key: value
        for key, value in params.items()
        if not key.endswith("_bias") and key != "bias_mean"
    }
    loaded = MaskedNMF.from_parameters(model.config, older)
    factors = params["user_factors"][:2] @ params["movie_factors"].T
    assert np.allclose(loaded.score_users([0, 1]), factors, atol=1e-5)
    again = MaskedNMF.from_parameters(model.config, params)
    assert np.array_equal(again.score_users([0, 1]), model.score_users([0, 1]))


def test_masked_nmf_saved_with_non_negative_offsets_answers_as_it_did() -> None:
    train, _ = _offset_ratings(1)
    params = MaskedNMF(MaskedNMFConfig(n_factors=2, epochs=20)).fit(train).parameters()
    offsets = {
        "user_bias": np.abs(params["user_bias"]) + 1.0,
        "movie_bias": np.abs(params["movie_bias"]),
    }
    older = {**{k: v for k, v in params.items() if k != "bias_mean"}, **offsets}
    loaded = MaskedNMF.from_parameters(MaskedNMFConfig(n_factors=2), older)
    expected = (
        offsets["user_bias"][:2, None]
        + offsets["movie_bias"][None, :]
        + params["user_factors"][:2] @ params["movie_factors"].T
    )
    assert np.allclose(loaded.score_users([0, 1]), expected, atol=1e-5)


def test_matrix_nmf_agrees_with_scikit_learn(tiny: Ratings) -> None:
    config = MatrixNMFConfig(n_factors=2, reg=0.01, l1_ratio=0.5, max_iter=500, seed=3)
    model = MatrixNMF(config).fit(tiny)
    reference = NMF(
        n_components=2, alpha_W=0.01, l1_ratio=0.5, max_iter=500, init="random", random_state=3
    )
    rows = reference.fit_transform(tiny.dense())
    assert model.reconstruction_err_ == pytest.approx(reference.reconstruction_err_, rel=1e-4)
    expected = rows @ reference.components_
    assert np.allclose(model.rank_users(np.arange(tiny.n_users)), expected, atol=1e-4)


@pytest.mark.parametrize("orientation", ["user-movie", "movie-user"])
def test_matrix_nmf_orientations_and_round_trip(tiny: Ratings, orientation: str) -> None:
    config = MatrixNMFConfig(n_factors=2, orientation=orientation, max_iter=400)
    model = MatrixNMF(config).fit(tiny)
    assert model.movie_vectors() is not None
    assert model.movie_vectors().shape == (tiny.n_movies, 2)  # type: ignore[union-attr]
    loaded = MatrixNMF.from_parameters(config, model.parameters())
    assert loaded.reconstruction_err_ == model.reconstruction_err_
    assert np.array_equal(loaded.score_users([0, 1]), model.score_users([0, 1]))


def test_matrix_nmf_fold_in_reproduces_a_training_row(tiny: Ratings) -> None:
    model = MatrixNMF(MatrixNMFConfig(n_factors=3, max_iter=1000, tol=1e-8)).fit(tiny)
    rows = tiny.user_idx == 0
    folded = model.rank_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    assert np.allclose(folded, model.rank_users([0])[0], atol=0.05)
    rated = model.score_new_user(tiny.movie_idx[rows], tiny.rating[rows])
    assert np.allclose(rated, model.score_users([0])[0], atol=0.5)


def test_matrix_nmf_rates_near_the_ratings_not_the_zero_fill() -> None:
    train, held_out = _non_negative_low_rank(3)
    model = MatrixNMF(MatrixNMFConfig(n_factors=3, max_iter=500)).fit(train)
    raw = factor_dot(
        held_out.user_idx, held_out.movie_idx, model.user_factors_, model.movie_factors_
    )
    raw_error = float(np.sqrt(np.mean((raw - held_out.rating) ** 2)))
    assert _rmse(model, held_out) < 0.5 < raw_error
    params = model.parameters()
    assert params["calibration"].shape == (4,)
    scores = model.score_users([0, 1])
    pairs = model.predict(np.repeat([0, 1], train.n_movies), np.tile(np.arange(train.n_movies), 2))
    assert np.allclose(np.clip(scores, 1, 5).ravel(), pairs, atol=1e-5)


def test_matrix_nmf_saved_before_the_calibration_predicts_its_reconstruction(
    tiny: Ratings,
) -> None:
    model = MatrixNMF(MatrixNMFConfig(n_factors=2, max_iter=400)).fit(tiny)
    older = without_calibration(model.parameters())
    loaded = MatrixNMF.from_parameters(model.config, older)
    assert np.allclose(loaded.score_users([0, 1]), model.rank_users([0, 1]), atol=1e-6)


def test_bad_configs_are_rejected() -> None:
    with pytest.raises(ConfigError, match="l1_ratio"):
        MatrixNMFConfig(l1_ratio=2.0)
    with pytest.raises(ConfigError, match="init"):
        MatrixNMFConfig(init="zeros")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="init_high"):
        MaskedNMFConfig(init_high=0.0)
