"""Compiled alternating-least-squares half steps for biased MF and NMF.

One half step solves, for every row (user or movie) in parallel, the ridge problem of its bias
and factors given the other side's fixed factors and biases. The bias is folded in as an extra
constant column. For biased MF the regularization is weighted by the row's rating count (Zhou
et al., 2008), which matches the per-rating L2 penalty of the SGD solver, so both solvers share
one ``reg``; NMF's half step holds the factors non-negative by projected coordinate descent.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)
from matinee.types import IndexArray

__all__ = [
    "als_half_step",
    "non_negative_fold_in",
    "non_negative_half_step",
    "solve_non_negative",
    "solve_spd",
]

NON_NEGATIVE_SWEEPS = 100
"""Most coordinate-descent sweeps of one non-negative ridge solve."""

NON_NEGATIVE_TOLERANCE = 1e-6
"""A non-negative solve stops once no coordinate moved by more than this in a sweep."""


@numba.njit(cache=True)
def solve_spd(matrix: npt.NDArray[np.float64], rhs: npt.NDArray[np.float64]) -> None:
    """Solve ``matrix @ x = rhs`` for a symmetric positive definite matrix, in place.

    ``matrix`` is overwritten by its Cholesky factor and ``rhs`` by the solution.
    """
    size = rhs.size
    for j in range(size):
        diagonal = matrix[j, j]
        for k in range(j):
            diagonal -= matrix[j, k] * matrix[j, k]
        diagonal = np.sqrt(max(diagonal, 1e-12))
        matrix[j, j] = diagonal
        for i in range(j + 1, size):
            value = matrix[i, j]
            for k in range(j):
                value -= matrix[i, k] * matrix[j, k]
            matrix[i, j] = value / diagonal
    for i in range(size):
        value = rhs[i]
        for k in range(i):
            value -= matrix[i, k] * rhs[k]
        rhs[i] = value / matrix[i, i]
    for i in range(size - 1, -1, -1):
        value = rhs[i]
        for k in range(i + 1, size):
            value -= matrix[k, i] * rhs[k]
        rhs[i] = value / matrix[i, i]


@numba.njit(cache=True)
def solve_non_negative(
    matrix: npt.NDArray[np.float64],
    rhs: npt.NDArray[np.float64],
    solution: npt.NDArray[np.float64],
    free: int,
) -> None:
    """Minimise ``x' A x / 2 - b' x`` with ``x[free:] >= 0`` by projected coordinate descent.

    ``A`` is symmetric positive definite (a ridge system), so each coordinate step is exact and
    the sweeps converge to the constrained optimum; ``solution`` holds the warm start on entry
    and the result on exit. The first ``free`` coordinates (a bias) may take any sign.
    """
    size = rhs.size
    for _ in range(NON_NEGATIVE_SWEEPS):
        largest = 0.0
        for a in range(size):
            if matrix[a, a] <= 0.0:
                continue  # an unpenalised coordinate no rating touches: it stays as it is
            residual = rhs[a]
            for c in range(size):
                residual -= matrix[a, c] * solution[c]
            value = solution[a] + residual / matrix[a, a]
            if a >= free and value < 0.0:
                value = 0.0
            largest = max(largest, abs(value - solution[a]))
            solution[a] = value
        if largest < NON_NEGATIVE_TOLERANCE:
            return


@numba.njit(cache=True)
def _row_system(
    columns: IndexArray,
    ratings: npt.NDArray[np.float32],
    fixed: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], float],
    extra: int,
    penalties: tuple[float, float],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The ridge normal equations of one row's ``(bias, factors)`` over its ratings.

    ``columns`` and ``ratings`` are the row's cells; ``fixed`` is the other side's factors and
    biases and the mean. With ``extra`` 1 the first unknown is the row's bias (a constant
    column, the targets less the mean and the other side's bias); with 0 there is no bias.
    ``penalties`` (bias, factors) are added to the diagonal as given.
    """
    fixed_factors, fixed_bias, mean = fixed
    bias_penalty, factor_penalty = penalties
    n_factors = fixed_factors.shape[1]
    size = n_factors + extra
    gram = np.zeros((size, size), dtype=np.float64)
    rhs = np.zeros(size, dtype=np.float64)
    features = np.empty(size, dtype=np.float64)
    for k in range(columns.size):
        j = columns[k]
        target = np.float64(ratings[k])
        if extra:
            features[0] = 1.0
            target -= mean + fixed_bias[j]
        for f in range(n_factors):
            features[extra + f] = fixed_factors[j, f]
        for a in range(size):
            rhs[a] += features[a] * target
            for b in range(a + 1):
                gram[a, b] += features[a] * features[b]
    for a in range(size):
        for b in range(a):
            gram[b, a] = gram[a, b]
        gram[a, a] += bias_penalty if a < extra else factor_penalty
    return gram, rhs


