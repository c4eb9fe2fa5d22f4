"""Compiled loops of the dense id mapping: numpy's fancy indexing costs about 10 ns an id here."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["gather", "mark"]


@numba.njit(nogil=True, cache=True)
def mark(ids: np.ndarray, present: np.ndarray) -> None:
    """Set ``present[id]`` for every id."""
    for i in range(ids.size):
        present[ids[i]] = True


@numba.njit(nogil=True, cache=True)
def gather(table: np.ndarray, ids: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = table[ids[i]]``; ``out`` may be ``ids`` itself."""
    for i in range(ids.size):
        out[i] = table[ids[i]]
