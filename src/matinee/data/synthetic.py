"""Synthetic MovieLens-like ratings at any size, for scale work (ml-20m/ml-25m and beyond).

The generator mimics what matters for speed and for model behaviour:

* user activity is a floor of 20 ratings plus a log-normal share (sigma 1.589, the LensKit
  codex's fit to ml-25m, https://codex.lenskit.org/movielens/ML25M/description.html), capped at
  half the movies (a Pareto share before put 4.8% of 25M ratings on 41 users at the cap);
* the catalogue grows as MovieLens's did, about 16% a year (1,682 movies in ml-100k, 1998;
  3,706 in ml-1m, 2003; 10,681 in ml-10m, 2009; 26,744 in ml-20m, 2015; 59,047 in ml-25m, 2019),
  so half the movies arrive in the last four years and a user only rates movies added before the
  end of their window;
* a movie's appeal weights the draws among the movies a user can see: log-normal, falling
  steeply with arrival (early movies are the classics, late ones obscure titles), with a small
  floor; a user never rates a movie twice (weighted sampling without replacement). At ml-25m
  size this gives its concentration: item Gini 0.934 where ml-25m's is 0.942 (LensKit codex),
  the top movie 0.36% of the ratings (ml-latest-small: 0.33%), and about 4% of the catalogue
  unrated (ml-25m's ``movies.csv`` lists 62,423 movies, 59,047 of them rated);
* a rating starts as a score ``user bias + movie bias + user factors . movie factors + noise``
  (popular movies get higher biases); half the users rate in whole stars (1-5), the others in
  half stars (0.5-5), as the MovieLens interface allowed after 2003, and the scores are cut into
  stars at quantiles that give ml-25m's rating histogram (4 stars 26.6%, 3 stars 19.6%, ...);
* ``movies.csv`` genres follow ml-25m's shares (Drama and Comedy far ahead of Horror or IMAX),
  the most-rated movies leaning to Action, Adventure and Sci-Fi as in the real releases;
* each user rates within an active window that starts between 1995 and 2019 and lasts from
  minutes to years (log-normal), so temporal splits have something to cut; heavy users stay
  until the catalogue holds twice the movies they rate.

Movie indices (and the sorted sparse ids) follow the order movies joined, as MovieLens ids do.
Default sizes follow ml-25m's ratios (162,541 users and 59,047 movies per 25,000,095 ratings). The
hot loop is one Numba kernel (compiled once, then cached on disk), each user with its own
random stream (splitmix64 keyed by seed and user).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.atomic import atomic_file
from matinee.data._synthetic_kernels import rate_movies, sample_movies
from matinee.data._synthetic_shape import (
    GENRE_SHARES,
    RATING_LEVELS,
    assign_genres,
    star_thresholds,
)
from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError

__all__ = [
    "GENERATOR_VERSION",
    "GENRES",
    "default_sizes",
    "generate_ratings",
    "synthetic_movies",
    "write_synthetic_release",
]

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2
"""Raised whenever the same call makes different ratings, so caches of generated data can key on
it (2: catalogue growth, movie appeal by arrival, log-normal user activity)."""
ML25M_RATINGS, ML25M_USERS, ML25M_MOVIES = 25_000_095, 162_541, 59_047
MIN_USER_RATINGS = 20
ACTIVITY_SIGMA = 1.589
"""Spread (log scale) of user activity above the floor: the LensKit codex's log-normal fit to
ml-25m (https://codex.lenskit.org/movielens/ML25M/description.html)."""
APPEAL_SIGMA = 1.0
"""Spread (log scale) of a movie's appeal among movies of the same age."""
AGE_EXPONENT, AGE_OFFSET = 3.0, 0.04
"""Appeal falls as ``(arrival share + AGE_OFFSET) ** -AGE_EXPONENT``: the catalogue's first movies
are the classics most users rate, the late ones the obscure titles added to complete it."""
APPEAL_FLOOR = 0.03
"""Appeal every movie has on top, as a share of the mean (browsing and search): few go unrated."""
CATALOGUE_GROWTH = 0.164 / 31_557_600.0
"""Log growth of the MovieLens catalogue per second: 0.164 a year, fitted to five releases."""
MAX_RATINGS = 1_000_000_000
FIRST_TIME, LAST_TIME = 789_652_009, 1_574_327_703  # ml-25m's first and last timestamps
GENRES = tuple(GENRE_SHARES)
"""The genres of MovieLens releases (ml-25m also has ``(no genres listed)``)."""


def default_sizes(n_ratings: int) -> tuple[int, int]:
    """Users and movies for ``n_ratings``: ml-25m's ratios, adjusted so small sizes stay valid.

    Every user can have at least 20 ratings (fewer users when there are few ratings) and the
    matrix is at most 10% full (more movies when there are few ratings; ml-100k is 6.3% full).
    """
    _check_positive("n_ratings", n_ratings)
    n_users = max(1, min(round(n_ratings * ML25M_USERS / ML25M_RATINGS), n_ratings // 20))
    n_movies = max(
        round(n_ratings * ML25M_MOVIES / ML25M_RATINGS), math.ceil(10 * n_ratings / n_users), 1
    )
    return n_users, n_movies


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


def _sizes(n_ratings: int, n_users: int | None, n_movies: int | None) -> tuple[int, int]:
    """Validated sizes, defaults filled in."""
    _check_positive("n_ratings", n_ratings)
    if n_ratings > MAX_RATINGS:
        raise ConfigError(f"n_ratings must be at most {MAX_RATINGS:,}, got {n_ratings:,}")
    default_users, default_movies = default_sizes(n_ratings)
    users = default_users if n_users is None else n_users
    movies = default_movies if n_movies is None else n_movies
    _check_positive("n_users", users)
    _check_positive("n_movies", movies)
    if users > n_ratings:
        raise ConfigError(f"n_users={users:,} is more than n_ratings={n_ratings:,}")
    if n_ratings > users * _activity_cap(movies):
        raise ConfigError(
            f"{n_ratings:,} ratings do not fit {users:,} users x {movies:,} movies "
            f"(a user rates at most {_activity_cap(movies):,} movies); give more users or movies"
        )
    return users, movies


def _activity_cap(n_movies: int) -> int:
    """Most ratings one user gets: half the movies (all of them for tiny catalogues)."""
    return n_movies if n_movies < 2 * MIN_USER_RATINGS else n_movies // 2


def _user_activity(
    rng: np.random.Generator, n_ratings: int, n_users: int, n_movies: int
) -> npt.NDArray[np.int64]:
    """Ratings per user: a floor plus Pareto shares of the rest, capped, summing to n_ratings."""
    floor = min(MIN_USER_RATINGS, n_ratings // n_users)
    cap = _activity_cap(n_movies)
    weights = rng.lognormal(0.0, ACTIVITY_SIGMA, n_users)
    counts = np.full(n_users, floor, dtype=np.int64)
    left = n_ratings - floor * n_users
    while left > 0:
        open_users = counts < cap
        share = np.where(open_users, weights, 0.0)
        exact = share / share.sum() * left
        extra = np.floor(exact).astype(np.int64)
        short = left - int(extra.sum())
        if short:
            extra[np.argsort(extra - exact, kind="stable")[:short]] += 1
        counts = np.minimum(counts + extra, cap)
        left = n_ratings - int(counts.sum())
    return counts


def _movie_weights(rng: np.random.Generator, n_movies: int) -> npt.NDArray[np.float64]:
    """Each movie's appeal, in the order movies join the catalogue (see the constants above)."""
    arrival = np.arange(n_movies, dtype=np.float64) / n_movies + AGE_OFFSET
    appeal = np.exp(rng.normal(0.0, APPEAL_SIGMA, n_movies)) * arrival**-AGE_EXPONENT
    return appeal + APPEAL_FLOOR * float(appeal.mean())


def _added_times(n_movies: int) -> npt.NDArray[np.float64]:
    """When each movie joins: the catalogue grows exponentially to ``n_movies`` at the end."""
    share = np.arange(1, n_movies + 1, dtype=np.float64) / n_movies
    return np.maximum(LAST_TIME + np.log(share) / CATALOGUE_GROWTH, float(FIRST_TIME))


def _popularity_score(movie_idx: npt.NDArray[np.int32], n_movies: int) -> npt.NDArray[np.float64]:
    """Log rating count standardised over ratings, so the mean rating stays near 3.5."""
    counts = np.bincount(movie_idx, minlength=n_movies).astype(np.float64)
    log_count = np.log1p(counts)
    share = counts / max(counts.sum(), 1.0)
    centred = log_count - float(share @ log_count)
    spread = math.sqrt(float(share @ centred**2))
    return centred / max(spread, 1e-9)


def _activity_windows(rng: np.random.Generator, n_users: int) -> npt.NDArray[np.float64]:
    """Per user: start (1995-2019) and end of their rating window (log-normal length)."""
    start = rng.uniform(FIRST_TIME, LAST_TIME, n_users)
    span = np.minimum(np.exp(rng.normal(np.log(86_400.0), 3.0, n_users)), LAST_TIME - start)
    return np.ascontiguousarray(np.stack([start, start + span], axis=1))


def _eligible(
    windows: npt.NDArray[np.float64], added: npt.NDArray[np.float64], counts: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Movies each user can rate (a prefix of the catalogue); stretches windows to fit.

    A user sees the movies added before their window ends, and at least twice the movies they
    rate (all of them for tiny catalogues): such a user's window is extended to the day the
    last of those movies joined, so every rating still falls after its movie's arrival.
    """
    seen = np.searchsorted(added, windows[:, 1], side="right").astype(np.int64)
    eligible = np.maximum(seen, np.minimum(2 * counts, added.size))
    windows[:, 1] = np.maximum(windows[:, 1], added[eligible - 1])
    return eligible


QUANTILE_SAMPLE = 1_000_000
"""Scores per group that set the star cut points (more change them by under 0.1 point)."""


def _stars(
    rng: np.random.Generator, score: npt.NDArray[np.float32], half: npt.NDArray[np.bool_]
) -> npt.NDArray[np.float32]:
    """Cut scores into stars at quantiles that give ml-25m's histogram (half or whole stars)."""
    half_cuts, whole_cuts = star_thresholds(float(half.mean()) if half.size else 0.0)
    rating = np.empty(score.size, dtype=np.float32)
    for group, cuts in ((half, half_cuts), (~half, whole_cuts)):
        values = score[group]
        if values.size == 0:
            continue
        sample = values if values.size <= QUANTILE_SAMPLE else rng.choice(values, QUANTILE_SAMPLE)
        levels = np.searchsorted(np.quantile(sample, cuts), values, side="right")
        rating[group] = RATING_LEVELS[levels]
    return rating


def _seed(rng: np.random.Generator) -> int:
    """A 62-bit seed for a kernel's per-user streams."""
    return int(rng.integers(2**62))


def generate_ratings(
    n_ratings: int,
    *,
    n_users: int | None = None,
    n_movies: int | None = None,
    n_factors: int = 8,
    seed: int = 0,
) -> Ratings:
    """Generate ``n_ratings`` MovieLens-like ratings (see the module docstring for the model).

    Args:
        n_ratings: Exactly how many ratings to make.
        n_users: Users (default: ml-25m's ratio to ratings); every user gets ratings.
        n_movies: Movies in the catalogue (default: ml-25m's ratio); rare ones may go unrated.
        n_factors: Latent factors behind the ratings.
        seed: The same seed gives the same ratings.

    Returns:
        Ratings sorted by user then movie, user ids ``1..n_users``, sparse movie ids like ml-25m,
        on the 0.5-5 scale.
    """
    users, movies = _sizes(n_ratings, n_users, n_movies)
    _check_positive("n_factors", n_factors)
    rng = np.random.default_rng(seed)
    counts = _user_activity(rng, n_ratings, users, movies)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    movie_idx = np.empty(n_ratings, dtype=np.int32)
    timestamp = np.empty(n_ratings, dtype=np.int64)
    windows = _activity_windows(rng, users)
    added = _added_times(movies)
    eligible = _eligible(windows, added, counts)
    weights = _movie_weights(rng, movies)
    sample_movies(offsets, weights, eligible, added, _seed(rng), windows, movie_idx, timestamp)
    score = np.empty(n_ratings, dtype=np.float32)
    scale = (0.3 / n_factors) ** 0.25
    rate_movies(
        offsets,
        movie_idx,
        _seed(rng),
        rng.normal(0.0, 0.4, users),
        rng.normal(0.0, 0.4, movies) + 0.2 * _popularity_score(movie_idx, movies),
        rng.normal(0.0, scale, (users, n_factors)),
        rng.normal(0.0, scale, (movies, n_factors)),
        score,
    )
    rating = _stars(rng, score, np.repeat(rng.random(users) < 0.5, counts))
    movie_ids = np.sort(rng.choice(np.arange(1, 4 * movies + 1), movies, replace=False))
    user_idx = np.repeat(np.arange(users, dtype=np.int32), counts)
    log.info("generated %d synthetic ratings: %d users, %d movies", n_ratings, users, movies)
    return Ratings(
        user_idx,
        movie_idx,
        rating,
        timestamp,
        IdMap(np.arange(1, users + 1), kind="user"),
        IdMap(movie_ids, kind="movie"),
        (0.5, 5.0),
    )


def _movies_table(
    rng: np.random.Generator, movie_ids: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> pl.DataFrame:
    """``movieId,title,genres`` with made-up titles and genres in ml-25m's shares."""
    years = rng.integers(1915, 2020, movie_ids.size)
    return pl.DataFrame(
        {
            "movieId": movie_ids,
            "title": [
                f"Synthetic Movie {i} ({y})"
                for i, y in zip(movie_ids.tolist(), years.tolist(), strict=True)
            ],
            "genres": assign_genres(rng, counts),
        }
    )


def synthetic_movies(ratings: Ratings, *, seed: int = 0) -> pl.DataFrame:
    """The ``movies.csv`` table (``movieId,title,genres``) that goes with generated ``ratings``.

    ``seed`` is the one the ratings were generated with; :func:`write_synthetic_release` writes
    exactly this table.
    """
    return _movies_table(
        np.random.default_rng([seed, 1]), ratings.movies.raw_ids, ratings.movie_counts()
    )


def write_synthetic_release(
    directory: Path,
    n_ratings: int,
    *,
    seed: int = 0,
    n_users: int | None = None,
    n_movies: int | None = None,
) -> Path:
    """Generate ratings and write them in the ml-25m layout; returns ``directory``.

    Writes ``ratings.csv`` (``userId,movieId,rating,timestamp``, ratings like ``4.5``) and
    ``movies.csv`` (``movieId,title,genres``), each atomically (temporary file, then rename).
    """
    ratings = generate_ratings(n_ratings, n_users=n_users, n_movies=n_movies, seed=seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    frame = ratings.to_polars().rename(
        {"user_id": "userId", "movie_id": "movieId", "rating": "rating", "timestamp": "timestamp"}
    )
    with atomic_file(directory / "ratings.csv") as temp:
        frame.write_csv(temp)
    with atomic_file(directory / "movies.csv") as temp:
        synthetic_movies(ratings, seed=seed).write_csv(temp)
    log.info("wrote a synthetic release of %d ratings to %s", n_ratings, directory)
    return directory
