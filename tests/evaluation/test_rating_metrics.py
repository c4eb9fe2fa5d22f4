"""Rating metrics: hand-computed values, properties, and clear errors on bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matinee.errors import ConfigError, DataError
from matinee.evaluation.rating_metrics import mae, mape, rmse


def test_hand_computed_values() -> None:
    truth = [4.0, 2.0, 5.0, 1.0]
    predicted = [3.0, 2.0, 4.0, 3.0]
    assert rmse(truth, predicted) == pytest.approx(math.sqrt((1 + 0 + 1 + 4) / 4))
    assert mae(truth, predicted) == pytest.approx((1 + 0 + 1 + 2) / 4)
    assert mape(truth, predicted) == pytest.approx((1 / 4 + 0 + 1 / 5 + 2 / 1) / 4)


def test_perfect_predictions_score_zero() -> None:
    truth = np.array([0.5, 3.0, 5.0])
    assert rmse(truth, truth) == 0.0
    assert mae(truth, truth) == 0.0
    assert mape(truth, truth) == 0.0


ratings = arrays(np.float64, st.integers(1, 50), elements=st.floats(0.5, 5.0))


@given(ratings, st.floats(-3.0, 3.0))
def test_constant_shift_gives_its_size(truth: np.ndarray, shift: float) -> None:
    predicted = truth + shift
    assert rmse(truth, predicted) == pytest.approx(abs(shift), abs=1e-9)
    assert mae(truth, predicted) == pytest.approx(abs(shift), abs=1e-9)


@given(ratings, st.integers(0, 2**32 - 1))
def test_rmse_bounds_mae_and_ignores_order(truth: np.ndarray, seed: int) -> None:
    predicted = np.clip(truth[::-1] + 0.3, 0.5, 5.0)
    assert rmse(truth, predicted) >= mae(truth, predicted) - 1e-12
    order = np.random.default_rng(seed).permutation(truth.size)
    assert rmse(truth[order], predicted[order]) == pytest.approx(rmse(truth, predicted))
    assert mape(truth[order], predicted[order]) == pytest.approx(mape(truth, predicted))


@pytest.mark.parametrize("metric", [rmse, mae, mape])
def test_misaligned_empty_and_nan_inputs_are_refused(metric: object) -> None:
    assert callable(metric)
    with pytest.raises(ConfigError, match="3 ratings but 2 predictions"):
        metric([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ConfigError, match="1-D"):
        metric([[1.0]], [[1.0]])
    with pytest.raises(DataError, match="zero ratings"):
        metric([], [])
    with pytest.raises(DataError, match="NaN"):
        metric([1.0, 2.0], [1.0, float("nan")])


def test_mape_refuses_zero_ratings() -> None:
    with pytest.raises(DataError, match="positive ratings"):
        mape([0.0, 3.0], [1.0, 3.0])
