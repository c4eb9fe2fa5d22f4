"""Array aliases that make signatures say what an array holds."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "IndexArray", "RatingArray", "ScoreArray", "TimeArray"]

IndexArray = npt.NDArray[np.int32]
"""Contiguous user or movie indices (0 .. n-1)."""

RatingArray = npt.NDArray[np.float32]
"""Ratings on the release's scale (for example 0.5-5 or 1-5)."""

ScoreArray = npt.NDArray[np.float32]
"""Scores for ranking: higher is better; not necessarily on the rating scale."""

TimeArray = npt.NDArray[np.int64]
"""Unix timestamps in seconds."""

FloatArray = npt.NDArray[np.float64]
"""General float64 arrays (factors in computation, metrics)."""
