"""The columnar cache of parsed releases: written once, off the caller's path; mapped after.

Each parsed release is kept under ``<cache>/parsed/<name>/<key>/`` as raw ``.npy`` arrays (ratings
and id maps), Arrow IPC tables (movies, tags, users) and a ``meta.json`` holding every array's
length and every file's CRC-32, so a second load maps arrays instead of parsing text, and a
truncated or altered entry is detected and rebuilt. Arrays are memory-mapped read-only (measured:
about half the CPU of reading them into fresh memory); entries are only ever replaced whole, by
renaming a new folder in, so a mapped file is never changed under a reader.

Writing an entry of 25M ratings moves 500 MB to disk, which takes as long as parsing them, so it
happens on a background thread: the caller gets the parsed data at once. The thread is joined
before the interpreter exits, and a read of an entry still being written waits for it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matinee.data.dataset import Dataset
from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import DataError

__all__ = [
    "CACHE_FORMAT_VERSION",
    "cache_entry",
    "read_cache",
    "wait_for_cache_writes",
    "write_cache",
    "write_cache_in_background",
]

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
"""Bumped whenever the layout of a parsed cache entry changes (old entries are then rebuilt)."""

STALE_TEMP_SECONDS = 3600
"""A temporary entry folder this old was left by a process that died while writing it."""

_ARRAYS = ("user_idx", "movie_idx", "rating", "timestamp", "user_ids", "movie_ids")
_TABLES = ("movies", "tags", "users")

_lock = threading.Lock()
_pending: dict[Path, Future[None]] = {}
_writer: ThreadPoolExecutor | None = None


def _reset_after_fork() -> None:
    """A forked child has no writer thread: its copies of pending writes would never finish."""
    global _lock, _writer
    _lock = threading.Lock()
    _pending.clear()
    _writer = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def cache_entry(cache_dir: Path, name: str, key: str) -> Path:
    """The folder of one parsed release in the cache."""
    return cache_dir / "parsed" / name / key


def write_cache_in_background(cache_dir: Path, dataset: Dataset) -> None:
    """Start writing ``dataset`` into the cache on the writer thread, and return at once."""
    global _writer
    entry = cache_entry(cache_dir, dataset.name, dataset.source_checksum)
    with _lock:
        if _writer is None:
            _writer = ThreadPoolExecutor(1, thread_name_prefix="matinee-cache")
        future = _writer.submit(write_cache, cache_dir, dataset)
        _pending[entry] = future
    future.add_done_callback(lambda done: _forget(entry, done))


def _forget(entry: Path, done: Future[None]) -> None:
    with _lock:
        if _pending.get(entry) is done:
            del _pending[entry]


def wait_for_cache_writes() -> None:
    """Block until every cache entry started by this process is written."""
    with _lock:
        futures = list(_pending.values())
    for future in futures:
        future.result()


def write_cache(cache_dir: Path, dataset: Dataset) -> None:
    """Write a parsed dataset into its cache entry atomically (temp folder, then rename).

    A failure is logged, not raised: the cache only saves time.
    """
    root = cache_entry(cache_dir, dataset.name, dataset.source_checksum).parent
    root.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        files = _write_entry_files(temp, dataset)
        meta = {
            "format_version": CACHE_FORMAT_VERSION,
            "name": dataset.name,
            "source_checksum": dataset.source_checksum,
            "rating_scale": list(dataset.ratings.rating_scale),
            "files": files,
        }
        (temp / "meta.json").write_text(json.dumps(meta, indent=2))
        final = root / dataset.source_checksum
        shutil.rmtree(final, ignore_errors=True)
        os.replace(temp, final)
    except OSError as error:
        log.warning("could not write the parsed cache of %s: %s", dataset.name, error)
        shutil.rmtree(temp, ignore_errors=True)
        return
    _remove_stale(root, keep=dataset.source_checksum)


def _remove_stale(root: Path, keep: str) -> None:
    """Remove other keys' entries, and temporary folders that a dead writer left behind."""
    for stale in root.iterdir():
        if stale.name == keep:
            continue
        if stale.name.startswith(".tmp-"):
            try:
                if time.time() - stale.stat().st_mtime < STALE_TEMP_SECONDS:
                    continue
            except OSError:
                continue
        shutil.rmtree(stale, ignore_errors=True)


def _crc(data: bytes | memoryview) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _write_entry_files(folder: Path, dataset: Dataset) -> dict[str, dict[str, int]]:
    ratings = dataset.ratings
    arrays: dict[str, np.ndarray] = {
        "user_idx": ratings.user_idx,
        "movie_idx": ratings.movie_idx,
        "rating": ratings.rating,
        "timestamp": ratings.timestamp,
        "user_ids": ratings.users.raw_ids,
        "movie_ids": ratings.movies.raw_ids,
    }
    files: dict[str, dict[str, int]] = {}
    for name, array in arrays.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
        files[f"{name}.npy"] = {
            "crc32": _crc(np.ascontiguousarray(array).data),
            "length": len(array),
        }
    for name in _TABLES:
        table = getattr(dataset, name)
        if table is not None:
            table.write_ipc(folder / f"{name}.arrow")
            files[f"{name}.arrow"] = {"crc32": _crc((folder / f"{name}.arrow").read_bytes())}
    return files


