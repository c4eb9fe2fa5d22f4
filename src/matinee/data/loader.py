"""Load a MovieLens release: columnar cache, then local mirror, then download from GroupLens.

Each parsed release is kept under ``<cache>/parsed/<name>/<key>/`` as raw ``.npy`` arrays (ratings
and id maps), Arrow IPC tables (movies, tags, users) and a ``meta.json`` holding every array's
length and every file's CRC-32, so a second load maps arrays instead of parsing text, and a
truncated or altered entry is detected and rebuilt. Arrays are memory-mapped read-only (measured:
about half the CPU of reading them into fresh memory); entries are only ever replaced whole, by
renaming a new folder in, so a mapped file is never changed under a reader.

The key is the source checksum: ``sha256-<hex>`` for a zip whose GroupLens sha256 is known
(verified before parsing), otherwise ``stat-<hash>`` of the names, sizes and modification times
of the source files (an unpacked folder, or a zip without a published sha256), which costs a few
``stat`` calls instead of hashing hundreds of megabytes on every load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from matinee.data.dataset import Dataset
from matinee.data.download import fetch, fetch_md5, file_digest
from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.data.readers import LAYOUT_RATINGS_FILE, READERS, Source
from matinee.data.releases import LayoutKind, Release, get_release
from matinee.errors import ChecksumError, DataError, DownloadError
from matinee.settings import Settings

__all__ = [
    "CACHE_FORMAT_VERSION",
    "ReleaseStatus",
    "detect_layout",
    "load_dataset",
    "read_local",
    "release_path",
    "release_status",
]

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
"""Bumped whenever the layout of a parsed cache entry changes (old entries are then rebuilt)."""

LAYOUT_SCALES: dict[LayoutKind, tuple[float, float]] = {
    "ml-100k": (1.0, 5.0),
    "ml-1m": (1.0, 5.0),
    "ml-10m": (0.5, 5.0),
    "csv": (0.5, 5.0),
}
"""Rating scale of each layout, for a user's own copy of a release."""

_ARRAYS = ("user_idx", "movie_idx", "rating", "timestamp", "user_ids", "movie_ids")
_TABLES = ("movies", "tags", "users")


@dataclass(frozen=True)
class ReleaseStatus:
    """Where a release can be found on this machine."""

    release: Release
    mirrored: Path | None
    """The zip or folder in the mirror, if any."""
    downloaded: Path | None
    """The zip downloaded into the cache, if any."""
    cached: bool
    """Whether a parsed columnar copy is in the cache."""


def load_dataset(name: str, *, settings: Settings | None = None) -> Dataset:
    """Load a release by name: parsed cache hit, else mirror (zip or folder), else download."""
    settings = settings if settings is not None else Settings.from_env()
    release = get_release(name)
    path = _local_source(release, settings)
    if path is None and release.sha256 is not None:
        cached = _read_cache(settings, release.name, f"sha256-{release.sha256}")
        if cached is not None:
            return cached
    if path is None:
        path = _download(release, settings)
    key = _source_key(release, path)
    cached = _read_cache(settings, release.name, key)
    if cached is not None:
        return cached
    _verify(release, path, settings)
    dataset = _read(path, release.layout, release.name, release.rating_scale)
    dataset = dataclasses.replace(dataset, source_checksum=key)
    _write_cache(settings, dataset)
    return dataset


def release_path(name: str, *, settings: Settings | None = None) -> Path:
    """The local zip or folder of a release, downloading it when neither mirror nor cache has it."""
    settings = settings if settings is not None else Settings.from_env()
    release = get_release(name)
    path = _local_source(release, settings)
    return path if path is not None else _download(release, settings)


def release_status(name: str, *, settings: Settings | None = None) -> ReleaseStatus:
    """Whether a release is mirrored, downloaded and parsed here (reads nothing but folders)."""
    settings = settings if settings is not None else Settings.from_env()
    release = get_release(name)
    downloaded = _download_path(release, settings)
    entries = settings.cache_dir / "parsed" / release.name
    return ReleaseStatus(
        release=release,
        mirrored=_mirror_source(release, settings.mirror) if settings.mirror else None,
        downloaded=downloaded if downloaded.is_file() else None,
        cached=entries.is_dir() and any(entries.glob("*/meta.json")),
    )


def read_local(path: Path, *, layout: LayoutKind | None = None) -> Dataset:
    """Read a user's own copy of any MovieLens layout (a folder or a zip), detecting the layout."""
    source, found = detect_layout(path, layout=layout)
    name = (source.prefix.rstrip("/").rsplit("/", 1)[-1]) or source.path.stem
    return READERS[found](source, name=name, rating_scale=LAYOUT_SCALES[found])


def detect_layout(path: Path, *, layout: LayoutKind | None = None) -> tuple[Source, LayoutKind]:
    """Find the folder holding a ratings file in ``path`` or one level down, and its layout.

    ``u.data`` means ml-100k, ``ratings.dat`` beside ``users.dat`` ml-1m, without it ml-10m, and
    ``ratings.csv`` the CSV layout.
    """
    if not path.exists():
        raise DataError(f"{path} does not exist")
    names = _member_names(path)
    wanted = (
        {LAYOUT_RATINGS_FILE[layout][0]} if layout else {"u.data", "ratings.dat", "ratings.csv"}
    )
    hits = sorted((name.count("/"), name) for name in names if name.rsplit("/", 1)[-1] in wanted)
    if not hits or hits[0][0] > 1:
        raise DataError(
            f"{path}: no MovieLens ratings file ({', '.join(sorted(wanted))}) found in it "
            "or in a folder directly below it"
        )
    found = hits[0][1]
    prefix = found[: found.rfind("/") + 1]
    source = Source(path, prefix)
    if layout is not None:
        return source, layout
    base = found.rsplit("/", 1)[-1]
    if base == "u.data":
        return source, "ml-100k"
    if base == "ratings.csv":
        return source, "csv"
    return source, "ml-1m" if prefix + "users.dat" in names else "ml-10m"


