"""Growing numpy columns that parsed ratings are written into, in file order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from matinee.types import RatingArray, TimeArray

__all__ = ["DTYPES", "FIELDS", "MIN_ROW_BYTES", "RatingsColumns", "RawRatings"]

MIN_ROW_BYTES = 16
"""Fewest bytes a CSV ratings row takes (``1,1,1.0,100000000``); sizes the reserved columns, whose
untouched pages cost no memory."""

FIELDS = ("user", "movie", "rating", "timestamp")
DTYPES = (np.int32, np.int32, np.float32, np.int64)


@dataclass(frozen=True)
class RawRatings:
    """Ratings as read, before id mapping: raw ids, ratings and times, in file order."""

    user_id: np.ndarray
    movie_id: np.ndarray
    rating: RatingArray
    timestamp: TimeArray


class RatingsColumns:
    """Growing numpy columns; pages reserved but never written cost no memory."""

    def __init__(self) -> None:
        self.n = 0
        self.arrays: list[np.ndarray] = [np.empty(0, dtype=dtype) for dtype in DTYPES]

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` in all (copying only when an estimate was too small)."""
        if rows <= self.arrays[0].size:
            return
        grown = []
        for array in self.arrays:
            bigger = np.empty(rows, dtype=array.dtype)
            bigger[: self.n] = array[: self.n]
            grown.append(bigger)
        self.arrays = grown

    def make_room(self, rows: int) -> None:
        """Make room for ``rows`` more, growing by a quarter at least when full."""
        if self.n + rows > self.arrays[0].size:
            self.reserve(max(self.n + rows, int(self.arrays[0].size * 1.25)))

    def append(self, batch: pa.RecordBatch) -> None:
        """Copy a parsed batch in, straight from its Arrow buffers."""
        rows = batch.num_rows
        self.make_room(rows)
        for column, array in zip(batch.columns, self.arrays, strict=True):
            array[self.n : self.n + rows] = np.frombuffer(
                column.buffers()[1], array.dtype, rows, column.offset * array.itemsize
            )
        self.n += rows

    def result(self) -> RawRatings:
        user, movie, rating, timestamp = (array[: self.n] for array in self.arrays)
        return RawRatings(user, movie, rating.view(np.float32), timestamp.view(np.int64))
