"""Top-k ranking metrics, vectorised over users (:func:`top_k` lives in :mod:`matinee.ranking`).

Inputs are a ``(n_users, k)`` matrix of recommended movie indices, best first, where ``-1`` pads a
row that has fewer than ``k`` candidates, and a users x movies CSR matrix whose non-zero cells are
the relevant movies of each row (see :func:`relevance_matrix`). Row ``i`` of both describes the
same user. Every metric returns the mean over rows; the evaluation protocol only passes users with
at least one relevant movie, and a row with none scores 0 on every metric.

Conventions (binary relevance):

* precision@k = hits / k (padding counts as a miss);
* recall@k = hits / |relevant|;
* NDCG@k = DCG / ideal DCG, gain 1 per hit discounted by ``log2(rank + 1)``, the ideal DCG taken
  over ``min(k, |relevant|)`` hits;
* MAP@k: AP@k = sum of precision@i at each hit rank i, divided by ``min(k, |relevant|)`` (so a
  perfect list scores 1 even when a user has more relevant movies than k);
* MRR = 1 / rank of the first hit within the top k (0 without one);
* hit rate@k = share of users with at least one hit;
* coverage = share of the catalogue recommended to anyone;
* novelty = mean self-information ``-log2(p)`` of recommended movies, ``p`` the share of training
  users who rated the movie (floored at one user).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.errors import ConfigError
from matinee.ranking import PAD, top_k
from matinee.types import FloatArray, IndexArray

__all__ = [
    "accuracy_metrics",
    "catalogue_coverage",
    "hit_mask",
    "hit_rate_at_k",
    "map_at_k",
    "mrr",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "recall_at_k",
    "relevance_matrix",
    "top_k",
]


def relevance_matrix(
    rows: npt.ArrayLike, movies: npt.ArrayLike, n_rows: int, n_movies: int
) -> sp.csr_matrix:
    """A boolean ``n_rows x n_movies`` CSR matrix with ``True`` at each (row, movie) pair."""
    row_idx = np.asarray(rows, dtype=np.int64).ravel()
    movie_idx = np.asarray(movies, dtype=np.int64).ravel()
    if row_idx.shape != movie_idx.shape:
        raise ConfigError(f"got {row_idx.size} rows but {movie_idx.size} movies")
    matrix = sp.csr_matrix(
        (np.ones(row_idx.size, dtype=np.int8), (row_idx, movie_idx)),
        shape=(n_rows, n_movies),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1
    matrix.sort_indices()
    return matrix.astype(bool)


def _check(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> IndexArray:
    recs = np.asarray(recommended)
    if recs.ndim != 2:
        raise ConfigError(f"recommended must be (n_users, k), got shape {recs.shape}")
    if recs.size and not np.issubdtype(recs.dtype, np.integer):
        raise ConfigError(f"recommended must hold integer movie indices, got {recs.dtype}")
    if relevant.shape[0] != recs.shape[0]:
        raise ConfigError(
            f"recommended has {recs.shape[0]} rows but relevant has {relevant.shape[0]}"
        )
    if recs.size and (recs.min() < PAD or recs.max() >= relevant.shape[1]):
        raise ConfigError(f"recommended indices must lie in -1..{relevant.shape[1] - 1}")
    return recs.astype(np.int64, copy=False)


def hit_mask(
    recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array
) -> npt.NDArray[np.bool_]:
    """``(n_users, k)`` booleans: whether each recommended movie is relevant to its row's user."""
    recs = _check(recommended, relevant)
    csr = sp.csr_matrix(relevant)
    csr.eliminate_zeros()
    csr.sort_indices()
    n_movies = np.int64(csr.shape[1])
    row_of_cell = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
    relevant_keys = row_of_cell * n_movies + csr.indices
    keys = np.arange(recs.shape[0], dtype=np.int64)[:, None] * n_movies + recs
    found = np.isin(keys, relevant_keys, assume_unique=False)
    return np.asarray(found & (recs != PAD))


def _relevant_counts(relevant: sp.csr_matrix | sp.csr_array) -> npt.NDArray[np.int64]:
    csr = sp.csr_matrix(relevant)
    csr.eliminate_zeros()
    indptr = np.asarray(csr.indptr, dtype=np.int64)
    counts: npt.NDArray[np.int64] = indptr[1:] - indptr[:-1]
    return counts


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else 0.0


def _safe_ratio(numerator: FloatArray, denominator: npt.NDArray[np.generic]) -> FloatArray:
    denom = np.asarray(denominator, dtype=np.float64)
    out = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denom, out=out, where=denom > 0)
    return out


def _precision(hits: npt.NDArray[np.bool_]) -> FloatArray:
    if hits.shape[1] == 0:
        return np.zeros(hits.shape[0], dtype=np.float64)
    values: FloatArray = hits.sum(axis=1) / hits.shape[1]
    return values


