"""Compiled Gibbs-sampling kernels of Bayesian matrix factorization (libFM's MCMC, Rendle 2012).

One sweep draws every parameter from its conditional posterior, one coordinate at a time: for a
parameter ``t`` that enters rating ``(u, i)`` as ``t * h`` (``h = 1`` for a bias, ``q_if`` for a
user factor ``p_uf``) with residuals ``e = r - r_hat``, noise precision ``alpha`` and a normal
prior ``N(mu, 1/lam)``::

    precision = alpha * sum h^2 + lam
    mean      = (alpha * sum h (e + t h) + lam * mu) / precision
    t_new     = mean + z / sqrt(precision)      (z a standard normal drawn beforehand)

and the residuals are updated in place. The parameters of one user touch only that user's
ratings, so users are drawn in parallel; movies likewise through a movie-ordered index into the
same residuals. The standard normals come from numpy, one per parameter, so a sweep does not
depend on the number of threads.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)
from matinee.types import IndexArray

__all__ = ["gibbs_half_sweep", "group_hyperparameters", "residuals"]

Floats = npt.NDArray[np.float64]


@numba.njit(cache=True, parallel=True)
def residuals(
    users: IndexArray,
    movies: IndexArray,
    ratings: npt.NDArray[np.float32],
    mean: float,
    user_bias: Floats,
    movie_bias: Floats,
    user_factors: Floats,
    movie_factors: Floats,
) -> Floats:
    """``r - (mean + b_u + b_i + p_u . q_i)`` for every rating."""
    out = np.empty(ratings.size)
    k = user_factors.shape[1]
    for n in numba.prange(ratings.size):
        u, i = users[n], movies[n]
        dot = 0.0
        for f in range(k):
            dot += user_factors[u, f] * movie_factors[i, f]
        out[n] = ratings[n] - mean - user_bias[u] - movie_bias[i] - dot
    return out


@numba.njit(cache=True, parallel=True)
def gibbs_half_sweep(
    indptr: npt.NDArray[np.int64],
    others: IndexArray,
    rating_ids: npt.NDArray[np.int64],
    errors: Floats,
    own_bias: Floats,
    own_factors: Floats,
    other_factors: Floats,
    bias_prior: Floats,
    factor_prior: Floats,
    alpha: float,
    normals: Floats,
) -> None:
    """Draw the bias and factors of every row (user or movie) given the other side's factors.

    Args:
        indptr: CSR row pointers of this side's ratings.
        others: The other side's index of each CSR entry.
        rating_ids: Position of each CSR entry in ``errors``.
        errors: Residuals of every rating, updated in place.
        own_bias: This side's biases, redrawn in place.
        own_factors: This side's factors (``rows x k``), redrawn in place.
        other_factors: The other side's factors (fixed here).
        bias_prior: ``[mu, lam]`` of the biases' prior.
        factor_prior: ``2 x k``: each factor's prior mean (row 0) and precision (row 1).
        alpha: Precision of the rating noise.
        normals: ``rows x (k + 1)`` standard normals (column 0 for the bias).
    """
    k = own_factors.shape[1]
    for row in numba.prange(indptr.size - 1):
        start, stop = indptr[row], indptr[row + 1]
        if start == stop:
            own_bias[row] = bias_prior[0] + normals[row, 0] / np.sqrt(bias_prior[1])
            for f in range(k):
                scale = 1.0 / np.sqrt(factor_prior[1, f])
                own_factors[row, f] = factor_prior[0, f] + normals[row, f + 1] * scale
            continue
        old = own_bias[row]
        total = 0.0
        for n in range(start, stop):
            total += errors[rating_ids[n]] + old
        precision = alpha * (stop - start) + bias_prior[1]
        new = (alpha * total + bias_prior[1] * bias_prior[0]) / precision
        new += normals[row, 0] / np.sqrt(precision)
        for n in range(start, stop):
            errors[rating_ids[n]] += old - new
        own_bias[row] = new
        for f in range(k):
            old = own_factors[row, f]
            squares, weighted = 0.0, 0.0
            for n in range(start, stop):
                h = other_factors[others[n], f]
                squares += h * h
                weighted += h * (errors[rating_ids[n]] + old * h)
            precision = alpha * squares + factor_prior[1, f]
            new = (alpha * weighted + factor_prior[1, f] * factor_prior[0, f]) / precision
            new += normals[row, f + 1] / np.sqrt(precision)
            for n in range(start, stop):
                errors[rating_ids[n]] += (old - new) * other_factors[others[n], f]
            own_factors[row, f] = new


def group_hyperparameters(
    values: Floats, rng: np.random.Generator, *, shape0: float = 1.0, rate0: float = 1.0
) -> Floats:
    """Draw ``[mu, lam]`` of a group's normal prior from its normal-gamma posterior.

    ``values`` holds the group's parameters in columns (``rows x c``); one ``(mu, lam)`` is drawn
    per column, as in libFM (prior: ``lam ~ Gamma(shape0, rate0)``, ``mu | lam ~ N(0, 1/lam)``).
    Returns ``2 x c``.
    """
    n = values.shape[0]
    sums = values.sum(axis=0)
    mean = sums / (n + 1.0)
    spread = ((values - mean) ** 2).sum(axis=0) + mean**2
    lam = rng.gamma(shape0 + (n + 1) / 2.0, 1.0 / (rate0 + spread / 2.0))
    mu = mean + rng.standard_normal(values.shape[1]) / np.sqrt((n + 1.0) * lam)
    return np.vstack([mu, lam])
