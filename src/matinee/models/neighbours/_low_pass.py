"""GF-CF's ideal low-pass filter, added to an item-item weight matrix (Shen et al., CIKM 2021).

With ``X`` the users x movies 0/1 matrix, ``D_u`` and ``D_i`` its user and movie counts, and
``V_k`` the top ``k`` right singular vectors of the normalised ``R = D_u^-1/2 X D_i^-1/2``, the
filter is the movies x movies matrix ``F = D_i^-1/2 V_k V_k^T D_i^1/2``: a person's scores
``x_u F`` keep only the smoothest (most shared) taste directions of the co-rating graph. EASE's
weights fit every pair of movies; the filter adds the broad tastes that a few dozen directions
carry, which the EASE penalty shrinks. The sum ``B + c s F`` (``s`` the ratio of the mean
absolute entries of ``B`` and ``F``, so that ``c`` does not depend on EASE's penalty) is still
one item-item matrix, so scoring, new users and saved models are unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from matinee.errors import ModelFitError

__all__ = ["add_low_pass", "low_pass_factors"]

_ROW_BLOCK = 2048
"""Rows of the filter built at once (one ``block x n_movies`` slab in memory)."""


def _inverse_sqrt(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``counts ** -1/2``, 0 where a count is 0 (an empty row or column stays empty)."""
    result = np.zeros_like(counts)
    np.divide(1.0, np.sqrt(counts), out=result, where=counts > 0)
    return result


def low_pass_factors(
    user_items: sp.csr_matrix, n_factors: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The two thin factors ``(D_i^-1/2 V_k, V_k^T D_i^1/2)`` whose product is the filter.

    ``k`` is at most one less than the matrix's smaller side (what ARPACK can compute); the
    start vector comes from ``seed``, so that fits repeat exactly.
    """
    matrix = sp.csr_matrix(user_items, dtype=np.float64)
    user_counts = np.diff(matrix.indptr).astype(np.float64)
    movie_counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
    movie_scale = _inverse_sqrt(movie_counts)
    normalised = sp.diags(_inverse_sqrt(user_counts)) @ matrix @ sp.diags(movie_scale)
    rank = min(n_factors, min(matrix.shape) - 1)
    start = np.random.default_rng([seed, 21]).random(min(matrix.shape))
    _, _, right = svds(normalised, k=rank, v0=start)
    if not np.all(np.isfinite(right)):
        raise ModelFitError("EASE low-pass filter: the singular vectors are not finite")
    return right.T * movie_scale[:, np.newaxis], right * np.sqrt(movie_counts)[np.newaxis, :]


def add_low_pass(
    weights: npt.NDArray[np.floating[Any]],
    user_items: sp.csr_matrix,
    *,
    n_factors: int,
    strength: float,
    seed: int,
) -> None:
    """Add ``strength * s * F`` (zero diagonal) to ``weights`` in place, block by block.

    ``s = mean|weights| / mean|F|`` over the off-diagonal entries, so ``strength`` is the
    filter's share of the weights' scale. Nothing is added when ``n_factors`` leaves no factor
    (a matrix with one user or one movie).
    """
    n_movies = weights.shape[0]
    if n_factors < 1 or min(user_items.shape) < 2:
        return
    left, right = low_pass_factors(user_items, n_factors, seed)
    filter_total = 0.0
    weights_total = 0.0
    for start, stop in _blocks(n_movies):
        block = _filter_block(left, right, start, stop)
        filter_total += float(np.abs(block).sum())
        weights_total += float(np.abs(weights[start:stop], dtype=np.float64).sum())
    if filter_total == 0.0:
        return
    factor = strength * weights_total / filter_total
    for start, stop in _blocks(n_movies):
        block = _filter_block(left, right, start, stop)
        weights[start:stop] += (factor * block).astype(weights.dtype)


def _blocks(n_rows: int) -> list[tuple[int, int]]:
    return [(start, min(start + _ROW_BLOCK, n_rows)) for start in range(0, n_rows, _ROW_BLOCK)]


def _filter_block(
    left: npt.NDArray[np.float64], right: npt.NDArray[np.float64], start: int, stop: int
) -> npt.NDArray[np.float64]:
    """Rows ``start:stop`` of the filter ``left @ right``, their diagonal entries set to 0."""
    block: npt.NDArray[np.float64] = left[start:stop] @ right
    block[np.arange(stop - start), np.arange(start, stop)] = 0.0
    return block
