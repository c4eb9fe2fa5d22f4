"""Rating-prediction metrics: RMSE, MAE and MAPE as pure numpy functions.

Each function takes the observed ratings and the predictions, aligned, and returns one float.
Shapes are checked up front so a misaligned pair fails loudly instead of broadcasting.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matinee.errors import ConfigError, DataError
from matinee.types import FloatArray

__all__ = ["mae", "mape", "rmse"]


def _aligned(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Both arrays as 1-D float64, after checking they are non-empty, aligned and finite."""
    truth = np.asarray(y_true, dtype=np.float64)
    predicted = np.asarray(y_pred, dtype=np.float64)
    if truth.ndim != 1 or predicted.ndim != 1:
        raise ConfigError(
            f"ratings and predictions must be 1-D, got shapes {truth.shape} and {predicted.shape}"
        )
    if truth.shape != predicted.shape:
        raise ConfigError(
            f"got {truth.size} ratings but {predicted.size} predictions; they must be aligned"
        )
    if truth.size == 0:
        raise DataError("cannot compute a rating metric over zero ratings")
    if not (np.all(np.isfinite(truth)) and np.all(np.isfinite(predicted))):
        raise DataError("ratings or predictions contain NaN or infinite values")
    return truth, predicted


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Root mean squared error: ``sqrt(mean((y - yhat)^2))``."""
    truth, predicted = _aligned(y_true, y_pred)
    return float(np.sqrt(np.mean((truth - predicted) ** 2)))


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute error: ``mean(|y - yhat|)``."""
    truth, predicted = _aligned(y_true, y_pred)
    return float(np.mean(np.abs(truth - predicted)))


def mape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Mean absolute percentage error as a fraction: ``mean(|y - yhat| / y)``.

    MovieLens ratings are at least 0.5, so the division is safe; a rating that is zero or
    negative is refused rather than silently giving an infinite error.
    """
    truth, predicted = _aligned(y_true, y_pred)
    if np.any(truth <= 0):
        bad = truth[truth <= 0][:5].tolist()
        raise DataError(f"MAPE needs positive ratings, got {bad}")
    return float(np.mean(np.abs(truth - predicted) / truth))