@numba.njit(cache=True, parallel=True)
def als_half_step(
    indptr: npt.NDArray[np.int64],
    columns: IndexArray,
    ratings: npt.NDArray[np.float32],
    fixed_factors: npt.NDArray[np.float32],
    fixed_bias: npt.NDArray[np.float32],
    mean: float,
    own_factors: npt.NDArray[np.float32],
    own_bias: npt.NDArray[np.float32],
    reg_factors: float,
    reg_bias: float,
    use_bias: bool,
) -> None:
    """Ridge-solve every row's ``(bias, factors)`` given the other side (CSR rows), in place.

    Without biases the model is ``r = p_u . q_i`` and only the factors are solved. The
    penalties are ``reg`` times the row's rating count.
    """
    n_factors = own_factors.shape[1]
    extra = 1 if use_bias else 0
    for row in numba.prange(own_factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        if stop == start:
            continue
        count = stop - start
        gram, rhs = _row_system(
            columns[start:stop],
            ratings[start:stop],
            (fixed_factors, fixed_bias, mean),
            extra,
            (reg_bias * count, reg_factors * count),
        )
        solve_spd(gram, rhs)
        if use_bias:
            own_bias[row] = rhs[0]
        for f in range(n_factors):
            own_factors[row, f] = rhs[extra + f]


@numba.njit(cache=True, parallel=True)
def non_negative_half_step(
    indptr: npt.NDArray[np.int64],
    columns: IndexArray,
    ratings: npt.NDArray[np.float32],
    fixed_factors: npt.NDArray[np.float32],
    fixed_bias: npt.NDArray[np.float32],
    mean: float,
    own_factors: npt.NDArray[np.float32],
    own_bias: npt.NDArray[np.float32],
    reg_factors: float,
    reg_bias: float,
    use_bias: bool,
) -> None:
    """Solve every row's ``(bias, factors)`` with the factors held ``>= 0``, in place.

    Each row's ridge problem (penalties ``reg_factors`` and ``reg_bias`` as given, not scaled
    by the count, as the bias baseline's) is solved by :func:`solve_non_negative`, warm-started
    from the row's current values; the bias keeps its sign.
    """
    n_factors = own_factors.shape[1]
    extra = 1 if use_bias else 0
    for row in numba.prange(own_factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        if stop == start:
            continue
        gram, rhs = _row_system(
            columns[start:stop],
            ratings[start:stop],
            (fixed_factors, fixed_bias, mean),
            extra,
            (reg_bias, reg_factors),
        )
        solution = np.empty(rhs.size, dtype=np.float64)
        if use_bias:
            solution[0] = own_bias[row]
        for f in range(n_factors):
            solution[extra + f] = own_factors[row, f]
        solve_non_negative(gram, rhs, solution, extra)
        if use_bias:
            own_bias[row] = solution[0]
        for f in range(n_factors):
            own_factors[row, f] = solution[extra + f]


def non_negative_fold_in(
    features: npt.NDArray[np.floating],
    targets: npt.NDArray[np.floating],
    penalties: npt.NDArray[np.float64],
    free: int,
) -> npt.NDArray[np.float64]:
    """``min ||features x - targets||^2 + sum penalties x^2`` with ``x[free:] >= 0``."""
    design = np.asarray(features, dtype=np.float64)
    gram = design.T @ design + np.diag(penalties)
    rhs = design.T @ np.asarray(targets, dtype=np.float64)
    solution = np.zeros(rhs.size, dtype=np.float64)
    solve_non_negative(gram, rhs, solution, free)
    return solution
