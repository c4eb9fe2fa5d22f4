"""Checks on what a saved model holds and on what :func:`~matinee.store.files.save_model` is given.

A saved model's arrays are checked before any model is built from them, so that a tampered or
damaged file fails with a message naming the file and array instead of giving wrong answers:
every float is finite, the rating scale is two finite numbers with low < high, and the id maps are
one-dimensional integer arrays, strictly increasing (unique and sorted; an unsorted map would
re-point users at other users' factors).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from matinee.errors import ConfigError, ModelFormatError

__all__ = ["check_arrays", "check_model_arguments", "parse_movies"]

_ID_ARRAYS = ("user_ids", "movie_ids")
_MOVIE_COLUMNS = ("movie_id", "title", "year", "genres")


def check_arrays(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Refuse arrays that no fitted model could have saved.

    Raises:
        ModelFormatError: naming ``path`` and the array at fault.
    """
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            bad = int(np.count_nonzero(~np.isfinite(array)))
            raise ModelFormatError(f"{path}: array {name!r} holds {bad} NaN or infinite value(s)")
    for name in _ID_ARRAYS:
        if name in arrays:
            _check_ids(path, name, arrays[name])
    if "rating_scale" in arrays:
        scale = arrays["rating_scale"]
        if scale.shape != (2,) or not float(scale[0]) < float(scale[1]):
            raise ModelFormatError(
                f"{path}: 'rating_scale' must be [low, high] with low < high, got {scale.tolist()}"
            )


def _check_ids(path: Path, name: str, ids: np.ndarray) -> None:
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise ModelFormatError(
            f"{path}: {name!r} must be a one-dimensional integer array, got "
            f"{ids.dtype}{list(ids.shape)}"
        )
    if ids.size > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        raise ModelFormatError(f"{path}: {name!r} must be unique and sorted ascending")


def check_model_arguments(
    model: object,
    directory: object,
    metrics: object,
    extra: object,
    movies: object,
) -> Path:
    """Check the types of :func:`save_model`'s arguments and return ``directory`` as a Path.

    Raises:
        ConfigError: naming the argument of the wrong type.
    """
    from matinee.models.base import Recommender

    if not isinstance(model, Recommender):
        raise ConfigError(f"save_model: 'model' must be a Recommender, got {type(model).__name__}")
    if not isinstance(directory, str | os.PathLike):
        raise ConfigError(f"save_model: 'directory' must be a path, got {type(directory).__name__}")
    if metrics is not None:
        _check_metrics(metrics)
    if extra is not None and not isinstance(extra, Mapping):
        raise ConfigError(f"save_model: 'extra' must be a mapping, got {type(extra).__name__}")
    if movies is not None and not isinstance(movies, pl.DataFrame):
        raise ConfigError(
            f"save_model: 'movies' must be a polars DataFrame, got {type(movies).__name__}"
        )
    return Path(directory)


def _check_metrics(metrics: object) -> None:
    if not isinstance(metrics, Mapping):
        raise ConfigError(f"save_model: 'metrics' must be a mapping, got {type(metrics).__name__}")
    for key, value in metrics.items():
        number = isinstance(value, int | float | np.integer | np.floating)
        if not isinstance(key, str) or isinstance(value, bool) or not number:
            raise ConfigError(f"save_model: metric {key!r} must be a number, got {value!r}")
        if not np.isfinite(float(value)):
            raise ConfigError(f"save_model: metric {key!r} is {value}, not a finite number")


def parse_movies(path: Path, data: bytes | memoryview) -> pl.DataFrame:
    """The saved movies table in ``data``, checked: its columns and unique movie ids.

    Parsed by pyarrow, whose errors are exceptions (polars panics on some damaged files).

    Raises:
        ModelFormatError: the bytes are not Parquet, or not a movies table.
    """
    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise ModelFormatError(f"{path} is not a valid Parquet file: {error}") from None
    missing = [column for column in _MOVIE_COLUMNS if column not in table.column_names]
    if missing:
        raise ModelFormatError(f"{path}: the movies table lacks column(s) {missing}")
    frame: Any = pl.from_arrow(table)
    ids = frame["movie_id"]
    if not ids.dtype.is_integer() or ids.null_count() or ids.n_unique() != frame.height:
        raise ModelFormatError(f"{path}: 'movie_id' must hold unique integers")
    result: pl.DataFrame = frame
    return result
