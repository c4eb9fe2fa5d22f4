"""The neural models on CUDA: agreement with the CPU, GPU-saved models on the CPU, determinism.

Every test here needs a CUDA device and is skipped without one (CI has none); run them on a GPU
machine with ``python -m pytest tests/models/test_cuda.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from matinee.data.ratings import Ratings
from matinee.data.synthetic import generate_ratings
from matinee.models.base import Recommender
from matinee.models.neural.autorec import AutoRec, AutoRecConfig
from matinee.models.neural.embedding_net import EmbeddingNet, EmbeddingNetConfig
from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig
from matinee.store.files import load_model, save_model
from matinee.training.loop import FitOptions

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device (torch.cuda.is_available() is False)"
)

AUTOREC = AutoRecConfig(hidden=(16,), epochs=4, batch_size=8, learning_rate=0.01, reg=1e-4)
EMBEDDING_NET = EmbeddingNetConfig(
    n_factors=8,
    hidden=(16,),
    embedding_dropout=0.0,
    hidden_dropout=0.0,
    epochs=4,
    batch_size=16,
    learning_rate=0.01,
)
MOVIE_AUTOENCODER = MovieAutoencoderConfig(
    n_factors=8, epochs=4, batch_size=4, reg=0.001, masked_loss=True
)

MODELS: dict[str, Callable[[], Recommender[Any]]] = {
    "autorec-item-dense": lambda: AutoRec(dataclasses.replace(AUTOREC, output_loss="dense")),
    "autorec-item-sparse": lambda: AutoRec(dataclasses.replace(AUTOREC, output_loss="sparse")),
    "autorec-user": lambda: AutoRec(dataclasses.replace(AUTOREC, kind="user")),
    "embedding-net": lambda: EmbeddingNet(EMBEDDING_NET),
    "movie-autoencoder-masked": lambda: MovieAutoencoder(MOVIE_AUTOENCODER),
    "movie-autoencoder-zero-filled": lambda: MovieAutoencoder(
        dataclasses.replace(MOVIE_AUTOENCODER, masked_loss=False)
    ),
}
"""Small models without dropout: on either device they take the same steps, up to rounding."""

WITH_DROPOUT: dict[str, Callable[[int], Recommender[Any]]] = {
    "autorec": lambda seed: AutoRec(
        dataclasses.replace(
            AUTOREC, hidden=(24, 8, 24), dropout=0.2, output_loss="sparse", seed=seed
        )
    ),
    "embedding-net": lambda seed: EmbeddingNet(
        dataclasses.replace(EMBEDDING_NET, embedding_dropout=0.3, hidden_dropout=0.5, seed=seed)
    ),
    "movie-autoencoder": lambda seed: MovieAutoencoder(
        dataclasses.replace(MOVIE_AUTOENCODER, seed=seed)
    ),
}
"""Models whose training draws random numbers on the GPU (dropout masks) or held-out movies."""

PREDICTION_TOLERANCE = 1e-3
"""Largest difference allowed between CUDA and CPU predictions after the same training."""

FOLD_IN_TOLERANCE = 1e-3
"""Largest difference between a GPU and a CPU fold-in (L-BFGS on each device, from the same
weights)."""


@pytest.fixture(scope="module")
def data(low_rank: Callable[[int], tuple[Ratings, Ratings]]) -> tuple[Ratings, Ratings]:
    return low_rank(5)


@pytest.fixture(scope="module")
def on_cuda(data: tuple[Ratings, Ratings]) -> dict[str, Recommender[Any]]:
    """Every model of :data:`MODELS` fitted on the GPU."""
    options = FitOptions(device="cuda")
    return {name: make().fit(data[0], options=options) for name, make in MODELS.items()}


def _device_type(model: Recommender[Any]) -> str:
    """Where the model's network lives ("cuda" or "cpu")."""
    net = model._fitted_net()  # type: ignore[attr-defined]
    return str(next(net.parameters()).device.type)


