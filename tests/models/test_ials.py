from __future__ import annotations

import itertools

import numpy as np
import pytest

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig

BLOCK_USERS, BLOCK_MOVIES = 30, 12


def _blocks(rng: np.random.Generator) -> tuple[Ratings, np.ndarray]:
    """Two groups of users, each rating most of its own group of movies and nothing else."""
    users, movies = [], []
    held_out = np.zeros((2 * BLOCK_USERS, 2 * BLOCK_MOVIES), dtype=bool)
    for user in range(2 * BLOCK_USERS):
        block = user // BLOCK_USERS
        own = np.arange(BLOCK_MOVIES) + block * BLOCK_MOVIES
        hidden = rng.choice(own, size=3, replace=False)
        held_out[user, hidden] = True
        for movie in np.setdiff1d(own, hidden):
            users.append(user)
            movies.append(movie)
    ratings = Ratings.from_raw(users, movies, np.full(len(users), 4.0))
    return ratings, held_out


def _config(**overrides: object) -> ImplicitALSConfig:
    values: dict[str, object] = {"n_factors": 2, "epochs": 8, "reg": 1.0, "alpha": 5.0}
    values.update(overrides)
    return ImplicitALSConfig(**values)  # type: ignore[arg-type]


def test_recovers_block_structure(rng: np.random.Generator) -> None:
    data, held_out = _blocks(rng)
    model = ImplicitALS(_config()).fit(data)
    scores = model.score_users(np.arange(data.n_users))
    rated = data.dense() > 0
    for user in range(data.n_users):
        unrated = np.flatnonzero(~rated[user])
        best = unrated[np.argsort(-scores[user, unrated])[:3]]
        assert held_out[user, best].all(), f"user {user} got {best}"


def test_loss_goes_down(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    history = ImplicitALS(_config()).fit(data).history_
    losses = [record["loss"] for record in history]
    assert len(losses) == 8
    assert losses[-1] < losses[0]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses[2:]))


def test_new_user_folds_into_their_block(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    model = ImplicitALS(_config()).fit(data)
    scores = model.score_new_user([BLOCK_MOVIES, BLOCK_MOVIES + 1, BLOCK_MOVIES + 2], [5, 4, 5])
    assert set(np.argsort(-scores)[:BLOCK_MOVIES]) == set(range(BLOCK_MOVIES, 2 * BLOCK_MOVIES))


def test_exact_fold_in_agrees_with_the_trained_user(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    model = ImplicitALS(_config(cg_steps=10, epochs=15)).fit(data)
    rows = data.user_idx == 5
    vector = model.user_vector(data.movie_idx[rows], data.rating[rows])
    assert model.user_factors_ is not None
    trained = model.user_factors_[5]
    cosine = vector @ trained / (np.linalg.norm(vector) * np.linalg.norm(trained))
    assert cosine > 0.999
    np.testing.assert_allclose(vector, trained, rtol=0.05)


def test_threshold_ignores_disliked_movies(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    model = ImplicitALS(_config(positive_threshold=3.5)).fit(data)
    liked = model.user_vector(np.array([0, 1], dtype=np.int32), np.array([5.0, 4.0], np.float32))
    with_disliked = model.user_vector(
        np.array([0, 1, 20], dtype=np.int32), np.array([5.0, 4.0, 1.0], dtype=np.float32)
    )
    np.testing.assert_allclose(liked, with_disliked)


def test_seed_makes_fits_repeatable(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    first = ImplicitALS(_config(seed=3)).fit(data).movie_vectors()
    second = ImplicitALS(_config(seed=3)).fit(data).movie_vectors()
    np.testing.assert_allclose(first, second, atol=1e-5)  # type: ignore[arg-type]


def test_parameters_round_trip(rng: np.random.Generator) -> None:
    data, _ = _blocks(rng)
    model = ImplicitALS(_config()).fit(data)
    again = ImplicitALS.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(again.score_users([0, 40]), model.score_users([0, 40]))
    assert again.movie_vectors().shape == (data.n_movies, 2)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "field, value",
    [("n_factors", 0), ("reg", 0.0), ("alpha", -1.0), ("cg_steps", 0), ("epochs", 0)],
)
def test_config_rejects_bad_values(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        ImplicitALSConfig(**{field: value})  # type: ignore[arg-type]


def test_reported_loss_is_the_full_objective(rng: np.random.Generator) -> None:
    import scipy.sparse as sp

    from matinee.models.factorization._ials_kernels import implicit_loss

    data, _ = _blocks(rng)
    config = _config(epochs=3)
    model = ImplicitALS(config).fit(data)
    assert model.user_factors_ is not None and model.movie_factors_ is not None
    matrix = sp.csr_matrix(
        (np.ones(len(data), dtype=np.float32), (data.user_idx, data.movie_idx)),
        shape=(data.n_users, data.n_movies),
    )
    direct = implicit_loss(
        matrix.indptr.astype(np.int64),
        matrix.indices,
        1.0 + config.alpha,
        model.user_factors_,
        model.movie_factors_,
        config.reg,
    )
    assert model.history_[-1]["loss"] == pytest.approx(direct, rel=1e-4)
