"""ridge_fold_in: the dual (rows x rows) solve gives the primal solution, whichever is used."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from matinee.models._rating_common import ridge_fold_in


def _primal(
    features: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    penalties: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """``(F^T F + P)^-1 F^T t``, the textbook normal equations."""
    gram = features.T @ features + np.diag(penalties)
    solution: npt.NDArray[np.float64] = np.linalg.solve(gram, features.T @ targets)
    return solution


def _stacked(
    features: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    penalties: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The same minimiser by least squares on ``[F; sqrt(P)] x = [t; 0]``: no normal equations."""
    stacked = np.vstack([features, np.diag(np.sqrt(penalties))])
    padded = np.concatenate([targets, np.zeros(penalties.size)])
    solution: npt.NDArray[np.float64] = np.linalg.lstsq(stacked, padded, rcond=None)[0]
    return solution


def _problem(
    seed: int, rows: int, columns: int, reg: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A biased-MF-like fold-in: an intercept column, factor columns, half-star targets."""
    rng = np.random.default_rng(seed)
    features = np.hstack([np.ones((rows, 1)), rng.normal(0, 0.3, (rows, columns - 1))])
    targets = rng.integers(1, 11, rows) / 2 - 3.5
    penalties = np.full(columns, reg * rows)
    penalties[0] = 0.02 * rows
    return features, targets, penalties


@pytest.mark.parametrize("rows", [1, 3, 10, 40, 64, 65, 200])
@pytest.mark.parametrize("seed", range(5))
def test_fold_in_matches_the_primal_solve_to_rounding(rows: int, seed: int) -> None:
    """Fewer rows than the 65 columns takes the dual form; every shape gives the primal answer."""
    features, targets, penalties = _problem(seed, rows, 65, 0.08)
    solved = ridge_fold_in(features, targets, penalties)
    primal = _primal(features, targets, penalties)
    assert solved.shape == (65,)
    scale = np.max(np.abs(primal))
    assert np.max(np.abs(solved - primal)) <= 1e-7 * scale
    assert np.max(np.abs(solved - _stacked(features, targets, penalties))) <= 1e-7 * scale


def test_a_zero_penalty_falls_back_to_the_primal_form() -> None:
    """The dual needs every penalty positive; with one at zero the answer is still the minimiser."""
    features, targets, penalties = _problem(7, 5, 65, 0.08)
    penalties[0] = 0.0
    solved = ridge_fold_in(features, targets, penalties)
    np.testing.assert_allclose(solved, _primal(features, targets, penalties), rtol=1e-9, atol=1e-12)


def test_the_dual_solution_is_the_minimiser() -> None:
    """At the solution the objective's gradient ``2 (F^T (F x - t) + P x)`` vanishes."""
    features, targets, penalties = _problem(3, 10, 65, 0.08)
    solved = ridge_fold_in(features, targets, penalties)
    gradient = features.T @ (features @ solved - targets) + penalties * solved
    assert np.max(np.abs(gradient)) < 1e-12
