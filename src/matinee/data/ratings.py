"""Ratings: read-only columnar arrays of (user, movie, rating, time) with their id maps."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from matinee.data.ids import IdMap
from matinee.errors import DataError
from matinee.types import IndexArray, RatingArray, TimeArray

__all__ = ["DENSE_LIMIT", "Ratings"]

DENSE_LIMIT = 50_000_000
"""Most cells a dense users x movies pivot may have (about 200 MB of float32)."""

T = TypeVar("T")


def _frozen(array: npt.ArrayLike, dtype: npt.DTypeLike) -> np.ndarray:
    """A read-only view of ``array`` as ``dtype`` (copied only when the dtype differs)."""
    out = np.ascontiguousarray(array, dtype=dtype).view()
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Ratings:
    """Explicit ratings as four aligned, read-only columns plus the id maps they index into.

    Indices are contiguous (``0 .. n_users-1`` and ``0 .. n_movies-1``) and always refer to
    ``users`` and ``movies``. Splits keep the id maps of the data they came from, so a train and a
    test set index the same users and movies; filters re-index.
    """

    user_idx: IndexArray
    movie_idx: IndexArray
    rating: RatingArray
    timestamp: TimeArray
    users: IdMap
    movies: IdMap
    rating_scale: tuple[float, float] = (0.5, 5.0)
    """Lowest and highest rating allowed by the release (1-5 for ml-100k and ml-1m)."""
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.user_idx)
        columns = (self.movie_idx, self.rating, self.timestamp)
        if any(len(column) != n for column in columns):
            raise DataError("ratings columns differ in length")
        object.__setattr__(self, "user_idx", _frozen(self.user_idx, np.int32))
        object.__setattr__(self, "movie_idx", _frozen(self.movie_idx, np.int32))
        object.__setattr__(self, "rating", _frozen(self.rating, np.float32))
        object.__setattr__(self, "timestamp", _frozen(self.timestamp, np.int64))
        if n and (
            self.user_idx.min() < 0
            or self.user_idx.max() >= len(self.users)
            or self.movie_idx.min() < 0
            or self.movie_idx.max() >= len(self.movies)
        ):
            raise DataError("ratings index outside their id maps")

    @classmethod
    def from_raw(
        cls,
        user_ids: npt.ArrayLike,
        movie_ids: npt.ArrayLike,
        ratings: npt.ArrayLike,
        timestamps: npt.ArrayLike | None = None,
        *,
        rating_scale: tuple[float, float] = (0.5, 5.0),
    ) -> Ratings:
        """Build ratings from raw MovieLens ids, mapping them to contiguous indices."""
        users, user_idx = IdMap.from_values(user_ids, kind="user")
        movies, movie_idx = IdMap.from_values(movie_ids, kind="movie")
        rating = np.asarray(ratings, dtype=np.float32)
        times = (
            np.zeros(len(rating), dtype=np.int64)
            if timestamps is None
            else np.asarray(timestamps, dtype=np.int64)
        )
        return cls(user_idx, movie_idx, rating, times, users, movies, rating_scale)

    @property
    def n_users(self) -> int:
        """Users in the id map (some may have no rating in a split)."""
        return len(self.users)

    @property
    def n_movies(self) -> int:
        """Movies in the id map (some may have no rating in a split)."""
        return len(self.movies)

    def __len__(self) -> int:
        return int(self.user_idx.size)

    def __repr__(self) -> str:
        return (
            f"Ratings(n={len(self):,}, users={self.n_users:,}, movies={self.n_movies:,}, "
            f"scale={self.rating_scale})"
        )

    @property
    def density(self) -> float:
        """Share of the users x movies cells that hold a rating."""
        cells = self.n_users * self.n_movies
        return len(self) / cells if cells else 0.0

    def take(self, rows: npt.NDArray[np.bool_] | npt.NDArray[np.integer]) -> Ratings:
        """A subset of rows (mask or positions) with the same id maps."""
        return Ratings(
            self.user_idx[rows],
            self.movie_idx[rows],
            self.rating[rows],
            self.timestamp[rows],
            self.users,
            self.movies,
            self.rating_scale,
        )

    def with_ratings(self, ratings: npt.ArrayLike) -> Ratings:
        """The same (user, movie, time) rows with other rating values (same order)."""
        return Ratings(
            self.user_idx,
            self.movie_idx,
            np.asarray(ratings, dtype=np.float32),
            self.timestamp,
            self.users,
            self.movies,
            self.rating_scale,
        )

    def compact(self) -> Ratings:
        """Drop users and movies without ratings from the id maps and re-index."""
        keep_users = np.bincount(self.user_idx, minlength=self.n_users) > 0
        keep_movies = np.bincount(self.movie_idx, minlength=self.n_movies) > 0
        if keep_users.all() and keep_movies.all():
            return self
        users, user_table = self.users.subset(keep_users)
        movies, movie_table = self.movies.subset(keep_movies)
        return Ratings(
            user_table[self.user_idx],
            movie_table[self.movie_idx],
            self.rating,
            self.timestamp,
            users,
            movies,
            self.rating_scale,
        )

    def user_counts(self) -> npt.NDArray[np.int64]:
        """Ratings per user index."""
        return np.bincount(self.user_idx, minlength=self.n_users)

    def movie_counts(self) -> npt.NDArray[np.int64]:
        """Ratings per movie index."""
        return np.bincount(self.movie_idx, minlength=self.n_movies)

    def mean(self) -> float:
        """Mean rating (0.0 for no ratings)."""
        return float(self.rating.mean(dtype=np.float64)) if len(self) else 0.0

    def _cached(self, key: str, kind: type[T], build: Callable[[], T]) -> T:
        """The value cached under ``key``, built by ``build`` on first use (the data is frozen)."""
        cached = self._cache.get(key)
        if isinstance(cached, kind):
            return cached
        value = build()
        self._cache[key] = value
        return value

    def fingerprint(self) -> str:
        """A sha256 over ids, ratings and times: equal data, equal fingerprint."""
        return self._cached("fingerprint", str, self._fingerprint)

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for array in (
            self.users.raw_ids,
            self.movies.raw_ids,
            self.user_idx,
            self.movie_idx,
            self.rating,
            self.timestamp,
        ):
            digest.update(f"{array.dtype.str}:{array.size};".encode())
            digest.update(np.ascontiguousarray(array).data)
        digest.update(repr(self.rating_scale).encode())
        return digest.hexdigest()

    def user_movie_matrix(self) -> sp.csr_matrix:
        """CSR users x movies of ratings (duplicates summed; MovieLens has none)."""
        return self._cached("user_movie", sp.csr_matrix, self._user_movie_matrix)

    def _user_movie_matrix(self) -> sp.csr_matrix:
        matrix = sp.csr_matrix(
            (self.rating, (self.user_idx, self.movie_idx)),
            shape=(self.n_users, self.n_movies),
            dtype=np.float32,
        )
        matrix.sort_indices()
        return matrix

    def matrix_on(self, users: IdMap, movies: IdMap) -> sp.csr_matrix:
        """CSR ``users`` x ``movies`` of these ratings, in another pair of id maps' index space.

        What a model fitted on other data sees of these ratings: ratings of users or movies the
        maps do not hold are dropped. With this data's own maps it is :meth:`user_movie_matrix`
        (shared, not copied).
        """
        if users == self.users and movies == self.movies:
            return self.user_movie_matrix()
        raw_users = self.users.raw_ids[self.user_idx]
        raw_movies = self.movies.raw_ids[self.movie_idx]
        known = np.isin(raw_users, users.raw_ids) & np.isin(raw_movies, movies.raw_ids)
        matrix = sp.csr_matrix(
            (
                self.rating[known].astype(np.float32),
                (users.indices(raw_users[known]), movies.indices(raw_movies[known])),
            ),
            shape=(len(users), len(movies)),
            dtype=np.float32,
        )
        matrix.sum_duplicates()
        matrix.sort_indices()
        return matrix

    def movie_user_matrix(self) -> sp.csr_matrix:
        """CSR movies x users of ratings."""
        return self._cached("movie_user", sp.csr_matrix, self._movie_user_matrix)

    def _movie_user_matrix(self) -> sp.csr_matrix:
        matrix = self.user_movie_matrix().T.tocsr()
        matrix.sort_indices()
        return matrix

    def dense(self, *, fill: float = 0.0, movies_by_users: bool = False) -> npt.NDArray[np.float32]:
        """A dense pivot (users x movies, or movies x users), for small data only."""
        cells = self.n_users * self.n_movies
        if cells > DENSE_LIMIT:
            raise DataError(
                f"a dense pivot of {self.n_users:,} x {self.n_movies:,} = {cells:,} cells is over "
                f"the {DENSE_LIMIT:,} limit; use user_movie_matrix() (sparse) instead"
            )
        out = np.full((self.n_users, self.n_movies), fill, dtype=np.float32)
        out[self.user_idx, self.movie_idx] = self.rating
        return np.ascontiguousarray(out.T) if movies_by_users else out

    def to_polars(self, *, raw_ids: bool = True) -> pl.DataFrame:
        """A DataFrame of the ratings, with raw ids (``user_id``, ``movie_id``) or indices."""
        if raw_ids:
            return pl.DataFrame(
                {
                    "user_id": self.users.raw_ids[self.user_idx],
                    "movie_id": self.movies.raw_ids[self.movie_idx],
                    "rating": self.rating,
                    "timestamp": self.timestamp,
                }
            )
        return pl.DataFrame(
            {
                "user_idx": self.user_idx,
                "movie_idx": self.movie_idx,
                "rating": self.rating,
                "timestamp": self.timestamp,
            }
        )
