"""MovieAutoencoder: movie vectors, held-out validation, masked loss, fold-in, persistence."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.errors import ConfigError, ModelFormatError
from matinee.evaluation.rating_metrics import rmse
from matinee.models._calibration import without_calibration
from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig

SMALL = MovieAutoencoderConfig(n_factors=8, epochs=15, batch_size=4, reg=0.001)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    """These small fits run fastest on one thread (a second one mostly waits at barriers)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _two_tastes(seed: int = 4) -> Ratings:
    """Half the users love movies 0-19 and hate 20-39, the other half the reverse; 60% rated."""
    rng = np.random.default_rng(seed)
    users, movies = np.nonzero(rng.random((50, 40)) < 0.6)
    loves = (users % 2 == 0) == (movies < 20)
    values = np.where(loves, 5.0, 1.0)
    return Ratings.from_raw(users, movies, values, rating_scale=(1.0, 5.0))


@pytest.fixture(scope="module")
def data() -> Ratings:
    return _two_tastes()


@pytest.fixture(scope="module")
def model(data: Ratings) -> MovieAutoencoder:
    return MovieAutoencoder(dataclasses.replace(SMALL, masked_loss=True)).fit(data)


def test_movie_vectors_separate_the_two_blocks(model: MovieAutoencoder) -> None:
    vectors = model.movie_vectors()
    assert vectors.shape == (40, 8) and vectors.min() >= 0.0 and vectors.max() <= 1.0
    similarity = np.corrcoef(vectors)
    same = (similarity[:20, :20].mean() + similarity[20:, 20:].mean()) / 2
    assert same > similarity[:20, 20:].mean() + 0.5


def test_masked_loss_predicts_the_ratings(model: MovieAutoencoder, data: Ratings) -> None:
    error = rmse(data.rating, model.predict(data.user_idx, data.movie_idx))
    assert error < 0.5 * rmse(data.rating, np.full(len(data), data.mean()))


def test_zero_filled_loss_pulls_the_reconstruction_to_zero_not_the_ratings(
    data: Ratings, model: MovieAutoencoder
) -> None:
    zero_filled = MovieAutoencoder(SMALL).fit(data)
    users = np.arange(data.n_users)
    masked = model.score_users(users)
    # The zero-filled mean is 0.6 * 3 = 1.8; the masked model stays near the mean rating, 3.
    assert zero_filled.rank_users(users).mean() < data.dense().mean() + 0.3
    assert abs(masked.mean() - data.mean()) < 0.3
    # Ratings are calibrated from the reconstruction: they sit at the rating level too.
    assert abs(zero_filled.score_users(users).mean() - data.mean()) < 0.3
    older = without_calibration(zero_filled.parameters())
    loaded = MovieAutoencoder.from_parameters(zero_filled.config, older)
    np.testing.assert_allclose(loaded.score_users(users), zero_filled.rank_users(users), atol=1e-5)


def test_movies_are_held_out_to_stop_early(data: Ratings) -> None:
    config = dataclasses.replace(SMALL, epochs=200, patience=2, validation_fraction=0.2)
    model = MovieAutoencoder(config).fit(data)
    assert all("val_loss" in record for record in model.history_)
    assert len(model.history_) < 200
    unvalidated = MovieAutoencoder(dataclasses.replace(SMALL, patience=None, validation_fraction=0))
    assert "val_loss" not in unvalidated.fit(data).history_[0]
    with pytest.raises(ConfigError, match="validation"):
        MovieAutoencoder(dataclasses.replace(SMALL, validation_fraction=0.0)).fit(data)


def test_fold_in_of_a_taste_ranks_that_block_first(model: MovieAutoencoder) -> None:
    scores = model.score_new_user([0, 1, 2, 25, 26], [5.0, 5.0, 4.0, 1.0, 1.0])
    assert scores.shape == (40,)
    assert scores[3:20].min() > scores[27:].max()


def test_same_seed_same_model_and_round_trip(data: Ratings, model: MovieAutoencoder) -> None:
    again = MovieAutoencoder(model.config).fit(data)
    for key, value in model.parameters().items():
        np.testing.assert_array_equal(again.parameters()[key], value)
    rebuilt = MovieAutoencoder.from_parameters(model.config, model.parameters())
    np.testing.assert_array_equal(rebuilt.movie_vectors(), model.movie_vectors())
    np.testing.assert_array_equal(rebuilt.score_users([0, 3]), model.score_users([0, 3]))
    params = {**model.parameters(), "input_indptr": np.zeros(3, dtype=np.int64)}
    with pytest.raises(ModelFormatError, match="rows"):
        MovieAutoencoder.from_parameters(model.config, params)


@pytest.mark.parametrize(
    "values", [{"n_factors": 0}, {"validation_fraction": 1.0}, {"learning_rate": 0.0}]
)
def test_bad_config_is_rejected(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        MovieAutoencoderConfig(**values)  # type: ignore[arg-type]


@pytest.mark.slow
def test_masked_autoencoder_learns_ml100k_u1(canonical_split: Split) -> None:
    split = canonical_split
    config = MovieAutoencoderConfig(masked_loss=True, reg=1e-4, epochs=10, patience=None)
    model = MovieAutoencoder(config).fit(split.train)
    error = rmse(split.test.rating, model.predict(split.test.user_idx, split.test.movie_idx))
    mean_error = rmse(split.test.rating, np.full(len(split.test), split.train.mean()))
    assert error < mean_error - 0.05, f"RMSE {error:.3f} vs global mean {mean_error:.3f}"
    assert model.movie_vectors().shape == (split.train.n_movies, 50)
