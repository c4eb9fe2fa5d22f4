"""The compiled top-k of :func:`matinee.ranking.top_k`: one pass over each row, rows in parallel.

Each row keeps its best ``k`` (score, movie) pairs in a small sorted buffer. Movies are visited
in index order and a movie enters only when it beats the k-th best score strictly, so among tied
scores the lower index wins, as the numpy path promises. Excluded movies (a row's sorted CSR
indices) are looked up by binary search only for the few movies that would enter the buffer,
so the common case costs one comparison per cell. NaN and ``-inf`` never enter.

On 2 cores this ranks a 284 x 59,047 block (ml-25m's catalogue) in about 10 ms, where
``argpartition`` on a float64 copy took about 300 ms.
"""

from __future__ import annotations

import numba
import numpy as np

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)

__all__ = ["top_k_one_row", "top_k_rows"]


@numba.njit(nogil=True, cache=True)
def _excluded(indices: np.ndarray, start: int, stop: int, movie: int) -> bool:
    """Whether ``movie`` is in the sorted ``indices[start:stop]``."""
    low, high = start, stop
    while low < high:
        middle = (low + high) // 2
        if indices[middle] < movie:
            low = middle + 1
        else:
            high = middle
    return low < stop and indices[low] == movie


@numba.njit(nogil=True, cache=True)
def _fill_row(
    line: np.ndarray, k: int, indices: np.ndarray, start: int, stop: int, chosen: np.ndarray
) -> None:
    """One row's best ``k`` movies into ``chosen`` (``-1`` pads), skipping the excluded ones."""
    best = np.empty(k, dtype=line.dtype)
    chosen[:] = -1
    filled = 0
    floor = -np.inf
    for movie in range(line.size):
        value = line[movie]
        if not value > floor:
            continue
        if stop > start and _excluded(indices, start, stop, movie):
            continue
        slot = filled if filled < k else k - 1
        while slot > 0 and best[slot - 1] < value:
            best[slot] = best[slot - 1]
            chosen[slot] = chosen[slot - 1]
            slot -= 1
        best[slot] = value
        chosen[slot] = movie
        if filled < k:
            filled += 1
        if filled == k:
            floor = best[k - 1]


@numba.njit(parallel=True, nogil=True, cache=True)
def top_k_rows(
    scores: np.ndarray, k: int, indptr: np.ndarray, indices: np.ndarray, out: np.ndarray
) -> None:
    """Write each row's best ``k`` movie indices, best first, into ``out`` (``-1`` pads).

    Args:
        scores: ``(n_rows, n_movies)`` float32 or float64 scores, C-contiguous.
        k: Slots per row, at most ``n_movies``.
        indptr: CSR row pointers of the excluded cells (``n_rows + 1`` entries).
        indices: Their movie indices, sorted within each row.
        out: ``(n_rows, k)`` int32, filled in place.
    """
    for row in numba.prange(scores.shape[0]):
        _fill_row(scores[row], k, indices, indptr[row], indptr[row + 1], out[row])


@numba.njit(nogil=True, cache=True)
def top_k_one_row(line: np.ndarray, k: int, out: np.ndarray) -> None:
    """:func:`top_k_rows` for one 1-D row and no exclusions, in the calling thread.

    A request's list: no OpenMP region to start (the parallel kernel's cost for one row), and
    the GIL released while it runs.
    """
    _fill_row(line, k, np.empty(0, dtype=np.int32), 0, 0, out)
