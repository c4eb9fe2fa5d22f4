"""Why a movie is on a list: the rated movies that lifted it most ("because you rated ...").

Two kinds of model can say why:

* **Item-item models** (EASE, item-kNN, RP3beta) score a candidate ``i`` as ``sum_j x_j W[j, i]``
  over the person's rated movies ``j``, with ``W`` the learned item-item weights and ``x_j`` the
  person's entry (1 for a rating the model counts as positive, the rating itself for
  adjusted-cosine kNN, 0 below the model's positive threshold). The reason weight of ``j`` is
  its term ``x_j W[j, i]``: exactly what ``j`` added to the score.
* **Factor models** (anything with learned movie vectors: MF, biased MF, SVD++, NMF, iALS, the
  embedding net, the movie autoencoder) have no per-movie terms, so the weight of ``j`` is the
  cosine between the learned vectors of ``j`` and ``i``, times the rating's deviation from the
  person's mean rating: a loved movie whose vector points like the candidate's lifts it, a
  disliked one counts against it. When all the person's ratings are equal (no deviation), the
  deviation is taken from the model's training mean instead, so someone who rated three movies
  5 still hears why. Only movies rated above that mean can be reasons: a disliked movie whose
  vector points away from the candidate's adds to it too, but "because you rated" should name
  something the person liked.

The three largest positive weights are the reasons; ties go to the lower movie index. Models
with neither (popular, the bias baselines, AutoRec) have nothing to say: no reasons.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.models.base import Recommender

__all__ = ["N_REASONS", "reason_weights", "vector_norms"]

N_REASONS = 3
"""Reasons given per recommended movie."""

_ITEM_ITEM = ("ease", "item-knn", "rp3beta")


class _Asked(NamedTuple):
    """What reasons are asked for: the rated movies, their ratings, the recommended movies."""

    rated: npt.NDArray[np.int64]
    ratings: npt.NDArray[np.float32]
    candidates: npt.NDArray[np.int64]


def reason_weights(
    model: Recommender[Any],
    rated: npt.NDArray[np.int64],
    ratings: npt.NDArray[np.float32],
    candidates: npt.NDArray[np.int64],
    norms: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64] | None:
    """How much each rated movie lifted each candidate: ``(len(candidates), len(rated))``.

    Args:
        model: A fitted model.
        rated: Model indices of the movies the person rated.
        ratings: Their ratings.
        candidates: Model indices of the recommended movies.
        norms: The model's :func:`vector_norms`, when the caller keeps them (a server does,
            once per model); None works them out for the movies asked about.

    Returns:
        The weights, or None when the model cannot explain its scores.
    """
    if rated.size == 0 or candidates.size == 0:
        return None
    asked = _Asked(rated, ratings, candidates)
    if model.name in _ITEM_ITEM:
        return _item_item(model, asked)
    vectors = model.movie_vectors()
    if vectors is None:
        return None
    return _factor(model, vectors, asked, norms)


def vector_norms(model: Recommender[Any]) -> npt.NDArray[np.float64] | None:
    """Each movie vector's length (1 for a zero vector) as the factor reasons use it.

    None for models whose reasons need no vectors (item-item) or that have none. The same
    per-row arithmetic as :func:`reason_weights` does for the movies it is asked about, so the
    weights do not change when the norms are kept.
    """
    vectors = None if model.name in _ITEM_ITEM else model.movie_vectors()
    if vectors is None:
        return None
    norms: npt.NDArray[np.float64] = np.linalg.norm(np.asarray(vectors, np.float64), axis=1)
    norms[norms == 0] = 1.0
    return norms


def top_reasons(weights: npt.NDArray[np.float64]) -> list[list[tuple[int, float]]]:
    """Per candidate row: up to :data:`N_REASONS` (column, weight) pairs with weight > 0.

    A stable sort of the negated weights keeps the lower column first among equal weights.
    """
    order = np.argsort(-weights, axis=1, kind="stable")[:, :N_REASONS]
    best = np.take_along_axis(weights, order, axis=1)
    return [
        [(j, w) for j, w in zip(columns, values, strict=True) if w > 0]
        for columns, values in zip(order.tolist(), best.tolist(), strict=True)
    ]


def _item_item(model: Recommender[Any], asked: _Asked) -> npt.NDArray[np.float64]:
    rated, ratings, candidates = asked
    weights = model.weights_  # type: ignore[attr-defined]
    if sp.issparse(weights):
        dense = weights[rated][:, candidates].toarray()
    else:  # only the rated x candidates block, never whole rows of a dense matrix
        dense = np.asarray(weights[np.ix_(rated, candidates)])
    threshold = model.config.positive_threshold
    entry = np.ones(rated.size) if threshold is None else (ratings >= threshold).astype(float)
    if getattr(model.config, "similarity", None) == "adjusted-cosine":
        entry = entry * ratings
    result: npt.NDArray[np.float64] = (dense * entry[:, np.newaxis]).T.astype(np.float64)
    return result


def _factor(
    model: Recommender[Any],
    vectors: npt.NDArray[np.floating[Any]],
    asked: _Asked,
    all_norms: npt.NDArray[np.float64] | None,
) -> npt.NDArray[np.float64]:
    rated, ratings, candidates = asked
    movies = np.concatenate([rated, candidates])
    rows = np.asarray(vectors[movies], dtype=np.float64)
    if all_norms is None:
        norms = np.linalg.norm(rows, axis=1)
        norms[norms == 0] = 1.0
    else:
        norms = all_norms[movies]
    unit = rows / norms[:, np.newaxis]
    cosine = unit[rated.size :] @ unit[: rated.size].T
    values = ratings.astype(np.float64)
    deviation = values - values.mean()
    if not np.any(deviation):
        deviation = values - model.global_mean_
    liked = np.maximum(deviation, 0.0)
    result: npt.NDArray[np.float64] = cosine * liked[np.newaxis, :]
    return result
