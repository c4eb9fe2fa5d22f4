"""Movie side information for rankers: which genres and release-year bucket each movie has.

The releases list every movie's genres and year (``Dataset.movies``); ratings alone never show
that two rarely co-rated movies are both 1970s westerns. :class:`MovieFeatures` keeps those facts
keyed by raw movie id, so one table serves any training part (its movies are a subset, in their
own index order), and :meth:`MovieFeatures.matrix_for` turns them into a features x movies 0/1
matrix aligned to a fit's movies. EASE adds it to its Gram matrix as extra rows (collective EASE,
``side_info_weight``): see :mod:`matinee.models.neighbours.ease`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from matinee.data.ids import IdMap
from matinee.errors import ConfigError

__all__ = ["MovieFeatures", "UsesMovieFeatures", "give_movie_features"]


@dataclass(frozen=True, eq=False)
class MovieFeatures:
    """0/1 movie features (genre, release-year bucket) keyed by raw movie id."""

    movie_ids: npt.NDArray[np.int64]
    """Raw ids of the movies described, one per column of :attr:`matrix`."""
    names: tuple[str, ...]
    """One name per feature row, such as ``genre:Western`` or ``years:1970-1974``."""
    matrix: sp.csr_matrix
    """features x movies, 1.0 where the movie has the feature."""

    def __post_init__(self) -> None:
        if self.matrix.shape != (len(self.names), self.movie_ids.size):
            raise ConfigError(
                f"MovieFeatures: matrix has shape {self.matrix.shape}, expected "
                f"({len(self.names)}, {self.movie_ids.size}) features x movies"
            )

    @classmethod
    def from_movies(cls, movies: pl.DataFrame, *, year_bucket: int = 5) -> MovieFeatures:
        """Genres and ``year_bucket``-year release spans of a ``Dataset.movies`` table.

        Movies with no year get no year feature, and a release's "(no genres listed)" marker is
        not a genre. Both columns are what every MovieLens release carries, so this works on all.
        """
        if year_bucket < 1:
            raise ConfigError(f"MovieFeatures: year_bucket must be at least 1, got {year_bucket}")
        missing = {"movie_id", "genres", "year"} - set(movies.columns)
        if missing:
            raise ConfigError(f"MovieFeatures: the movies table lacks columns {sorted(missing)}")
        names: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        ids = movies["movie_id"].to_list()
        for column, (genres, year) in enumerate(
            zip(movies["genres"].to_list(), movies["year"].to_list(), strict=True)
        ):
            labels = [f"genre:{genre}" for genre in genres or () if not genre.startswith("(")]
            if year is not None:
                start = int(year) // year_bucket * year_bucket
                labels.append(f"years:{start}-{start + year_bucket - 1}")
            for label in labels:
                rows.append(names.setdefault(label, len(names)))
                columns.append(column)
        order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)),
            shape=(len(names), len(ids)),
        )[:, order]
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        return cls(np.asarray(ids, dtype=np.int64)[order], tuple(names), sp.csr_matrix(matrix))

    def matrix_for(self, movies: IdMap, *, min_movies: int = 2) -> sp.csr_matrix:
        """The features x ``movies`` matrix (a fit's movies, in index order), float32 0/1.

        Movies the table does not list get no features. Features held by fewer than
        ``min_movies`` of these movies are dropped: one movie alone relates it to nothing.
        """
        raw = movies.raw_ids
        if self.movie_ids.size == 0:
            return sp.csr_matrix((0, raw.size), dtype=np.float32)
        position = np.searchsorted(self.movie_ids, raw)
        clipped = np.minimum(position, self.movie_ids.size - 1)
        listed = (position < self.movie_ids.size) & (self.movie_ids[clipped] == raw)
        selector = sp.csr_matrix(
            (
                np.ones(int(listed.sum()), dtype=np.float32),
                (clipped[listed], np.flatnonzero(listed)),
            ),
            shape=(self.movie_ids.size, raw.size),
        )
        aligned = sp.csr_matrix(self.matrix @ selector, dtype=np.float32)
        keep = np.diff(aligned.indptr) >= min_movies
        result = sp.csr_matrix(aligned[keep])
        result.sort_indices()
        return result


@runtime_checkable
class UsesMovieFeatures(Protocol):
    """A model that can learn from movie features (EASE's ``side_info_weight``)."""

    def use_movie_features(self, features: MovieFeatures | None) -> Any:
        """Keep ``features`` for later fits."""


def give_movie_features(model: object, movies: pl.DataFrame | None) -> None:
    """Hand a release's movies table to ``model`` before its fit, if it can use one.

    The one place the data layer's movies reach a model: ``matinee train`` and the evaluation
    helpers (``compare``) call it, so a config such as ``side_info_weight=30`` works there.
    Models that take no features, or no table, leave the model as it is.
    """
    if movies is not None and isinstance(model, UsesMovieFeatures):
        model.use_movie_features(MovieFeatures.from_movies(movies))
