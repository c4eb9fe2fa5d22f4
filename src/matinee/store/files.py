"""Save and load models as a directory of data: safetensors arrays plus ``manifest.json``.

Layout of a saved model (format 2; format 1 used the plain names)::

    DIR/manifest.json                   see :class:`~matinee.store.manifest.Manifest`
    DIR/parameters-<sha12>.safetensors  every array of ``model.parameters()`` (id maps included)
    DIR/movies-<sha12>.parquet          optional: movie_id, title, year, genres, and
                                        n_ratings (training ratings per movie) where given
    DIR/<attachment>-<sha12>            optional files a caller adds (listed likewise)

``manifest.json`` is the commit point (:mod:`matinee.store.commit`): a save writes its files
beside the old ones and then replaces the manifest in one rename, so the path always holds one
whole model, old or new, even if the writer is killed. A reader reads the manifest once and then
the files it names, and starts again (a few times) if a concurrent save removed one meanwhile.
Loading parses JSON and raw arrays only (no pickle, no code), checks the format version, every
file's sha256, every array's name, shape and dtype, and the values (:mod:`matinee.store.checks`).
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
from safetensors.numpy import save as save_safetensors

from matinee.atomic import check_not_busy, check_replaceable
from matinee.errors import ConfigError, MatineeError, ModelFormatError, NotFittedError
from matinee.models.base import Recommender
from matinee.store.checks import check_arrays, check_model_arguments, parse_movies
from matinee.store.commit import commit_files
from matinee.store.manifest import MANIFEST_NAME, ArraySpec, Manifest
from matinee.store.tensors import TensorFormatError, tensor_views

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


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


READ_ATTEMPTS = 3
"""How many times a reader starts again when a concurrent save removed a file it was reading."""


class _VanishedError(ModelFormatError):
    """A file the manifest named was removed before it could be read (a save replaced it)."""


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
        ConfigError: ``directory`` is a file, lies under a file, or is a folder holding
            anything else; nothing is touched.
        OutputError: ``directory``'s folder cannot be written to.
        BusyError: another process is saving to ``directory`` now.
    """
    final = check_replaceable(directory, recognise=is_saved_model, what=_WHAT)
    check_not_busy(final)
    return final


def listed_files(directory: Path) -> set[str]:
    """The names on disk of the files ``directory``'s manifest lists (empty if unreadable)."""
    try:
        manifest = read_manifest(directory)
    except ModelFormatError:
        return set()
    return {manifest.stored(name) for name in manifest.files}


def save_model(
    model: Recommender[Any],
    directory: Path,
    *,
    metrics: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
    movies: pl.DataFrame | None = None,
    attachments: Mapping[str, bytes] | None = None,
) -> Path:
    """Write a fitted model to ``directory`` crash-safely and return the directory.

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
        ConfigError: ``directory`` exists and is not a saved model (refused, to protect it), or
            an argument has the wrong type.
        BusyError: another process kept ``directory`` locked too long.
        OutputError: the files could not be written (the folder is left as it was).
    """
    directory = check_model_arguments(model, directory, metrics, extra, movies)
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
    write_model(model, directory, files, specs, metrics=metrics, extra=extra)
    return directory


