"""Atomic writes: a file or a folder appears whole or not at all, even under kill -9.

Everything Matinee writes (saved models, reports, figures, tables, synthetic releases) is built
beside its target under a temporary name and moved into place with :func:`os.replace`, so an
interrupted write never leaves a half-written target behind. Writers of one folder are serialised
by an ``fcntl`` lock on ``.NAME.lock`` beside it (removed when released); under that lock,
whatever a killed writer left (``.NAME.tmp-*`` staging folders, ``.NAME.old-*`` folders set
aside) is swept away, and a folder set aside by a writer killed before its successor moved in is
put back.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from matinee.errors import BusyError, ConfigError, OutputError

__all__ = [
    "LOCK_WAIT_SECONDS",
    "atomic_directory",
    "atomic_file",
    "check_not_busy",
    "check_replaceable",
    "check_writable",
    "fsync_directory",
    "lock_path",
    "sweep_debris",
    "write_text_atomic",
    "writer_lock",
]

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 60.0
"""How long a writer waits for another writer of the same folder before giving up."""


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, else it is removed.

    The caller writes the whole file to the yielded path (any writer that takes a path).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, mode)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_file(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)


def fsync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries (renames, new files) to disk."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def check_writable(target: str | os.PathLike[str]) -> Path:
    """Refuse ``target`` unless the folder that would hold it can be created and written to.

    Raises:
        ConfigError: a parent of ``target`` is a regular file.
        OutputError: the nearest existing parent cannot be written to.
    """
    final = Path(target)
    ancestor = final.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ConfigError(f"{final}: {ancestor} is a file, not a folder; choose another path")
    probe_dir = final if final.is_dir() else ancestor
    try:
        # An unnamed file (O_TMPFILE on Linux): a writer killed here leaves nothing behind.
        with tempfile.TemporaryFile(prefix=".matinee-probe-", dir=probe_dir):
            pass
    except OSError as error:
        raise OutputError(f"{final}: cannot write in {probe_dir}: {error.strerror}") from None
    return final


def check_replaceable(
    target: str | os.PathLike[str], *, recognise: Callable[[Path], bool], what: str
) -> Path:
    """Refuse ``target`` unless it is absent, an empty folder, or a folder ``recognise`` accepts.

    Called before long work (training) as well as just before writing, so that a folder that is
    not a ``what`` is never replaced and the user learns it before waiting for anything. The
    folder must also be writable (:func:`check_writable`).

    Raises:
        ConfigError: ``target`` is a file, lies under a file, or is a non-empty folder that is
            not a ``what``.
        OutputError: ``target``'s folder cannot be written to.
    """
    final = Path(target)
    if final.exists() and not final.is_dir():
        raise ConfigError(f"{final} exists and is not a directory; choose another path")
    if final.is_dir() and any(final.iterdir()) and not recognise(final):
        raise ConfigError(
            f"{final} is a non-empty folder but not {what}; refusing to replace it "
            "(choose an empty or new folder)"
        )
    return check_writable(final)


def lock_path(target: Path) -> Path:
    """The lock file that serialises writers of ``target``: ``.NAME.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


@contextmanager
def writer_lock(target: Path, *, wait: float | None = None) -> Iterator[None]:
    """Hold the exclusive writer lock of ``target`` (waiting up to ``wait`` seconds).

    ``wait`` defaults to :data:`LOCK_WAIT_SECONDS`.

    The lock is an ``fcntl.flock`` on :func:`lock_path`; the kernel drops it when its holder
    dies, so a killed writer never blocks later ones. The holder removes the lock file before
    letting go, and a waiter that then wins a lock on the removed file tries again, so no
    lock file is left behind and two writers never both hold one.

    Raises:
        BusyError: another writer held the lock for all of ``wait`` seconds.
    """
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = LOCK_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if _try_lock(handle) and _is_current(handle, path):
            break
        os.close(handle)
        if time.monotonic() >= deadline:
            raise BusyError(
                f"{target} is being written by another process (lock {path} held for "
                f"{wait:.0f}s); try again when it has finished"
            )
        time.sleep(0.01)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(handle)


def _is_current(handle: int, path: Path) -> bool:
    """Whether the locked ``handle`` is still the file at ``path`` (not one removed since)."""
    try:
        here = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(handle)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _try_lock(handle: int) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
            return False
        raise
    return True


def check_not_busy(target: Path) -> None:
    """Refuse ``target`` at once if another process is writing it (its lock is held).

    Raises:
        BusyError: the writer lock of ``target`` is held now.
    """
    if lock_path(target).exists():
        with writer_lock(target, wait=0.0):
            pass


def sweep_debris(target: Path, *, recognise: Callable[[Path], bool]) -> None:
    """Clean up what killed writers of ``target`` left; call it holding :func:`writer_lock`.

    A ``.NAME.old-*`` folder that ``recognise`` accepts is moved back when ``target`` is gone
    (a writer died between setting the old folder aside and moving the new one in); every other
    ``.NAME.tmp-*`` or ``.NAME.old-*`` entry is removed unless a live writer still holds its
    claim (:func:`_claim`): old folders are only made under the writer lock, and a staging
    folder's claim dies with its writer.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    prefixes = (f".{target.name}.tmp-", f".{target.name}.old-")
    debris = sorted(p for p in parent.iterdir() if p.name.startswith(prefixes))
    for entry in debris:
        if _claimed(entry):
            continue
        if not target.exists() and entry.name.startswith(prefixes[1]) and recognise(entry):
            os.replace(entry, target)
            log.warning("restored %s from %s, left by an interrupted write", target, entry.name)
            continue
        log.info("removing %s, left by an interrupted write", entry)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _claim(entry: Path) -> int:
    """Lock ``entry`` (a staging folder) for as long as the returned descriptor is open."""
    handle = os.open(entry, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle


def _claimed(entry: Path) -> bool:
    """Whether a live writer holds ``entry``'s claim."""
    try:
        handle = os.open(entry, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not _try_lock(handle)
    finally:
        os.close(handle)


@contextmanager
def atomic_directory(
    target: str | os.PathLike[str], *, recognise: Callable[[Path], bool], what: str
) -> Iterator[Path]:
    """Yield a staging folder that replaces ``target`` whole when the block succeeds.

    ``target`` may be missing, empty, or an earlier folder of the same kind (one that
    ``recognise`` accepts); anything else is refused rather than overwritten. The swap holds the
    writer lock: an old folder is renamed aside, the new one moved in, and only then is the old
    one removed; a writer killed between the two renames is repaired by the next writer.

    Raises:
        ConfigError: ``target`` is a file, or a non-empty folder that is not a ``what``.
        BusyError: another writer kept ``target`` locked too long.
    """
    final = check_replaceable(target, recognise=recognise, what=what)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    claim = _claim(staging)
    try:
        yield staging
        with writer_lock(final):
            sweep_debris(final, recognise=recognise)
            check_replaceable(final, recognise=recognise, what=what)
            _swap_in(staging, final)
    finally:
        os.close(claim)
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, final: Path) -> None:
    if not final.exists():
        os.replace(staging, final)
        fsync_directory(final.parent)
        return
    aside = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(final, aside)
    try:
        os.replace(staging, final)
    except OSError:
        os.replace(aside, final)
        raise
    fsync_directory(final.parent)
    shutil.rmtree(aside, ignore_errors=True)
