"""MovieLens ratings as Spark DataFrames, with the id maps of :mod:`matinee.data`.

Two routes give the same rows and the same id maps (sorted raw ids, index = position):

* :func:`read_release`: the single-machine reader loads a release from the registry, mirror or
  cache (:func:`matinee.data.load_dataset`), its ratings are written once as Parquet under the
  cache and Spark reads that file. Robust and exact, for what fits one machine's memory.
* :func:`read_ratings_text`: Spark itself parses a ratings file (``ratings.csv`` of a CSV release,
  or a ``u.data``-like file) from storage every executor reaches; the id maps are the sorted
  distinct ids, collected to the driver (millions of ids, not billions of ratings).

Every frame has the columns of :data:`COLUMNS`; staged frames also have ``row``, the position of
the rating in the single-machine data, so that collected parts come back in the same order (and
so with the same data fingerprint).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from matinee.data.ids import IdMap
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.errors import DataError
from matinee.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "COLUMNS",
    "SparkRatings",
    "collect_ratings",
    "ratings_frame",
    "read_ratings_text",
    "read_release",
]

COLUMNS = ("user_id", "movie_id", "rating", "timestamp", "user_idx", "movie_idx")
"""Columns of a ratings frame: raw ids (long), rating (float), time (long), indices (int)."""


@dataclass(frozen=True, eq=False)
class SparkRatings:
    """A ratings DataFrame and the id maps its ``user_idx`` / ``movie_idx`` refer to."""

    frame: DataFrame
    """Columns :data:`COLUMNS`, one row per rating."""
    users: IdMap
    movies: IdMap
    rating_scale: tuple[float, float]
    name: str = ""

    def with_frame(self, frame: DataFrame) -> SparkRatings:
        """The same id maps over other rows (a part of a split)."""
        return SparkRatings(frame, self.users, self.movies, self.rating_scale, self.name)


def _table(ratings: Ratings) -> pa.Table:
    return pa.table(
        {
            "user_id": ratings.users.raw_ids[ratings.user_idx],
            "movie_id": ratings.movies.raw_ids[ratings.movie_idx],
            "rating": ratings.rating,
            "timestamp": ratings.timestamp,
            "user_idx": ratings.user_idx,
            "movie_idx": ratings.movie_idx,
            "row": np.arange(len(ratings), dtype=np.int64),
        }
    )


def _staged_parquet(ratings: Ratings, folder: Path) -> Path:
    """``folder/<fingerprint>.parquet`` holding ``ratings``, written once (temp file + rename)."""
    path = folder / f"{ratings.fingerprint()[:32]}-v2.parquet"
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, suffix=".parquet.tmp")
    os.close(handle)
    try:
        pq.write_table(_table(ratings), temp, row_group_size=1 << 20)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return path


def ratings_frame(
    spark: SparkSession, ratings: Ratings, *, settings: Settings | None = None, name: str = ""
) -> SparkRatings:
    """Single-machine ``ratings`` as a Spark frame, staged as Parquet in the cache."""
    settings = settings if settings is not None else Settings.from_env()
    path = _staged_parquet(ratings, settings.cache_dir / "spark")
    frame = spark.read.parquet(path.as_uri())
    return SparkRatings(frame, ratings.users, ratings.movies, ratings.rating_scale, name)


def read_release(
    spark: SparkSession, name: str, *, settings: Settings | None = None
) -> SparkRatings:
    """A registry release (``ml-100k``, ``ml-25m``...) read by Matinee's reader, in Spark."""
    settings = settings if settings is not None else Settings.from_env()
    dataset = load_dataset(name, settings=settings)
    return ratings_frame(spark, dataset.ratings, settings=settings, name=name)


def _id_map(frame: DataFrame, column: str, kind: str) -> IdMap:
    rows = frame.select(column).distinct().collect()
    return IdMap(np.sort(np.fromiter((row[0] for row in rows), np.int64, len(rows))), kind=kind)


def _index_frame(spark: SparkSession, ids: IdMap, id_column: str, idx_column: str) -> DataFrame:
    table = pa.table({id_column: ids.raw_ids, idx_column: np.arange(len(ids), dtype=np.int32)})
    return spark.createDataFrame(table)


def read_ratings_text(
    spark: SparkSession,
    path: str,
    *,
    separator: str = ",",
    header: bool = True,
    rating_scale: tuple[float, float] = (0.5, 5.0),
    name: str = "",
) -> SparkRatings:
    """Parse ``user, movie, rating, timestamp`` lines in Spark and index them by sorted ids.

    Args:
        spark: The session.
        path: A file or folder URI every executor can read (``hdfs://``, ``s3a://``, a shared
            mount); a CSV release's ``ratings.csv`` or ml-100k's ``u.data`` (tab, no header).
        separator: Field separator.
        header: Whether the first line names the columns.
        rating_scale: The release's lowest and highest rating.
        name: Name of the data (kept with the frame).

    Raises:
        DataError: A line does not parse, or a rating lies outside ``rating_scale``.
    """
    from pyspark.sql import functions as F

    schema = "user_id LONG, movie_id LONG, rating FLOAT, timestamp LONG"
    raw = spark.read.csv(path, schema=schema, sep=separator, header=header, mode="PERMISSIVE")
    low, high = rating_scale
    bad = raw.filter(
        F.col("user_id").isNull()
        | F.col("movie_id").isNull()
        | F.col("timestamp").isNull()
        | ~F.col("rating").between(low, high)
    ).limit(1)
    if bad.count():
        raise DataError(f"{path}: a line does not parse or has a rating outside {low}-{high}")
    users, movies = _id_map(raw, "user_id", "user"), _id_map(raw, "movie_id", "movie")
    frame = raw.join(_index_frame(spark, users, "user_id", "user_idx"), "user_id").join(
        F.broadcast(_index_frame(spark, movies, "movie_id", "movie_idx")), "movie_id"
    )
    return SparkRatings(frame.select(*COLUMNS), users, movies, rating_scale, name)


def collect_ratings(data: SparkRatings) -> Ratings:
    """A Spark ratings frame back on this machine as :class:`Ratings` (for tests and small data)."""
    ordered = "row" in data.frame.columns
    frame = data.frame.select(*COLUMNS, *(["row"] if ordered else []))
    table = (frame.orderBy("row") if ordered else frame).toArrow()
    return Ratings(
        table["user_idx"].to_numpy(),
        table["movie_idx"].to_numpy(),
        table["rating"].to_numpy(),
        table["timestamp"].to_numpy(),
        data.users,
        data.movies,
        data.rating_scale,
    )
