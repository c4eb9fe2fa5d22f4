"""Download a file with a progress bar, verify it, and only then put it in place.

The bytes go to a temporary file beside the destination while being hashed; the file is renamed
onto the destination only when the size and checksums match. Any failure removes the temporary
file, so a destination either holds a verified file or does not exist.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from matinee.errors import ChecksumError, DownloadError
from matinee.logs import progress

__all__ = ["CHUNK_BYTES", "TIMEOUT_S", "fetch", "fetch_md5", "file_digest", "offline_hint"]

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
"""Bytes read per step while downloading or hashing."""

TIMEOUT_S = 30.0
"""Seconds to wait for the connection and then for each read before a download is abandoned
(urllib applies it to every socket operation, so a stalled server fails instead of hanging)."""

_MD5_PATTERN = re.compile(r"\b([0-9a-fA-F]{32})\b")


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks (``algorithm`` is any :mod:`hashlib` name)."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_md5(url: str) -> str:
    """The md5 stated in a GroupLens ``.md5`` file (``MD5 (x.zip) = ...`` or ``... x.zip``)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            text = response.read(4096).decode("ascii", errors="replace")
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DownloadError(
            f"could not read checksum file {url}: {_reason(error)}. Without network access, "
            "set MATINEE_DATA_MIRROR to a folder of release zips (see `matinee data list`)"
        ) from error
    match = _MD5_PATTERN.search(text)
    if match is None:
        raise DownloadError(f"checksum file {url} holds no md5: {text[:80]!r}")
    return match.group(1).lower()


def fetch(
    url: str,
    dest: Path,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    expected_size: int | None = None,
    show_progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest``, verifying its size and checksums before it appears there.

    Args:
        url: What to download (any URL :mod:`urllib` opens).
        dest: Final path; its folder is created when missing.
        sha256: Expected sha256 (hex), checked when given.
        md5: Expected md5 (hex), checked when given.
        expected_size: Expected size in bytes, checked when given.
        show_progress: Draw a Rich progress bar with bytes and speed.

    Returns:
        ``dest``.

    Raises:
        DownloadError: The server or network failed, or the size differs.
        ChecksumError: A checksum differs; the downloaded bytes are removed.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            digests = _download_into(url, out, dest, expected_size, show_progress)
        _verify(url, temp, digests, {"sha256": sha256, "md5": md5}, expected_size)
        os.replace(temp, dest)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    log.info("downloaded %s to %s", url, dest)
    return dest


def _download_into(
    url: str, out: BinaryIO, dest: Path, expected_size: int | None, show_progress: bool
) -> dict[str, hashlib._Hash]:
    """Stream ``url`` into ``out`` (on its way to ``dest``); return the running digests."""
    digests = {"sha256": hashlib.sha256(), "md5": hashlib.md5(usedforsecurity=False)}
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else expected_size
            with progress(
                f"Downloading {url.rsplit('/', 1)[-1]}",
                total,
                enabled=show_progress,
                transfer=True,
            ) as bar:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    for digest in digests.values():
                        digest.update(chunk)
                    bar.advance(len(chunk))
    except urllib.error.HTTPError as error:
        raise DownloadError(
            f"downloading {url} failed: HTTP {error.code} {error.reason}{offline_hint(dest)}"
        ) from error
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise DownloadError(
            f"downloading {url} failed: {_reason(error)}{offline_hint(dest)}"
        ) from error
    return digests


def _reason(error: BaseException) -> str:
    """What went wrong, in words (a timeout says how long was waited)."""
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(cause, TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    return str(cause)


def offline_hint(dest: Path) -> str:
    """How to do without the network: the mirror variable, its layout, and the cache folder."""
    return (
        f". Without network access, set MATINEE_DATA_MIRROR to a folder of release zips "
        f"(it should hold {dest.name}, as downloaded from GroupLens, or {dest.stem}/ with the "
        f"zip or its unpacked files); downloads are kept in {dest.parent} "
        "(set MATINEE_CACHE_DIR to move the cache)"
    )


def _verify(
    url: str,
    temp: Path,
    digests: dict[str, hashlib._Hash],
    expected: dict[str, str | None],
    expected_size: int | None,
) -> None:
    """Raise unless the downloaded file has the expected size and checksums."""
    size = temp.stat().st_size
    if expected_size is not None and size != expected_size:
        raise DownloadError(f"downloading {url}: got {size:,} bytes, expected {expected_size:,}")
    for algorithm, want in expected.items():
        if want is None:
            continue
        actual = digests[algorithm].hexdigest()
        if actual != want.lower():
            raise ChecksumError(url, algorithm, want.lower(), actual)
