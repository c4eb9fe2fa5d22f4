"""Models whose fits are long say what they will do before they start (bayes-mf, blend)."""

from __future__ import annotations

import logging

import pytest

from matinee.data.synthetic import generate_ratings
from matinee.models.blend import Blend, BlendConfig
from matinee.models.factorization.bayes_mf import BayesianMF, BayesianMFConfig, sweep_plan


def test_sweep_plan_states_the_work_and_what_to_lower() -> None:
    train = generate_ratings(25_000, seed=3)
    plan = sweep_plan(BayesianMFConfig(epochs=7, burn_in=2, n_factors=4), train)
    parameters = (train.n_users + train.n_movies) * 5
    assert plan.startswith("7 Gibbs sweeps (2 burn-in) over 25,000 ratings, 4 factors")
    assert f"draws {parameters:,} parameters" in plan
    assert "--set epochs=N" in plan and "--set n_factors=N" in plan


def test_bayes_mf_and_blend_log_their_plan_before_fitting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    train = generate_ratings(4_000, seed=1)
    with caplog.at_level(logging.INFO):
        BayesianMF(BayesianMFConfig(epochs=2, burn_in=1, n_factors=3)).fit(train)
        Blend(BlendConfig(parts=("baseline", "global-mean"))).fit(train)
    lines = [record.getMessage() for record in caplog.records]
    first = next(i for i, line in enumerate(lines) if line.startswith("bayes-mf: 2 Gibbs sweeps"))
    assert any("epoch 1" in line for line in lines[first + 1 :])
    blend = next(line for line in lines if line.startswith("blend: 4 fits"))
    assert "(baseline, global-mean)" in blend and "--set parts=" in blend
