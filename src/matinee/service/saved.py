"""What a saved model keeps so that a loaded bundle answers without reloading its dataset.

``matinee train`` (through :func:`save_bundle`) writes, beside the model:

* ``movies.parquet`` with an ``n_ratings`` column: each movie's count of training ratings;
* ``rated.safetensors``: every known user's training ratings as CSR arrays in the model's index
  space (``indptr`` int64, one row per user; ``indices`` int32, movie indices; ``ratings``
  float32), so a known user's rated movies are excluded and explained without the dataset.

Both are listed and checksummed in the manifest like every other file; the format version is
unchanged, since older readers ignore files they do not know. A model saved without them (by
an older Matinee, or by :func:`matinee.store.files.save_model` from Python) gets the same data
from the release named in its manifest, re-split when it was trained on a split, the first
time a bundle loads it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp
from safetensors.numpy import save as save_safetensors

from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFormatError
from matinee.models.base import Recommender
from matinee.settings import Settings
from matinee.store.files import read_attachment, read_movies, save_model
from matinee.store.manifest import Manifest
from matinee.store.tensors import tensor_views

__all__ = ["RATED_NAME", "TrainingView", "load_training_view", "rated_csr", "save_bundle"]

log = logging.getLogger(__name__)

RATED_NAME = "rated.safetensors"
"""The saved file holding known users' training ratings as CSR arrays."""

WHOLE_DATA = ("none", "all")


@dataclass(frozen=True)
class TrainingView:
    """Known users' training ratings (CSR, model index space) and per-movie training counts."""

    rated: sp.csr_matrix
    counts: npt.NDArray[np.int64]


def rated_csr(model: Recommender[Any], train: Ratings) -> sp.csr_matrix:
    """Users x movies CSR of ``train``'s ratings in the model's index space.

    Ratings of users or movies the model does not know are dropped. When ``train`` has the
    model's own id maps (the ratings it was fitted on) this is ``train``'s own matrix, copied:
    at 25M ratings, mapping the raw ids back took most of the save.
    """
    users, movies = model.users_, model.movies_
    if users is None or movies is None:
        raise ConfigError(f"{type(model).__name__} is not fitted")
    if users == train.users and movies == train.movies:
        return train.user_movie_matrix().copy()
    return train.matrix_on(users, movies)


def save_bundle(
    model: Recommender[Any],
    directory: Path,
    *,
    train: Ratings,
    movies: pl.DataFrame | None = None,
    metrics: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Save ``model`` with what a bundle needs: training rating counts and rated movies.

    Args:
        model: A fitted model.
        directory: Target folder (see :func:`matinee.store.files.save_model`).
        train: The ratings the model was fitted on.
        movies: The release's movies table; saved with an ``n_ratings`` column.
        metrics: Evaluation figures for the manifest.
        extra: JSON-ready context (dataset, split, ...).
    """
    rated = rated_csr(model, train)
    arrays: dict[str, np.ndarray] = {
        "indptr": np.asarray(rated.indptr, dtype=np.int64),
        "indices": np.asarray(rated.indices, dtype=np.int32),
        "ratings": np.asarray(rated.data, dtype=np.float32),
    }
    table = None
    if movies is not None:
        counts = np.bincount(rated.indices, minlength=rated.shape[1]).astype(np.int64)
        movie_ids = model.parameters()["movie_ids"]
        count_table = pl.DataFrame(
            {"movie_id": pl.Series(movie_ids, dtype=pl.Int64), "n_ratings": counts}
        )
        table = (
            movies.drop("n_ratings", strict=False)
            .join(count_table, on="movie_id", how="left", maintain_order="left")
            .with_columns(pl.col("n_ratings").fill_null(0))
        )
    return save_model(
        model,
        directory,
        metrics=metrics,
        extra=extra,
        movies=table,
        attachments={RATED_NAME: save_safetensors(arrays)},
    )


def load_training_view(
    directory: Path,
    model: Recommender[Any],
    manifest: Manifest,
    settings: Settings | None,
    *,
    dataset: str | None = None,
) -> tuple[TrainingView | None, pl.DataFrame | None]:
    """The training view and movies table saved with the model.

    What was not saved comes from the release ``dataset`` or else the one the manifest names
    (loaded once); without one the view is None (no known user's rated movies, counts unknown)
    or the table is None.
    """
    directory = Path(directory)
    data = read_attachment(directory, RATED_NAME)
    table = read_movies(directory)
    release = dataset if dataset is not None else manifest.extra.get("dataset")
    loaded = None
    if (data is None or table is None) and isinstance(release, str):
        loaded = _dataset(release, manifest, settings)
    shape = (model.n_users, model.n_movies)
    rated = None
    if data is not None:
        rated = _read_rated(directory / RATED_NAME, data, shape)
    elif loaded is not None:
        rated = rated_csr(model, _training_ratings(model, manifest, loaded, settings))
    if table is None and loaded is not None:
        table = loaded.movies
    if rated is None:
        return None, table
    rated.data.setflags(write=False)
    counts = np.bincount(rated.indices, minlength=shape[1]).astype(np.int64)
    return TrainingView(rated, counts), table


def _read_rated(path: Path, data: memoryview, shape: tuple[int, int]) -> sp.csr_matrix:
    try:
        arrays = tensor_views(data)
        indptr = np.asarray(arrays["indptr"], dtype=np.int64)
        indices = np.asarray(arrays["indices"], dtype=np.int32)
        ratings = np.asarray(arrays["ratings"], dtype=np.float32)
    except (KeyError, ValueError) as error:  # TensorFormatError is a ValueError
        raise ModelFormatError(f"{path}: not the rated-movies arrays ({error})") from None
    sound = (
        indptr.shape == (shape[0] + 1,)
        and indices.shape == ratings.shape
        and indptr[0] == 0
        and indptr[-1] == indices.size
        and bool(np.all(np.diff(indptr) >= 0))
        and (indices.size == 0 or (indices.min() >= 0 and indices.max() < shape[1]))
    )
    if not sound:
        raise ModelFormatError(f"{path}: rated-movies arrays do not fit a {shape} model")
    return sp.csr_matrix((ratings, indices, indptr), shape=shape)


def _dataset(name: str, manifest: Manifest, settings: Settings | None) -> Dataset:
    from matinee.data.loader import load_dataset

    settings = settings if settings is not None else Settings.from_env(show_progress=False)
    log.info("%s lacks saved movies or rated movies; loading %s", manifest.model, name)
    return load_dataset(name, settings=settings)


def _training_ratings(
    model: Recommender[Any], manifest: Manifest, dataset: Dataset, settings: Settings | None
) -> Ratings:
    """The ratings the model was trained on: the whole release or the split's training part."""
    ratings = dataset.ratings
    spec = manifest.extra.get("split")
    if ratings.fingerprint() == model.data_fingerprint_ or not isinstance(spec, str):
        return ratings
    if spec.strip().lower() in WHOLE_DATA:
        return ratings
    from matinee.data.split_spec import split_from_spec

    settings = settings if settings is not None else Settings.from_env(show_progress=False)
    for split in split_from_spec(dataset, spec, settings=settings):
        if split.train.fingerprint() == model.data_fingerprint_:
            return split.train
    log.warning("no split %s of %s matches the model's data; using every rating", spec, dataset)
    return ratings
