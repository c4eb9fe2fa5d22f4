"""Crash-safe writing of a saved-model folder: the manifest is the commit point.

A save holds the folder's writer lock (:func:`matinee.atomic.writer_lock`) throughout. Into an
absent or empty folder it builds a staging folder beside the target and renames it in whole. Over
an existing saved model it leaves the folder in place: each file is written under its
content-addressed name (:func:`~matinee.store.manifest.stored_name`) through a temporary file that
is fsynced and renamed, then ``manifest.json`` is replaced in one rename (the commit), and only
then are the files no manifest names removed. A kill at any moment leaves the old model or the new
one whole at the path; the next save sweeps up the rest.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from matinee.atomic import check_replaceable, fsync_directory, sweep_debris, writer_lock
from matinee.errors import OutputError
from matinee.store.manifest import MANIFEST_NAME

__all__ = ["TEMP_PREFIX", "commit_files"]

log = logging.getLogger(__name__)

TEMP_PREFIX = ".matinee-tmp-"
"""Prefix of a file being written inside a saved-model folder (debris if a save was killed)."""

_CONTENT_NAME = re.compile(r".+-[0-9a-f]{12}(\.[A-Za-z0-9]+)?")


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _place(folder: Path, name: str, data: bytes) -> None:
    """Write ``folder/name`` whole: a fsynced temporary file renamed over it."""
    temp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{name}"
    try:
        _write_file(temp, data)
        os.replace(temp, folder / name)
    finally:
        temp.unlink(missing_ok=True)


def commit_files(
    directory: Path,
    files: Mapping[str, bytes],
    manifest: bytes,
    *,
    recognise: Callable[[Path], bool],
    listed: Callable[[Path], set[str]],
    what: str,
) -> None:
    """Write ``files`` (name on disk -> bytes) and then ``manifest`` as the folder ``directory``.

    Args:
        directory: The saved-model folder: absent, empty, or one ``recognise`` accepts.
        files: Every file but the manifest, by its name on disk.
        manifest: The bytes of ``manifest.json``, written last.
        recognise: Whether a folder is a saved model (so may be replaced).
        listed: The names on disk that a folder's current manifest lists (for clean-up).
        what: What a saved model is called in messages.

    Raises:
        ConfigError: ``directory`` is not replaceable.
        BusyError: another writer held the folder too long.
        OutputError: a file could not be written; the folder is left as it was.
    """
    check_replaceable(directory, recognise=recognise, what=what)
    with writer_lock(directory):
        sweep_debris(directory, recognise=recognise)
        check_replaceable(directory, recognise=recognise, what=what)
        try:
            if directory.is_dir() and recognise(directory):
                _update_in_place(directory, files, manifest, listed)
            else:
                _write_fresh(directory, files, manifest)
        except OSError as error:
            raise OutputError(f"{directory}: the save failed and was undone: {error}") from None


def _write_fresh(directory: Path, files: Mapping[str, bytes], manifest: bytes) -> None:
    staging = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        for name, data in files.items():
            _write_file(staging / name, data)
        _write_file(staging / MANIFEST_NAME, manifest)
        fsync_directory(staging)
        os.replace(staging, directory)
        fsync_directory(directory.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _update_in_place(
    directory: Path,
    files: Mapping[str, bytes],
    manifest: bytes,
    listed: Callable[[Path], set[str]],
) -> None:
    previous = listed(directory)
    for name, data in files.items():
        _place(directory, name, data)
    fsync_directory(directory)
    _place(directory, MANIFEST_NAME, manifest)
    fsync_directory(directory)
    keep = set(files) | {MANIFEST_NAME}
    for entry in directory.iterdir():
        ours = entry.name in previous or entry.name.startswith(TEMP_PREFIX)
        if (
            entry.is_file()
            and entry.name not in keep
            and (ours or _CONTENT_NAME.fullmatch(entry.name))
        ):
            log.debug("removing %s, no longer named by the manifest", entry)
            entry.unlink(missing_ok=True)
