"""The project's one top-k routine, shared by evaluation and recommendation.

It sits below both (it needs numpy, scipy and, for short lists, the compiled kernel of
:mod:`matinee._topk_kernel`), so that neither imports the other's private helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.errors import ConfigError
from matinee.types import FloatArray, IndexArray

__all__ = [
    "KERNEL_MAX_K",
    "PAD",
    "check_k",
    "flat_top",
    "mask_disallowed",
    "select_top",
    "top_k",
    "top_k_row",
]


def check_k(k: int) -> None:
    """Raise :class:`ConfigError` unless ``k`` is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")


PAD = -1
"""Marks an empty slot in a recommendation row (fewer eligible movies than k)."""

KERNEL_MAX_K = 256
"""Longest list the compiled one-pass kernel ranks; longer lists go through ``argpartition``
(the kernel's sorted buffer costs O(k) per movie that enters it)."""


def top_k(
    scores: npt.ArrayLike, k: int, exclude: sp.csr_matrix | sp.csr_array | None = None
) -> IndexArray:
    """Indices of the ``k`` best scores of each row, best first; ``-1`` pads missing slots.

    Scores of excluded cells (for example movies a user rated in train) become ``-inf`` and are
    never returned, nor are NaN scores. Ties are broken by the lower movie index, so the result is
    deterministic. Lists up to :data:`KERNEL_MAX_K` long come from a compiled one-pass kernel
    (rows in parallel, no copy of the scores); longer ones from ``np.argpartition`` and a sort
    of the ``k`` candidates only. Both give the same rows.

    Args:
        scores: ``(n_users, n_movies)`` scores, higher is better (a 1-D row is accepted).
        k: How many movies per row; larger than ``n_movies`` is cut to ``n_movies``.
        exclude: Optional ``(n_users, n_movies)`` sparse matrix; its stored cells are excluded.
    """
    check_k(k)
    matrix = np.asarray(scores)
    if matrix.dtype not in (np.float32, np.float64):
        matrix = matrix.astype(np.float64)
    matrix = np.atleast_2d(matrix)
    if matrix.ndim != 2:
        raise ConfigError(f"scores must be 2-D (users x movies), got shape {matrix.shape}")
    mask = _exclusion_mask(exclude, matrix.shape)
    n_rows, n_movies = matrix.shape
    width = min(int(k), n_movies)
    if width == 0 or n_rows == 0:
        return np.full((n_rows, width), PAD, dtype=np.int32)
    if width <= KERNEL_MAX_K:
        return _kernel_top_k(matrix, width, mask)
    return _partition_top_k(matrix, width, mask)


def _exclusion_mask(
    exclude: sp.csr_matrix | sp.csr_array | None, shape: tuple[int, ...]
) -> sp.csr_matrix | None:
    """The excluded cells as CSR with sorted indices, checked against the scores' shape."""
    if exclude is None:
        return None
    mask = sp.csr_matrix(exclude)
    if mask.shape != shape:
        raise ConfigError(f"exclude has shape {mask.shape}, scores have {shape}")
    return mask if mask.has_sorted_indices else mask.sorted_indices()


def _kernel_top_k(matrix: npt.NDArray[Any], width: int, mask: sp.csr_matrix | None) -> IndexArray:
    """Top ``width`` of each row by the compiled one-pass kernel (rows in parallel)."""
    from matinee._topk_kernel import top_k_rows

    n_rows = matrix.shape[0]
    if mask is None:
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        indices = np.zeros(0, dtype=np.int32)
    else:
        indptr, indices = mask.indptr.astype(np.int64), mask.indices.astype(np.int32)
    out = np.empty((n_rows, width), dtype=np.int32)
    top_k_rows(np.ascontiguousarray(matrix), width, indptr, indices, out)
    return out


def _partition_top_k(
    matrix: npt.NDArray[Any], width: int, mask: sp.csr_matrix | None
) -> IndexArray:
    """Top ``width`` of each row by ``argpartition``, then a sort of the candidates only."""
    matrix = np.array(matrix, dtype=np.float64)
    n_rows, n_movies = matrix.shape
    matrix[np.isnan(matrix)] = -np.inf
    if mask is not None:
        rows = np.repeat(np.arange(n_rows), np.diff(mask.indptr))
        matrix[rows, mask.indices] = -np.inf
    if width < n_movies:
        candidates = np.argpartition(-matrix, width - 1, axis=1)[:, :width]
        _settle_boundary_ties(matrix, candidates)
    else:
        candidates = np.broadcast_to(np.arange(n_movies), (n_rows, n_movies))
    candidate_scores = np.take_along_axis(matrix, candidates, axis=1)
    order = np.lexsort((candidates, -candidate_scores), axis=1)
    best = np.take_along_axis(candidates, order, axis=1).astype(np.int32)
    best[np.take_along_axis(candidate_scores, order, axis=1) == -np.inf] = PAD
    return best