def _member_names(path: Path) -> set[str]:
    """Files of a zip, or of a folder and its direct subfolders, as ``a/b`` relative names."""
    if path.is_file():
        try:
            with zipfile.ZipFile(path) as archive:
                return set(archive.NameToInfo)
        except zipfile.BadZipFile as error:
            raise DataError(f"{path} is not a readable zip: {error}") from error
    names = {child.name for child in path.iterdir() if child.is_file()}
    for folder in (child for child in path.iterdir() if child.is_dir()):
        names |= {f"{folder.name}/{child.name}" for child in folder.iterdir() if child.is_file()}
    return names


def _read(path: Path, layout: LayoutKind, name: str, rating_scale: tuple[float, float]) -> Dataset:
    source, found = detect_layout(path, layout=layout)
    return READERS[found](source, name=name, rating_scale=rating_scale)


def _mirror_source(release: Release, mirror: Path) -> Path | None:
    """The zip or unpacked folder of ``release`` in a mirror folder, if there is one.

    Looked for: ``<name>/`` (the files, the zip's folder, or the zip inside), ``<name>.zip``, and,
    for releases GroupLens still serves, the zip and its folder under GroupLens's own names.
    Older versions live only under their dated name, so they never shadow the current release.
    """
    own = mirror / release.name
    candidates = [own / release.zip_name, own, own / release.folder, mirror / f"{release.name}.zip"]
    if release.served_by_grouplens:
        candidates += [mirror / release.zip_name, mirror / release.folder]
    ratings_file = LAYOUT_RATINGS_FILE[release.layout][0]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix == ".zip":
            return candidate
        if candidate.is_dir() and (
            (candidate / ratings_file).is_file() or (candidate / release.folder).is_dir()
        ):
            return candidate
    return None


def _download_path(release: Release, settings: Settings) -> Path:
    return settings.cache_dir / "zips" / f"{release.name}.zip"


def _local_source(release: Release, settings: Settings) -> Path | None:
    """The release's zip or folder in the mirror, else its downloaded zip, else None."""
    if settings.mirror is not None:
        found = _mirror_source(release, settings.mirror)
        if found is not None:
            return found
    downloaded = _download_path(release, settings)
    return downloaded if downloaded.is_file() else None


def _download(release: Release, settings: Settings) -> Path:
    """Download a release zip from GroupLens into the cache, verified by sha256 or GroupLens md5."""
    if not release.served_by_grouplens:
        raise DownloadError(
            f"{release.name} is no longer served by GroupLens; put its zip in the folder named by "
            f"MATINEE_DATA_MIRROR as {release.name}/{release.zip_name}"
        )
    md5 = None
    if release.sha256 is None and release.md5_url is not None:
        md5 = fetch_md5(release.md5_url)
    return fetch(
        release.url,
        _download_path(release, settings),
        sha256=release.sha256,
        md5=md5,
        expected_size=release.zip_size,
        show_progress=settings.show_progress,
    )


def _source_key(release: Release, path: Path) -> str:
    """Cache key of a source: its known sha256, or a hash of its files' names, sizes and times."""
    if path.is_file() and release.sha256 is not None:
        return f"sha256-{release.sha256}"
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        digest.update(
            f"{file.relative_to(path.parent)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
        )
    return f"stat-{digest.hexdigest()[:32]}"


def _verify(release: Release, path: Path, settings: Settings) -> None:
    """Check a zip against the release's sha256 when known; a bad download is removed."""
    if not path.is_file() or release.sha256 is None:
        return
    actual = file_digest(path)
    if actual != release.sha256:
        if path == _download_path(release, settings):
            path.unlink(missing_ok=True)
        raise ChecksumError(path, "sha256", release.sha256, actual)


def _crc(data: bytes | memoryview) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def _write_cache(settings: Settings, dataset: Dataset) -> None:
    """Write a parsed dataset into its cache entry atomically (temp folder, then rename)."""
    root = settings.cache_dir / "parsed" / dataset.name
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
    for stale in root.iterdir():
        if stale.name != dataset.source_checksum and not stale.name.startswith(".tmp-"):
            shutil.rmtree(stale, ignore_errors=True)


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


def _read_cache(settings: Settings, name: str, key: str) -> Dataset | None:
    """The cached dataset for ``key``, or None when missing; a corrupt entry is removed."""
    folder = settings.cache_dir / "parsed" / name / key
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


def _read_entry(folder: Path, name: str, key: str) -> Dataset:
    meta: dict[str, Any] = json.loads((folder / "meta.json").read_text())
    if meta.get("format_version") != CACHE_FORMAT_VERSION or meta.get("source_checksum") != key:
        raise ValueError(f"format {meta.get('format_version')} or key does not match")
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
    low, high = meta["rating_scale"]
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
