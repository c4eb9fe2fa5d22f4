"""Load a MovieLens release: columnar cache, then local mirror, then download from GroupLens.

The parsed columnar cache lives in :mod:`matinee.data.cache`. Its key is the source checksum:
``sha256-<hex>`` for a zip whose GroupLens sha256 is known (verified before parsing), otherwise
``stat-<hash>`` of the names, sizes and modification times of the source files (an unpacked
folder, or a zip without a published sha256), which costs a few ``stat`` calls instead of
hashing hundreds of megabytes on every load.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from matinee.data.cache import (
    CACHE_FORMAT_VERSION,
    cache_entry,
    read_cache,
    wait_for_cache_writes,
    write_cache_in_background,
)
from matinee.data.dataset import Dataset
from matinee.data.download import fetch, fetch_md5, file_digest
from matinee.data.readers import LAYOUT_RATINGS_FILE, READERS, Source
from matinee.data.releases import LayoutKind, Release, get_release
from matinee.errors import ChecksumError, ConfigError, DataError, DownloadError
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


LAYOUT_SCALES: dict[LayoutKind, tuple[float, float]] = {
    "ml-100k": (1.0, 5.0),
    "ml-1m": (1.0, 5.0),
    "ml-10m": (0.5, 5.0),
    "csv": (0.5, 5.0),
}
"""Rating scale of each layout, for a user's own copy of a release."""


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
        cached = read_cache(settings.cache_dir, release.name, f"sha256-{release.sha256}")
        if cached is not None:
            return cached
    if path is None:
        path = _download(release, settings)
    key = _source_key(release, path)
    cached = read_cache(settings.cache_dir, release.name, key)
    if cached is not None:
        return cached
    _verify(release, path, settings)
    dataset = _read(path, release.layout, release.name, release.rating_scale)
    dataset = dataclasses.replace(dataset, source_checksum=key)
    write_cache_in_background(settings.cache_dir, dataset)
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
    wait_for_cache_writes()
    entries = cache_entry(settings.cache_dir, release.name, "_").parent
    return ReleaseStatus(
        release=release,
        mirrored=_mirror_source(release, settings.mirror) if settings.mirror else None,
        downloaded=downloaded if downloaded.is_file() else None,
        cached=entries.is_dir() and any(entries.glob("*/meta.json")),
    )


def read_local(path: str | os.PathLike[str], *, layout: LayoutKind | None = None) -> Dataset:
    """Read a user's own copy of any MovieLens layout (a folder or a zip), detecting the layout.

    Raises:
        ConfigError: ``path`` is not a path or ``layout`` is not a known layout.
        DataError: the files are missing, damaged or malformed (the message names the file).
    """
    if not isinstance(path, str | os.PathLike):
        raise ConfigError(f"read_local takes a path (str or Path), got {type(path).__name__}")
    source, found = detect_layout(Path(path), layout=layout)
    name = (source.prefix.rstrip("/").rsplit("/", 1)[-1]) or source.path.stem
    return READERS[found](source, name=name, rating_scale=LAYOUT_SCALES[found])


def detect_layout(path: Path, *, layout: LayoutKind | None = None) -> tuple[Source, LayoutKind]:
    """Find the folder holding a ratings file in ``path`` or one level down, and its layout.

    ``u.data`` means ml-100k, ``ratings.dat`` beside ``users.dat`` ml-1m, without it ml-10m, and
    ``ratings.csv`` the CSV layout.
    """
    if layout is not None and layout not in LAYOUT_RATINGS_FILE:
        raise ConfigError(
            f"unknown layout {layout!r}; known layouts: {', '.join(sorted(LAYOUT_RATINGS_FILE))}"
        )
    path = Path(path)
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