def top_k_row(scores: npt.ArrayLike, k: int) -> npt.NDArray[np.int64]:
    """The ``k`` best indices of one score row, best first, as :func:`top_k` orders them.

    The same answer as ``top_k(scores, k)[0]`` without its ``-1`` padding (ties to the lower
    index; ``-inf`` and NaN never returned), for one request's row: lists up to
    :data:`KERNEL_MAX_K` long come from the compiled kernel run in the calling thread (no
    OpenMP region, the GIL released), longer ones from one partition and a sort of the movies
    scoring at least the k-th best.

    Raises:
        ConfigError: ``k`` below 1 or ``scores`` not 1-D.
    """
    check_k(k)
    row = np.asarray(scores)
    if row.ndim != 1:
        raise ConfigError(f"top_k_row takes one 1-D row of scores, got shape {row.shape}")
    width = min(int(k), row.size)
    if width == 0:
        return np.empty(0, dtype=np.int64)
    if width <= KERNEL_MAX_K:
        return _kernel_top_k_row(row, width)
    valid = row > -np.inf
    values = row if valid.all() else np.where(valid, row, -np.inf)
    kth = -np.inf
    if width < row.size:
        kth = values[np.argpartition(-values, width - 1)[:width]].min()
    candidates = np.flatnonzero(values >= kth if kth > -np.inf else valid)
    order = np.lexsort((candidates, -values[candidates]))[:width]
    return candidates[order].astype(np.int64)


def _kernel_top_k_row(row: npt.NDArray[Any], width: int) -> npt.NDArray[np.int64]:
    from matinee._topk_kernel import top_k_one_row

    if row.dtype not in (np.float32, np.float64):
        row = row.astype(np.float64)
    out = np.empty(width, dtype=np.int32)
    top_k_one_row(np.ascontiguousarray(row), width, out)
    best: npt.NDArray[np.int64] = out[out != PAD].astype(np.int64)
    return best


def _settle_boundary_ties(matrix: FloatArray, candidates: npt.NDArray[np.intp]) -> None:
    """Redo, by a full stable sort, rows where argpartition cut through a tie at the k-th score.

    ``argpartition`` keeps an arbitrary subset of movies tied with the k-th best score; for the
    lower-index-first promise those (rare) rows are re-ranked exactly, in place.
    """
    width = candidates.shape[1]
    kth = np.take_along_axis(matrix, candidates, axis=1).min(axis=1)
    tied_total = np.count_nonzero(matrix == kth[:, None], axis=1)
    tied_kept = np.count_nonzero(np.take_along_axis(matrix, candidates, axis=1) == kth[:, None], 1)
    rows = np.flatnonzero((tied_total != tied_kept) & (kth > -np.inf))
    if rows.size:
        index = np.broadcast_to(np.arange(matrix.shape[1]), (rows.size, matrix.shape[1]))
        candidates[rows] = np.lexsort((index, -matrix[rows]), axis=1)[:, :width]


def select_top(
    scores: npt.NDArray[np.floating[Any]],
    k: int,
    exclude: sp.csr_matrix | None,
    allowed: npt.NDArray[np.bool_] | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Flat (row, movie index, score) of each row's top ``k``; excluded movies never appear.

    Filtered-out movies get ``-inf``, which :func:`top_k` never returns, like excluded ones.
    """
    scores = mask_disallowed(scores, allowed)
    return flat_top(scores, top_k(scores, min(k, scores.shape[1]), exclude))


def mask_disallowed(
    scores: npt.NDArray[np.floating[Any]], allowed: npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.floating[Any]]:
    """``scores`` with ``-inf`` (in a float32 copy) for the movies ``allowed`` leaves out."""
    if allowed is None:
        return scores
    masked = np.array(scores, dtype=np.float32)
    masked[:, ~allowed] = -np.inf
    return masked


def flat_top(
    scores: npt.NDArray[np.floating[Any]], top: npt.NDArray[np.integer[Any]]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float32]]:
    """Flat (row, movie index, score) of ``top`` rows of movie indices (``-1`` pads dropped)."""
    chosen = np.asarray(top, dtype=np.int64)
    valid = chosen >= 0
    chosen_scores = np.take_along_axis(scores, np.maximum(chosen, 0), axis=1)[valid]
    rows = np.nonzero(valid)[0]
    return rows.astype(np.int64), chosen[valid].astype(np.int32), chosen_scores.astype(np.float32)