def write_model(
    model: Recommender[Any],
    directory: Path,
    files: Mapping[str, bytes],
    specs: Mapping[str, ArraySpec],
    *,
    metrics: Mapping[str, float] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Commit ``files`` (plain name -> bytes) and their manifest as the saved model ``directory``.

    Any set of files may be saved this way; each is listed in the manifest with its sha256 and
    stored under its content-addressed name.
    """
    manifest = Manifest(
        model=model.name,
        config=model.config.to_dict(),
        arrays=dict(specs),
        files={name: _sha256(data) for name, data in files.items()},
        data_fingerprint=model.data_fingerprint_,
        history=[dict(record) for record in model.history_],
        metrics={key: float(value) for key, value in (metrics or {}).items()},
        extra=dict(extra or {}),
    )
    try:
        manifest_bytes = manifest.to_json().encode()
    except (TypeError, ValueError) as error:
        raise ConfigError(f"the manifest cannot be written as JSON: {error}") from None
    stored = {manifest.stored(name): data for name, data in files.items()}
    commit_files(
        directory,
        stored,
        manifest_bytes,
        recognise=is_saved_model,
        listed=listed_files,
        what=_WHAT,
    )
    log.info("saved %s to %s", model.name, directory)


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


def _verified_bytes(directory: Path, manifest: Manifest, name: str) -> memoryview:
    if name not in manifest.files:
        raise ModelFormatError(f"{directory / MANIFEST_NAME} lists no checksum for {name}")
    path = directory / manifest.stored(name)
    try:
        data = _read_writable(path)
    except FileNotFoundError:
        raise _VanishedError(f"{path} is missing") from None
    except OSError as error:
        raise ModelFormatError(f"{path} cannot be read: {error}") from None
    if _sha256(data) != manifest.files[name]:
        raise ModelFormatError(
            f"{path} is truncated or was modified: its sha256 differs from the manifest's"
        )
    return data


def _read_writable(path: Path) -> memoryview:
    """The file's bytes, read into a fresh writable buffer.

    Arrays viewing it are writable, as the library's were (torch warns on read-only ones); the
    buffer is not zero-filled first (``bytearray(n)`` would, holding the GIL, ~90 ms for 380 MB
    on a busy machine) and the read itself releases the GIL.
    """
    with path.open("rb") as handle:
        buffer = np.empty(os.fstat(handle.fileno()).st_size, dtype=np.uint8).data
        if handle.readinto(buffer) != buffer.nbytes or handle.read(1):
            raise _VanishedError(f"{path} changed size while being read")
    return buffer


def _checked_arrays(path: Path, data: memoryview, manifest: Manifest) -> dict[str, np.ndarray]:
    try:
        arrays = tensor_views(data)
    except TensorFormatError as error:
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
    check_arrays(path, arrays)
    return arrays


@runtime_checkable
class _Movable(Protocol):
    """A model whose network can move to a torch device (the neural models)."""

    def to_device(self, device: str) -> None:
        """Move the model's network to ``device``."""
        ...


def _read_consistent(directory: Path, name: str) -> tuple[Manifest, memoryview | None]:
    """The manifest and the bytes of its file ``name`` (None if not listed), from one save.

    A concurrent save may commit a new manifest and remove the old files between our reading
    the manifest and the file; then we start again with the new manifest.
    """
    for attempt in range(1, READ_ATTEMPTS + 1):
        manifest = read_manifest(directory)
        if name not in manifest.files:
            return manifest, None
        try:
            return manifest, _verified_bytes(directory, manifest, name)
        except _VanishedError:
            if attempt == READ_ATTEMPTS:
                raise
            log.debug("%s changed while being read; reading it again", directory)
    raise AssertionError("unreachable")


def load_model(directory: Path, *, device: str | None = None) -> Recommender[Any]:
    """Load a model saved by :func:`save_model`; never executes code from the files.

    Args:
        directory: The saved model's folder.
        device: Torch device (``"cpu"``, ``"cuda"``) for neural models' networks; None keeps
            each model's default. Models without a network compute on the CPU and ignore it.

    Raises:
        ConfigError: ``directory`` is not a path.
        ModelFormatError: A missing, unreadable, truncated, tampered or too-new file, or arrays
            that do not fit the model (non-finite values, a reversed rating scale, unsorted or
            repeated ids, wrong shapes); the message names the file.
    """
    directory = _as_path(directory, "load_model")
    manifest, data = _read_consistent(directory, PARAMETERS_NAME)
    path = directory / manifest.stored(PARAMETERS_NAME) if data is not None else directory
    if data is None:
        raise ModelFormatError(f"{directory / MANIFEST_NAME} lists no {PARAMETERS_NAME}")
    arrays = _checked_arrays(path, data, manifest)
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
            f"{path}: arrays do not fit a {manifest.model} model: {error}"
        ) from None
    model.history_ = [dict(record) for record in manifest.history]
    model.data_fingerprint_ = manifest.data_fingerprint
    if device is not None and isinstance(model, _Movable):
        model.to_device(device)
    return model


def read_attachment(directory: Path, name: str) -> memoryview | None:
    """The bytes of a file saved with ``attachments`` (checksum verified), or None if absent."""
    directory = _as_path(directory, "read_attachment")
    return _read_consistent(directory, name)[1]


def _as_path(directory: object, caller: str) -> Path:
    if not isinstance(directory, str | os.PathLike):
        raise ConfigError(
            f"{caller} takes a folder path (str or Path), got {type(directory).__name__}"
        )
    return Path(directory)


def read_movies(directory: Path) -> pl.DataFrame | None:
    """The movies table saved with the model (checksum verified), or None if none was saved."""
    directory = _as_path(directory, "read_movies")
    manifest, data = _read_consistent(directory, MOVIES_NAME)
    if data is None:
        return None
    return parse_movies(directory / manifest.stored(MOVIES_NAME), data)
