"""The project's one top-k routine, shared by evaluation and recommendation.

It sits below both (it needs only numpy and scipy), so that neither imports the other's
private helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.errors import ConfigError
from matinee.types import FloatArray, IndexArray

__all__ = ["PAD", "check_k", "select_top", "top_k", "top_k_row"]


def check_k(k: int) -> None:
    """Raise :class:`ConfigError` unless ``k`` is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")


PAD = -1
"""Marks an empty slot in a recommendation row (fewer eligible movies than k)."""


def top_k(
    scores: npt.ArrayLike, k: int, exclude: sp.csr_matrix | sp.csr_array | None = None
) -> IndexArray:
    """Indices of the ``k`` best scores of each row, best first; ``-1`` pads missing slots.

    Scores of excluded cells (for example movies a user rated in train) become ``-inf`` and are
    never returned, nor are NaN scores. Ties are broken by the lower movie index, so the result is
    deterministic. Uses ``np.argpartition`` then sorts only the ``k`` candidates.

    Args:
        scores: ``(n_users, n_movies)`` scores, higher is better (a 1-D row is accepted).
        k: How many movies per row; larger than ``n_movies`` is cut to ``n_movies``.
        exclude: Optional ``(n_users, n_movies)`` sparse matrix; its stored cells are excluded.
    """
    check_k(k)
    matrix = np.array(scores, dtype=np.float64, ndmin=2)
    if matrix.ndim != 2:
        raise ConfigError(f"scores must be 2-D (users x movies), got shape {matrix.shape}")
    n_rows, n_movies = matrix.shape
    matrix[np.isnan(matrix)] = -np.inf
    if exclude is not None:
        mask = sp.csr_matrix(exclude)
        if mask.shape != matrix.shape:
            raise ConfigError(f"exclude has shape {mask.shape}, scores have {matrix.shape}")
        rows = np.repeat(np.arange(n_rows), np.diff(mask.indptr))
        matrix[rows, mask.indices] = -np.inf
    width = min(int(k), n_movies)
    if width == 0 or n_rows == 0:
        return np.full((n_rows, width), PAD, dtype=np.int32)
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
    index; ``-inf`` and NaN never returned), for one request's row: one partition, then a sort
    of the movies scoring at least the k-th best, with no 2-D copies of the row.

    Raises:
        ConfigError: ``k`` below 1 or ``scores`` not 1-D.
    """
    check_k(k)
    row = np.asarray(scores)
    if row.ndim != 1:
        raise ConfigError(f"top_k_row takes one 1-D row of scores, got shape {row.shape}")
    valid = row > -np.inf
    values = row if valid.all() else np.where(valid, row, -np.inf)
    width = min(int(k), row.size)
    if width == 0:
        return np.empty(0, dtype=np.int64)
    kth = -np.inf
    if width < row.size:
        kth = values[np.argpartition(-values, width - 1)[:width]].min()
    candidates = np.flatnonzero(values >= kth if kth > -np.inf else valid)
    order = np.lexsort((candidates, -values[candidates]))[:width]
    return candidates[order].astype(np.int64)


def _settle_boundary_ties(matrix: FloatArray, candidates: npt.NDArray[np.intp]) -> None:
    """Redo, by a full stable sort, rows where argpartition cut through a tie at the k-th score.

    ``argpartition`` keeps an arbitrary subset of movies tied with the k-th best score; for the
    lower-index-first promise those (rare) rows are re-ranked exactly, in place.
    """
    width = candidates.shape[1]
    kth = np.take_along_axis(matrix, candidates, axis=1).min(axis=1)
    tied_total = np.count_nonzero(matrix == kth[:, None], axis=1)
    tied_kept = np.count_nonzero(np.take_along_axis(matrix, candidates, axis=1) == kth[:, None], 1)
    rows = np.flatnonzero((tied_total != tied_kept) & np.isfinite(kth))
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
    if allowed is not None:
        scores = np.array(scores, dtype=np.float32)
        scores[:, ~allowed] = -np.inf
    chosen = np.asarray(top_k(scores, min(k, scores.shape[1]), exclude), dtype=np.int64)
    valid = chosen >= 0
    chosen_scores = np.take_along_axis(scores, np.maximum(chosen, 0), axis=1)[valid]
    rows = np.nonzero(valid)[0]
    return rows.astype(np.int64), chosen[valid].astype(np.int32), chosen_scores.astype(np.float32)
