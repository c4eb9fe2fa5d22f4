"""Per-person fallbacks over blocks of new users (people x movies CSR rows of ratings).

:class:`~matinee.models.base.Recommender` answers a block at once where a model can; models
that fold people in one at a time go through these loops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.types import IndexArray, RatingArray

PersonScores = Callable[[IndexArray, RatingArray], npt.NDArray[np.floating[Any]]]
"""A new person's scores of every movie from the movies they rated and their ratings."""


def pair_scores(
    rows: sp.csr_matrix, people: IndexArray, movies: IndexArray, score: PersonScores
) -> npt.NDArray[np.float32]:
    """``score``'s value of each ``(people[j], movies[j])`` pair, each person scored once."""
    predicted = np.empty(people.size, dtype=np.float32)
    order = np.argsort(people, kind="stable")
    bounds = np.searchsorted(people[order], np.arange(rows.shape[0] + 1))
    for person in np.flatnonzero(np.diff(bounds)):
        pairs = order[bounds[person] : bounds[person + 1]]
        cells = slice(rows.indptr[person], rows.indptr[person + 1])
        scores = score(rows.indices[cells], rows.data[cells])
        predicted[pairs] = np.asarray(scores, dtype=np.float32)[movies[pairs]]
    return predicted
