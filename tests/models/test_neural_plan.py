"""What the neural models say before their long part, and the blocks that bound their memory."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
import torch

from matinee.data.ratings import Ratings
from matinee.models.neural import _autoencoder, _plan, movie_autoencoder
from matinee.models.neural._autorec_net import AutoRecNet
from matinee.models.neural.autorec import AutoRec, AutoRecConfig
from matinee.models.neural.embedding_net import EmbeddingNet, EmbeddingNetConfig
from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig


def _ratings(seed: int = 3) -> Ratings:
    rng = np.random.default_rng(seed)
    users, movies = np.nonzero(rng.random((60, 30)) < 0.5)
    values = rng.integers(1, 6, size=users.size).astype(np.float64)
    return Ratings.from_raw(users, movies, values, rating_scale=(1.0, 5.0))


def _said(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{name}: ")]


def test_step_plan_states_memory_first_then_the_measured_epoch_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    plan = _plan.StepPlan(
        "net", parameters=1_000_000, optimizer="adam", steps_per_epoch=500, epochs=3, advice="Go."
    )
    assert _said(caplog, "net") == [
        "net: 1,000,000 weights; with gradients and adam state 0.02 GB, allocated now; "
        "500 steps an epoch, at most 3 epochs"
    ]
    for _ in range(_plan.PLAN_STEPS):
        plan.step()
    assert len(_said(caplog, "net")) == 1
    for _ in range(3 * _plan.PLAN_STEPS):
        plan.step()
    estimate = _said(caplog, "net")[1:]
    assert len(estimate) == 1
    assert "an epoch of 500 steps" in estimate[0] and estimate[0].endswith("Go.")


def test_dense_parameters_count_weights_and_biases() -> None:
    assert _plan.dense_parameters((10, 4, 10)) == 10 * 4 + 4 + 4 * 10 + 10
    net = AutoRecNet(
        n_inputs=10, hidden=(4,), hidden_activation="sigmoid",
        output_activation="identity", dropout=0.0,
    )  # fmt: skip
    assert _plan.dense_parameters((10, 4, 10)) == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize(
    "model",
    [
        AutoRec(AutoRecConfig(hidden=(6,), epochs=1, batch_size=1)),
        MovieAutoencoder(MovieAutoencoderConfig(n_factors=4, epochs=1, batch_size=1)),
        EmbeddingNet(EmbeddingNetConfig(n_factors=4, epochs=1, batch_size=16)),
    ],
    ids=lambda model: model.name,
)
def test_each_neural_model_logs_its_plan_and_what_to_do(
    model: AutoRec | MovieAutoencoder | EmbeddingNet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    model.fit(_ratings())
    said = [line for line in _said(caplog, model.name) if "weights" in line]
    assert "allocated now" in said[0]
    assert "--set batch_size=N" in said[-1] and "--set epochs=N" in said[-1]
    assert "--device cuda" in said[-1]


def test_decode_pairs_in_blocks_matches_one_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    net = AutoRecNet(
        n_inputs=12, hidden=(5,), hidden_activation="sigmoid",
        output_activation="identity", dropout=0.0,
    )  # fmt: skip
    codes = torch.randn(7, 5)
    rng = np.random.default_rng(1)
    rows, columns = rng.integers(0, 7, size=40), rng.integers(0, 12, size=40)
    with torch.no_grad():
        whole = net.decode_at(codes, torch.from_numpy(rows), torch.from_numpy(columns)).numpy()
    monkeypatch.setattr(_autoencoder, "DECODE_PAIRS", 3)
    blocks = _autoencoder.decode_pairs(net, codes, rows, columns, torch.device("cpu"))
    np.testing.assert_allclose(blocks, whole, rtol=0, atol=0)


def test_movie_autoencoder_validation_in_blocks_matches_one_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = MovieAutoencoderConfig(n_factors=4, epochs=3, batch_size=4, patience=None)
    config = dataclasses.replace(config, validation_fraction=0.3)
    data = _ratings()
    whole = MovieAutoencoder(config).fit(data).history_
    monkeypatch.setattr(movie_autoencoder, "VALIDATION_CELLS", 1)
    rows = MovieAutoencoder(config).fit(data).history_
    np.testing.assert_allclose(
        [r["val_loss"] for r in rows], [r["val_loss"] for r in whole], rtol=1e-6
    )
