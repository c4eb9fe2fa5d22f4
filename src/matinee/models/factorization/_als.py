"""Compiled alternating-least-squares half steps for biased matrix factorization.

One half step solves, for every row (user or movie) in parallel, the ridge problem of its bias
and factors given the other side's fixed factors and biases. The bias is folded in as an extra
constant column. Regularization is weighted by the row's rating count (Zhou et al., 2008), which
matches the per-rating L2 penalty of the SGD solver, so both solvers share one ``reg``.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)
from matinee.types import IndexArray

__all__ = ["als_half_step", "nmf_half_step", "solve_spd"]


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

    Without biases the model is ``r = p_u . q_i`` and only the factors are solved.
    """
    n_factors = own_factors.shape[1]
    extra = 1 if use_bias else 0
    size = n_factors + extra
    for row in numba.prange(own_factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        count = stop - start
        if count == 0:
            continue
        gram = np.zeros((size, size), dtype=np.float64)
        rhs = np.zeros(size, dtype=np.float64)
        features = np.empty(size, dtype=np.float64)
        for k in range(start, stop):
            j = columns[k]
            target = np.float64(ratings[k])
            if use_bias:
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
            gram[a, a] += (reg_bias if a < extra else reg_factors) * count
        solve_spd(gram, rhs)
        if use_bias:
            own_bias[row] = rhs[0]
        for f in range(n_factors):
            own_factors[row, f] = rhs[extra + f]


@numba.njit(cache=True, parallel=True)
def nmf_half_step(
    indptr: npt.NDArray[np.int64],
    columns: IndexArray,
    ratings: npt.NDArray[np.float32],
    fixed_factors: npt.NDArray[np.float32],
    own_factors: npt.NDArray[np.float32],
    reg: float,
) -> None:
    """One multiplicative update of every row's non-negative factors, on observed cells only.

    ``p_f <- p_f * sum_j q_jf r_j / (sum_j q_jf rhat_j + reg * n * p_f)`` over the row's rated
    columns ``j`` (Lee and Seung's rule with a mask and an L2 penalty, as in Surprise's NMF).
    """
    n_factors = own_factors.shape[1]
    for row in numba.prange(own_factors.shape[0]):
        start, stop = indptr[row], indptr[row + 1]
        if stop == start:
            continue
        numerator = np.zeros(n_factors, dtype=np.float64)
        denominator = np.zeros(n_factors, dtype=np.float64)
        for k in range(start, stop):
            j = columns[k]
            estimate = 0.0
            for f in range(n_factors):
                estimate += own_factors[row, f] * fixed_factors[j, f]
            for f in range(n_factors):
                numerator[f] += fixed_factors[j, f] * ratings[k]
                denominator[f] += fixed_factors[j, f] * estimate
        penalty = reg * (stop - start)
        for f in range(n_factors):
            value = own_factors[row, f]
            scale = denominator[f] + penalty * value
            own_factors[row, f] = value * numerator[f] / scale if scale > 1e-12 else 0.0
