"""Save and load models as a directory of data: safetensors arrays plus ``manifest.json``.

Layout of a saved model::

    DIR/manifest.json           see :class:`~matinee.store.manifest.Manifest`
    DIR/parameters.safetensors  every array of ``model.parameters()`` (id maps included)
    DIR/movies.parquet          optional: movie_id, title, year, genres (titles without the data)
                                and n_ratings (training ratings per movie) where it was given
    DIR/<attachment>            optional files a caller adds (listed and checksummed likewise)

Writing goes to a temporary directory beside the target that then replaces it with
``os.replace``; an existing saved model is moved aside first and removed afterwards, so a reader
never sees a half-written directory. Loading parses JSON and raw arrays only (no pickle, no code),
checks the format version, every file's sha256, and every array's name, shape and dtype.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import polars as pl
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors
from safetensors.numpy import save as save_safetensors

from matinee.atomic import atomic_directory, check_replaceable
from matinee.errors import ConfigError, MatineeError, ModelFormatError, NotFittedError
from matinee.models.base import Recommender
from matinee.store.manifest import MANIFEST_NAME, ArraySpec, Manifest

__all__ = [
    "MOVIES_NAME",
    "PARAMETERS_NAME",
    "check_model_target",
    "is_saved_model",
    "load_model",
    "read_attachment",
    "read_manifest",
    "read_movies",
    "save_model",
]

log = logging.getLogger(__name__)

PARAMETERS_NAME = "parameters.safetensors"
MOVIES_NAME = "movies.parquet"
MOVIE_TABLE_COLUMNS = ("movie_id", "title", "year", "genres")
OPTIONAL_MOVIE_COLUMNS = ("n_ratings",)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _parameter_bytes(model: Recommender[Any]) -> tuple[bytes, dict[str, ArraySpec]]:
    arrays: dict[str, np.ndarray] = {}
    for name, value in model.parameters().items():
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in "biuf":
            raise ModelFormatError(
                f"{model.name}: parameter {name!r} has unsavable dtype {array.dtype}"
            )
        arrays[name] = array
    specs = {
        name: ArraySpec(tuple(int(n) for n in a.shape), str(a.dtype)) for name, a in arrays.items()
    }
    return save_safetensors(arrays), specs


def _movie_bytes(movies: pl.DataFrame, movie_ids: np.ndarray) -> bytes:
    """The movies the model knows, as Parquet bytes."""
    missing = [column for column in MOVIE_TABLE_COLUMNS if column not in movies.columns]
    if missing:
        raise ConfigError(f"the movies table lacks column(s) {missing}")
    known = pl.Series("movie_id", np.asarray(movie_ids, dtype=np.int64))
    columns = [*MOVIE_TABLE_COLUMNS, *(c for c in OPTIONAL_MOVIE_COLUMNS if c in movies.columns)]
    table = movies.select(columns).filter(pl.col("movie_id").is_in(known.implode()))
    buffer = io.BytesIO()
    table.write_parquet(buffer)
    return buffer.getvalue()


_WHAT = "a Matinee saved model"


def is_saved_model(directory: Path) -> bool:
    """Whether ``directory`` holds a Matinee saved model: a manifest with Matinee's own keys.

    Any ``manifest.json`` is not enough (web projects have one too): the file must be a JSON
    object naming a format version, a model, its arrays and its files' checksums. A model saved
    by a newer Matinee counts, so that it may be replaced, though this one cannot load it.
    """
    try:
        data = json.loads((Path(directory) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and isinstance(data.get("format_version"), int)
        and isinstance(data.get("model"), str)
        and isinstance(data.get("arrays"), dict)
        and isinstance(data.get("files"), dict)
    )


def check_model_target(directory: Path) -> Path:
    """Refuse ``directory`` as a place to save a model unless it is new, empty or a saved model.

    Raises:
        ConfigError: ``directory`` is a file or a folder holding anything else; nothing is
            touched.
    """
    return check_replaceable(directory, recognise=is_saved_model, what=_WHAT)


def save_model(
    model: Recommender[Any],
    directory: Path,
    *,
    metrics: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
    movies: pl.DataFrame | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> Path:
    """Write a fitted model to ``directory`` atomically and return the directory.

    Args:
        model: A fitted model of a registered class.
        directory: Target directory; an existing saved model there is replaced.
        metrics: Evaluation figures to record in the manifest.
        extra: JSON-ready context (for example the dataset and split trained on).
        movies: Optional movies table (movie_id, title, year, genres, optionally n_ratings)
            stored for display.
        attachments: Further files by plain name (for example what the service layer needs to
            answer without the dataset), written and checksummed with the rest.

    Raises:
        NotFittedError: The model is not fitted.
        ConfigError: ``directory`` exists and is not a saved model (refused, to protect it).
    """
    directory = Path(directory)
    if not model.is_fitted:
        raise NotFittedError(f"{type(model).__name__} is not fitted; fit it before saving")
    files: dict[str, bytes] = {}
    files[PARAMETERS_NAME], specs = _parameter_bytes(model)
    if movies is not None:
        files[MOVIES_NAME] = _movie_bytes(movies, model.parameters()["movie_ids"])
    for name, data in (attachments or {}).items():
        if name in (MANIFEST_NAME, PARAMETERS_NAME, MOVIES_NAME) or Path(name).name != name:
            raise ConfigError(f"attachment name {name!r} must be a new plain file name")
        files[name] = bytes(data)
    manifest = Manifest(
        model=model.name,
        config=model.config.to_dict(),
        arrays=specs,
        files={name: _sha256(data) for name, data in files.items()},
        data_fingerprint=model.data_fingerprint_,
        history=[dict(record) for record in model.history_],
        metrics={key: float(value) for key, value in (metrics or {}).items()},
        extra=dict(extra or {}),
    )
    try:
        files[MANIFEST_NAME] = manifest.to_json().encode()
    except (TypeError, ValueError) as error:
        raise ConfigError(f"the manifest cannot be written as JSON: {error}") from None
    with atomic_directory(directory, recognise=is_saved_model, what=_WHAT) as staging:
        for name, data in files.items():
            _write_file(staging / name, data)
    log.info("saved %s to %s", model.name, directory)
    return directory


def read_manifest(directory: Path) -> Manifest:
    """Parse and check ``DIR/manifest.json`` (not the other files)."""
    path = Path(directory) / MANIFEST_NAME
    if not Path(directory).is_dir():
        raise ModelFormatError(f"{directory} is not a saved model directory (it does not exist)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFormatError(f"{path} is missing; {directory} is not a saved model") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFormatError(f"{path} cannot be read: {error}") from None
    return Manifest.from_json(text, source=str(path))


def _verified_bytes(directory: Path, manifest: Manifest, name: str) -> bytes:
    if name not in manifest.files:
        raise ModelFormatError(f"{directory / MANIFEST_NAME} lists no checksum for {name}")
    path = directory / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ModelFormatError(f"{path} is missing") from None
    except OSError as error:
        raise ModelFormatError(f"{path} cannot be read: {error}") from None
    if _sha256(data) != manifest.files[name]:
        raise ModelFormatError(
            f"{path} is truncated or was modified: its sha256 differs from the manifest's"
        )
    return data


def _checked_arrays(path: Path, data: bytes, manifest: Manifest) -> dict[str, np.ndarray]:
    try:
        arrays: dict[str, np.ndarray] = load_safetensors(data)
    except (SafetensorError, ValueError) as error:
        raise ModelFormatError(f"{path} is not a valid safetensors file: {error}") from None
    if set(arrays) != set(manifest.arrays):
        missing = sorted(set(manifest.arrays) - set(arrays))
        surplus = sorted(set(arrays) - set(manifest.arrays))
        raise ModelFormatError(
            f"{path}: arrays differ from the manifest (missing {missing}, extra {surplus})"
        )
    for name, spec in manifest.arrays.items():
        array = arrays[name]
        if array.shape != spec.shape or str(array.dtype) != spec.dtype:
            raise ModelFormatError(
                f"{path}: array {name!r} is {array.dtype}{list(array.shape)}, "
                f"the manifest says {spec.dtype}{list(spec.shape)}"
            )
    return arrays


@runtime_checkable
class _Movable(Protocol):
    """A model whose network can move to a torch device (the neural models)."""

    def to_device(self, device: str) -> None:
        """Move the model's network to ``device``."""
        ...


