"""A list's rows: the chosen movies as :class:`Recommendation` objects, with ratings and reasons."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from matinee.models.base import Recommender
from matinee.service.because import reason_weights, top_reasons
from matinee.service.catalog import MovieCatalog
from matinee.service.types import Reason, Recommendation

__all__ = ["list_rows"]


def list_rows(
    model: Recommender[Any],
    catalog: MovieCatalog,
    chosen: npt.NDArray[np.int64],
    scores: npt.NDArray[np.floating[Any]],
    predicted: npt.ArrayLike | None,
    rated: tuple[npt.NDArray[np.int64], npt.NDArray[np.float32] | None],
    norms: npt.NDArray[np.float64] | None,
) -> list[Recommendation]:
    """One row per ``chosen`` model index, ranked in that order.

    Args:
        model: The model that scored the list (for its reasons).
        catalog: The model's movies.
        chosen: Model indices of the listed movies, best first.
        scores: Their list scores.
        predicted: Their predicted ratings, or None for models that predict none.
        rated: The person's rated movies (model indices) and ratings; None ratings: no reasons.
        norms: The model's movie vector norms (:func:`~matinee.service.because.vector_norms`).
    """
    movies, ratings = rated
    reasons: list[list[tuple[int, float]]] = [[] for _ in chosen]
    if ratings is not None:
        weights = reason_weights(model, movies, ratings, chosen, norms)
        if weights is not None:
            reasons = top_reasons(weights)
    values = None if predicted is None else np.asarray(predicted, dtype=np.float64).tolist()
    infos, ids, rated_at = catalog.infos, catalog.movie_ids[movies].tolist(), movies.tolist()
    return [
        Recommendation(
            movie=infos[index],
            rank=rank + 1,
            score=score,
            predicted_rating=None if values is None else values[rank],
            because=tuple(
                Reason(ids[j], infos[rated_at[j]].title, weight) for j, weight in reasons[rank]
            ),
        )
        for rank, (index, score) in enumerate(zip(chosen.tolist(), scores.tolist(), strict=True))
    ]