def _recall(hits: npt.NDArray[np.bool_], n_relevant: npt.NDArray[np.int64]) -> FloatArray:
    return _safe_ratio(hits.sum(axis=1).astype(np.float64), n_relevant)


def _ndcg(hits: npt.NDArray[np.bool_], n_relevant: npt.NDArray[np.int64]) -> FloatArray:
    k = hits.shape[1]
    discounts = 1.0 / np.log2(np.arange(2, k + 2, dtype=np.float64))
    dcg = hits.astype(np.float64) @ discounts
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_relevant, k)]
    return _safe_ratio(dcg, ideal)


def _average_precision(
    hits: npt.NDArray[np.bool_], n_relevant: npt.NDArray[np.int64]
) -> FloatArray:
    k = hits.shape[1]
    precision_at_rank = np.cumsum(hits, axis=1) / np.arange(1, k + 1, dtype=np.float64)
    summed = (precision_at_rank * hits).sum(axis=1)
    return _safe_ratio(summed, np.minimum(n_relevant, k))


def _reciprocal_rank(hits: npt.NDArray[np.bool_]) -> FloatArray:
    first = np.argmax(hits, axis=1).astype(np.float64) + 1.0
    values: FloatArray = np.where(hits.any(axis=1), 1.0 / first, 0.0)
    return values


def _hit(hits: npt.NDArray[np.bool_]) -> FloatArray:
    return np.asarray(hits.any(axis=1), dtype=np.float64)


def precision_at_k(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Mean share of the k slots that hold a relevant movie."""
    return _mean(_precision(hit_mask(recommended, relevant)))


def recall_at_k(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Mean share of each user's relevant movies found in the top k."""
    return _mean(_recall(hit_mask(recommended, relevant), _relevant_counts(relevant)))


def ndcg_at_k(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Mean normalised discounted cumulative gain (binary gain) over the top k."""
    return _mean(_ndcg(hit_mask(recommended, relevant), _relevant_counts(relevant)))


def map_at_k(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Mean average precision; each AP is normalised by ``min(k, |relevant|)``."""
    return _mean(_average_precision(hit_mask(recommended, relevant), _relevant_counts(relevant)))


def mrr(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Mean reciprocal rank of the first relevant movie within the top k (0 if none)."""
    return _mean(_reciprocal_rank(hit_mask(recommended, relevant)))


def hit_rate_at_k(recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array) -> float:
    """Share of users with at least one relevant movie in their top k."""
    return _mean(_hit(hit_mask(recommended, relevant)))


def accuracy_metrics(
    recommended: npt.ArrayLike, relevant: sp.csr_matrix | sp.csr_array
) -> dict[str, float]:
    """Every relevance-based metric at once (one hit computation), keyed by base name.

    Keys: ``precision``, ``recall``, ``ndcg``, ``map``, ``mrr``, ``hit_rate``.
    """
    hits = hit_mask(recommended, relevant)
    n_relevant = _relevant_counts(relevant)
    return {
        "precision": _mean(_precision(hits)),
        "recall": _mean(_recall(hits, n_relevant)),
        "ndcg": _mean(_ndcg(hits, n_relevant)),
        "map": _mean(_average_precision(hits, n_relevant)),
        "mrr": _mean(_reciprocal_rank(hits)),
        "hit_rate": _mean(_hit(hits)),
    }


def catalogue_coverage(recommended: npt.ArrayLike, n_movies: int) -> float:
    """Share of the ``n_movies`` catalogue that appears in at least one recommendation list."""
    if isinstance(n_movies, bool) or not isinstance(n_movies, int | np.integer) or n_movies < 1:
        raise ConfigError(f"n_movies must be a positive integer, got {n_movies!r}")
    recs = np.asarray(recommended)
    shown = np.unique(recs[recs != PAD])
    if shown.size and (shown[0] < 0 or shown[-1] >= n_movies):
        raise ConfigError(f"recommended indices must lie in -1..{n_movies - 1}")
    return float(shown.size / n_movies)


def novelty(recommended: npt.ArrayLike, movie_counts: npt.ArrayLike, n_train_users: int) -> float:
    """Mean self-information ``-log2(count / n_train_users)`` of the recommended movies.

    Args:
        recommended: ``(n_users, k)`` movie indices, ``-1`` for empty slots.
        movie_counts: Training users who rated each movie (index = movie index).
        n_train_users: Users with at least one training rating (the popularity denominator).
    """
    counts = np.asarray(movie_counts, dtype=np.float64)
    if n_train_users < 1:
        raise ConfigError(f"n_train_users must be >= 1, got {n_train_users!r}")
    recs = np.asarray(recommended)
    shown = recs[recs != PAD]
    if shown.size == 0:
        return 0.0
    if shown.min() < 0 or shown.max() >= counts.size:
        raise ConfigError(f"recommended indices must lie in -1..{counts.size - 1}")
    share = np.clip(counts[shown], 1.0, float(n_train_users)) / n_train_users
    return float(np.mean(-np.log2(share)))