def read_cache(cache_dir: Path, name: str, key: str) -> Dataset | None:
    """The cached dataset for ``key``, or None when missing; a corrupt entry is removed."""
    folder = cache_entry(cache_dir, name, key)
    with _lock:
        pending = _pending.get(folder)
    if pending is not None:
        pending.result()
    if not (folder / "meta.json").is_file():
        return None
    try:
        return _read_entry(folder, name, key)
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        DataError,
        pl.exceptions.PolarsError,
    ) as error:
        log.warning("parsed cache of %s at %s is unusable (%s); rebuilding it", name, folder, error)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _checked_meta(folder: Path, key: str) -> dict[str, Any]:
    """``meta.json`` of an entry, checked for the types every later step relies on."""
    meta = json.loads((folder / "meta.json").read_text())
    if not isinstance(meta, dict):
        raise ValueError(f"meta.json holds a JSON {type(meta).__name__}, not an object")
    if meta.get("format_version") != CACHE_FORMAT_VERSION or meta.get("source_checksum") != key:
        raise ValueError(f"format {meta.get('format_version')} or key does not match")
    files, scale = meta.get("files"), meta.get("rating_scale")
    if not isinstance(files, dict) or not all(
        isinstance(entry, dict) and _is_int(entry.get("crc32")) for entry in files.values()
    ):
        raise ValueError("meta.json 'files' must map names to {crc32, length}")
    if not isinstance(scale, list) or len(scale) != 2 or not all(_is_number(v) for v in scale):
        raise ValueError(f"meta.json 'rating_scale' must be [low, high], got {scale!r}")
    if not float(scale[0]) < float(scale[1]):
        raise ValueError(f"meta.json 'rating_scale' {scale} is not low < high")
    return meta


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def _check_ratings(arrays: dict[str, np.ndarray], scale: tuple[float, float]) -> None:
    """Refuse cached columns that no reader could have written (the CRCs may be rebuilt too)."""
    n_users, n_movies = len(arrays["user_ids"]), len(arrays["movie_ids"])
    sizes = {len(arrays[name]) for name in ("user_idx", "movie_idx", "rating", "timestamp")}
    if len(sizes) != 1:
        raise ValueError(f"rating columns have different lengths {sorted(sizes)}")
    for ids in ("user_ids", "movie_ids"):
        raw = arrays[ids]
        if raw.dtype.kind not in "iu" or (raw.size > 1 and not bool(np.all(raw[1:] > raw[:-1]))):
            raise ValueError(f"{ids}.npy must hold unique sorted integers")
    rating = arrays["rating"]
    # NaN makes min and max NaN, and a NaN comparison is False: one check covers both.
    if rating.size and not (scale[0] <= float(rating.min()) and float(rating.max()) <= scale[1]):
        raise ValueError(f"rating.npy holds values outside the scale {scale[0]}-{scale[1]}")
    for idx, bound in (("user_idx", n_users), ("movie_idx", n_movies)):
        column = arrays[idx]
        if column.dtype.kind not in "iu" or (
            column.size and not 0 <= column.min() <= column.max() < bound
        ):
            raise ValueError(f"{idx}.npy holds indices outside 0..{bound - 1}")


def _read_entry(folder: Path, name: str, key: str) -> Dataset:
    meta = _checked_meta(folder, key)
    files: dict[str, dict[str, int]] = meta["files"]
    arrays = {}
    for array_name in _ARRAYS:
        expected = files[f"{array_name}.npy"]
        array = np.load(folder / f"{array_name}.npy", mmap_mode="r", allow_pickle=False)
        if len(array) != expected["length"] or _crc(memoryview(array)) != expected["crc32"]:
            raise ValueError(f"{array_name}.npy does not match its checksum")
        arrays[array_name] = array
    tables: dict[str, pl.DataFrame | None] = {}
    for table_name in _TABLES:
        entry = files.get(f"{table_name}.arrow")
        tables[table_name] = None
        if entry is not None:
            data = (folder / f"{table_name}.arrow").read_bytes()
            if _crc(data) != entry["crc32"]:
                raise ValueError(f"{table_name}.arrow does not match its checksum")
            tables[table_name] = pl.read_ipc(io.BytesIO(data))
    low, high = (float(v) for v in meta["rating_scale"])
    _check_ratings(arrays, (low, high))
    ratings = Ratings(
        arrays["user_idx"],
        arrays["movie_idx"],
        arrays["rating"],
        arrays["timestamp"],
        IdMap(arrays["user_ids"], kind="user"),
        IdMap(arrays["movie_ids"], kind="movie"),
        (float(low), float(high)),
    )
    movies = tables["movies"]
    if movies is None:
        raise ValueError("movies.arrow is missing")
    return Dataset(name, ratings, movies, tables["tags"], tables["users"], key)