def _new_user(train: Ratings, user: int) -> tuple[np.ndarray, np.ndarray]:
    """A training user's ratings, to fold in as a newcomer."""
    rows = train.user_idx == user
    return train.movie_idx[rows], train.rating[rows]


@pytest.mark.parametrize("name", MODELS)
def test_cuda_fit_agrees_with_cpu_fit(
    name: str, data: tuple[Ratings, Ratings], on_cuda: dict[str, Recommender[Any]]
) -> None:
    train, test = data
    gpu = on_cuda[name]
    cpu = MODELS[name]().fit(train, options=FitOptions(device="cpu"))
    assert _device_type(gpu) == "cuda" and _device_type(cpu) == "cpu"
    np.testing.assert_allclose(
        gpu.predict(test.user_idx, test.movie_idx),
        cpu.predict(test.user_idx, test.movie_idx),
        atol=PREDICTION_TOLERANCE,
    )
    users = np.arange(gpu.n_users)
    np.testing.assert_allclose(
        gpu.score_users(users), cpu.score_users(users), atol=PREDICTION_TOLERANCE
    )
    losses = [[record["loss"] for record in model.history_] for model in (gpu, cpu)]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-4)


@pytest.mark.parametrize("name", MODELS)
def test_gpu_saved_model_loads_on_a_cpu_only_machine(
    name: str,
    data: tuple[Ratings, Ratings],
    on_cuda: dict[str, Recommender[Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gpu = on_cuda[name]
    directory = save_model(gpu, tmp_path / name)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = load_model(directory)
    assert _device_type(loaded) == "cpu"
    for key, value in gpu.parameters().items():
        np.testing.assert_array_equal(loaded.parameters()[key], value, err_msg=key)
    test = data[1]
    np.testing.assert_allclose(
        loaded.predict(test.user_idx, test.movie_idx),
        gpu.predict(test.user_idx, test.movie_idx),
        rtol=1e-5,
        atol=1e-5,
    )
    users = np.arange(gpu.n_users)
    np.testing.assert_allclose(
        loaded.score_users(users), gpu.score_users(users), rtol=1e-5, atol=1e-5
    )
    movies, ratings = _new_user(data[0], user=7)
    np.testing.assert_allclose(
        loaded.score_new_user(movies, ratings),
        gpu.score_new_user(movies, ratings),
        atol=FOLD_IN_TOLERANCE,
    )


@pytest.mark.parametrize("name", WITH_DROPOUT)
def test_same_seed_same_weights_on_cuda(name: str, data: tuple[Ratings, Ratings]) -> None:
    options = FitOptions(device="cuda")
    first, second, other = (
        WITH_DROPOUT[name](seed).fit(data[0], options=options) for seed in (3, 3, 4)
    )
    changed = False
    for key, value in first.parameters().items():
        np.testing.assert_array_equal(second.parameters()[key], value, err_msg=key)
        changed |= not np.array_equal(other.parameters()[key], value)
    assert changed
    movies, ratings = _new_user(data[0], user=2)
    np.testing.assert_array_equal(
        first.score_new_user(movies, ratings), second.score_new_user(movies, ratings)
    )


def test_sparse_output_with_many_ratings_per_movie_is_deterministic_on_cuda() -> None:
    # About a hundred ratings per movie: each batch gathers every movie's code a hundred times,
    # the case where the embedding lookup's backward pass changed from run to run on CUDA.
    train = generate_ratings(40_000, n_users=600, n_movies=400, seed=0)
    config = AutoRecConfig(epochs=3, output_loss="sparse")
    options = FitOptions(device="cuda")
    first, second = (AutoRec(config).fit(train, options=options) for _ in range(2))
    for key, value in first.parameters().items():
        np.testing.assert_array_equal(second.parameters()[key], value, err_msg=key)


def test_fitting_on_cuda_leaves_the_callers_cuda_rng_alone(data: tuple[Ratings, Ratings]) -> None:
    before = torch.cuda.get_rng_state()
    WITH_DROPOUT["embedding-net"](0).fit(data[0], options=FitOptions(device="cuda"))
    assert torch.equal(torch.cuda.get_rng_state(), before)