def load_model(directory: Path, *, device: str | None = None) -> Recommender[Any]:
    """Load a model saved by :func:`save_model`; never executes code from the files.

    Args:
        directory: The saved model's folder.
        device: Torch device (``"cpu"``, ``"cuda"``) for neural models' networks; None keeps
            each model's default. Models without a network compute on the CPU and ignore it.

    Raises:
        ModelFormatError: A missing, unreadable, truncated, tampered or too-new file, or arrays
            that do not fit the model; the message names the file.
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    data = _verified_bytes(directory, manifest, PARAMETERS_NAME)
    arrays = _checked_arrays(directory / PARAMETERS_NAME, data, manifest)
    from matinee.models.registry import model_class

    try:
        cls = model_class(manifest.model)
        config = cls.config_type.from_dict(manifest.config)
    except ConfigError as error:
        raise ModelFormatError(f"{directory / MANIFEST_NAME}: {error}") from None
    try:
        model = cls.from_parameters(config, arrays)
    except ModelFormatError:
        raise
    except (MatineeError, KeyError, ValueError, TypeError, IndexError) as error:
        raise ModelFormatError(
            f"{directory / PARAMETERS_NAME}: arrays do not fit a {manifest.model} model: {error}"
        ) from None
    model.history_ = [dict(record) for record in manifest.history]
    model.data_fingerprint_ = manifest.data_fingerprint
    if device is not None and isinstance(model, _Movable):
        model.to_device(device)
    return model


def read_attachment(directory: Path, name: str) -> bytes | None:
    """The bytes of a file saved with ``attachments`` (checksum verified), or None if absent."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if name not in manifest.files:
        return None
    return _verified_bytes(directory, manifest, name)


def read_movies(directory: Path) -> pl.DataFrame | None:
    """The movies table saved with the model (checksum verified), or None if none was saved."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if MOVIES_NAME not in manifest.files:
        return None
    data = _verified_bytes(directory, manifest, MOVIES_NAME)
    try:
        return pl.read_parquet(data)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise ModelFormatError(
            f"{directory / MOVIES_NAME} is not a valid Parquet file: {error}"
        ) from None
