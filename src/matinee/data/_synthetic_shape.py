"""ml-25m's published shape for the synthetic generator: rating histogram and genre shares.

Sources: the rating histogram is ml-25m's (GroupLens, 25,000,095 ratings); ml-latest-small
(2018, in the test mirror) is within 0.9 points on every level. Genre shares per movie come from
ml-25m's complete ``movies.csv`` (62,423 movies; ``(no genres listed)`` left out); genre shares
per rating from ml-latest-small's ratings joined to its movies (ml-25m's full ratings file was not
available), where popular movies lean to Action, Adventure, Sci-Fi and IMAX.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "GENRE_SHARES",
    "RATING_LEVELS",
    "RATING_SHARES",
    "assign_genres",
    "star_thresholds",
]

RATING_LEVELS = np.arange(1, 11) / 2.0
"""The ten rating values 0.5-5."""

RATING_SHARES = np.array([1.6, 3.1, 1.6, 6.6, 5.0, 19.6, 12.7, 26.6, 8.8, 14.5]) / 100.0
"""ml-25m's share of each level of :data:`RATING_LEVELS` (sums to 1.001 as published)."""

GENRE_SHARES: dict[str, tuple[float, float]] = {
    "Action": (11.77, 30.4),
    "Adventure": (6.64, 24.0),
    "Animation": (4.69, 6.9),
    "Children": (4.70, 9.1),
    "Comedy": (27.03, 38.7),
    "Crime": (8.52, 16.5),
    "Documentary": (8.98, 1.2),
    "Drama": (41.02, 41.6),
    "Fantasy": (4.37, 11.7),
    "Film-Noir": (0.57, 0.9),
    "Horror": (9.59, 7.2),
    "IMAX": (0.31, 4.1),
    "Musical": (1.69, 4.1),
    "Mystery": (4.69, 7.6),
    "Romance": (12.37, 18.0),
    "Sci-Fi": (5.76, 17.1),
    "Thriller": (13.86, 26.2),
    "War": (3.00, 4.8),
    "Western": (2.24, 1.9),
}
"""Percent of movies with each genre (ml-25m) and percent of ratings on such movies
(ml-latest-small): a movie lists 1.8 genres on average, so each column sums to more than 100."""

HEAD_SHARE = 0.9
"""The most-rated movies that together hold this share of the ratings take the per-rating genre
shares; the rest take the per-movie shares."""


def star_thresholds(half_share: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Cumulative level shares for half-star users and for whole-star users.

    Whole-star users spread over 1-5 in ml-25m's proportions; half-star users, who give
    ``half_share`` of the ratings, take every half star and the rest of the whole stars, so the
    mixture has ml-25m's histogram (exactly when ``half_share`` is at least 0.297).
    """
    shares = RATING_SHARES / RATING_SHARES.sum()
    whole = np.arange(shares.size) % 2 == 1
    whole_users = np.where(whole, shares, 0.0) / shares[whole].sum()
    weight = min(max(half_share, 1e-9), 1.0)
    half_users = np.maximum(shares - (1.0 - weight) * whole_users, 0.0)
    half_users /= half_users.sum()
    return np.cumsum(half_users)[:-1], np.cumsum(whole_users)[:-1]


def assign_genres(rng: np.random.Generator, movie_counts: npt.NDArray[np.int64]) -> list[str]:
    """One ``a|b|c`` genre string per movie, drawn with ml-25m's shares (see the module).

    Each genre is included independently with its share; a movie that drew none gets one
    genre drawn in proportion to the shares.
    """
    names = np.array(list(GENRE_SHARES), dtype=object)
    shares = np.array(list(GENRE_SHARES.values())) / 100.0
    per_movie, per_rating = shares[:, 0], shares[:, 1]
    order = np.argsort(-movie_counts, kind="stable")
    held = np.cumsum(movie_counts[order]) / max(int(movie_counts.sum()), 1)
    head = np.zeros(movie_counts.size, dtype=bool)
    head[order[: int(np.searchsorted(held, HEAD_SHARE)) + 1]] = True
    chances = np.where(head[:, None], per_rating[None, :], per_movie[None, :])
    picked = rng.random(chances.shape) < chances
    for row in np.flatnonzero(~picked.any(axis=1)):
        picked[row, rng.choice(names.size, p=chances[row] / chances[row].sum())] = True
    return ["|".join(names[row]) for row in picked]
