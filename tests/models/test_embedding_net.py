"""EmbeddingNet: learning, squashing, determinism, fold-in, persistence, ml-100k learning."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import torch

from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.errors import ConfigError, ModelFitError, ModelFormatError
from matinee.evaluation.rating_metrics import rmse
from matinee.models.neural.embedding_net import EmbeddingNet, EmbeddingNetConfig

SMALL = EmbeddingNetConfig(
    n_factors=8, hidden=(16,), hidden_dropout=0.1, epochs=15, batch_size=16, learning_rate=0.01
)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """These small fits run fastest on one thread (a second one mostly waits at barriers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def data(low_rank: Callable[[int], tuple[Ratings, Ratings]]) -> tuple[Ratings, Ratings]:
    return low_rank(2)


@pytest.fixture(scope="module")
def model(data: tuple[Ratings, Ratings]) -> EmbeddingNet:
    return EmbeddingNet(SMALL).fit(data[0])


def test_learns_the_low_rank_ratings(model: EmbeddingNet, data: tuple[Ratings, Ratings]) -> None:
    train, test = data
    error = rmse(test.rating, model.predict(test.user_idx, test.movie_idx))
    assert error < 0.8 * rmse(test.rating, np.full(len(test), train.mean()))


def test_squash_keeps_raw_scores_near_the_rating_range(data: tuple[Ratings, Ratings]) -> None:
    model = EmbeddingNet(dataclasses.replace(SMALL, squash=True)).fit(data[0])
    scores = model.score_users(np.arange(model.n_users))
    assert scores.min() > 0.5 and scores.max() < 5.5
    error = rmse(data[1].rating, model.predict(data[1].user_idx, data[1].movie_idx))
    assert error < 0.8 * rmse(data[1].rating, np.full(len(data[1]), data[0].mean()))


def test_score_users_equals_predict(model: EmbeddingNet) -> None:
    users = np.repeat(np.arange(4), model.n_movies)
    movies = np.tile(np.arange(model.n_movies), 4)
    expected = model.predict(users, movies).reshape(4, -1)
    np.testing.assert_allclose(np.clip(model.score_users(np.arange(4)), 1, 5), expected, atol=1e-5)


def test_same_seed_same_weights_other_seed_other_weights(data: tuple[Ratings, Ratings]) -> None:
    config = dataclasses.replace(SMALL, epochs=2, seed=3)
    first, second = EmbeddingNet(config).fit(data[0]), EmbeddingNet(config).fit(data[0])
    other = EmbeddingNet(dataclasses.replace(config, seed=4)).fit(data[0])
    for key, value in first.parameters().items():
        np.testing.assert_array_equal(second.parameters()[key], value)
    np.testing.assert_raises(
        AssertionError,
        np.testing.assert_array_equal,
        other.movie_vectors(),
        first.movie_vectors(),
    )


def test_parameters_round_trip_to_identical_predictions(model: EmbeddingNet) -> None:
    rebuilt = EmbeddingNet.from_parameters(model.config, model.parameters())
    users = np.arange(model.n_users)
    np.testing.assert_array_equal(rebuilt.score_users(users), model.score_users(users))
    np.testing.assert_array_equal(
        rebuilt.score_new_user([0, 4], [5.0, 2.0]), model.score_new_user([0, 4], [5.0, 2.0])
    )
    params = model.parameters()
    params["net.user_embedding.weight"] = params["net.user_embedding.weight"][:, :3]
    with pytest.raises(ModelFormatError, match="shape"):
        EmbeddingNet.from_parameters(model.config, params)


def test_fold_in_follows_the_copied_user(
    model: EmbeddingNet, data: tuple[Ratings, Ratings]
) -> None:
    train = data[0]
    correlations = []
    for user in range(0, train.n_users, 3):
        rows = train.user_idx == user
        folded = model.score_new_user(train.movie_idx[rows], train.rating[rows])
        assert folded.shape == (model.n_movies,)
        correlations.append(np.corrcoef(folded, model.score_users([user])[0])[0, 1])
    assert np.mean(correlations) > 0.6
    # The network is left as it was.
    assert all(parameter.requires_grad for parameter in model._fitted_net().parameters())


def test_movie_vectors_are_the_embeddings(model: EmbeddingNet) -> None:
    vectors = model.movie_vectors()
    assert vectors.shape == (model.n_movies, 8)
    np.testing.assert_array_equal(vectors, model.parameters()["net.movie_embedding.weight"])


def test_divergence_raises(data: tuple[Ratings, Ratings]) -> None:
    with pytest.raises(ModelFitError, match="diverged"):
        EmbeddingNet(dataclasses.replace(SMALL, learning_rate=1e6)).fit(data[0])


@pytest.mark.parametrize(
    "values",
    [{"n_factors": 0}, {"hidden": ()}, {"hidden_dropout": 1.0}, {"reg": -1.0}],
)
def test_bad_config_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        EmbeddingNetConfig(**values)  # type: ignore[arg-type]


@pytest.mark.slow
def test_learns_ml100k_u1(canonical_split: Split) -> None:
    split = canonical_split
    config = EmbeddingNetConfig(epochs=1, batch_size=256, learning_rate=3e-3)
    model = EmbeddingNet(config).fit(split.train)
    error = rmse(split.test.rating, model.predict(split.test.user_idx, split.test.movie_idx))
    mean_error = rmse(split.test.rating, np.full(len(split.test), split.train.mean()))
    assert error < mean_error - 0.1, f"RMSE {error:.3f} vs global mean {mean_error:.3f}"
