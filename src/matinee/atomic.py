"""Atomic writes: a file or a folder appears whole or not at all.

Everything Matinee writes (saved models, reports, figures, tables, synthetic releases) is built
beside its target under a temporary name and moved into place with :func:`os.replace`, so an
interrupted write never leaves a half-written target behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from matinee.errors import ConfigError

__all__ = ["atomic_directory", "atomic_file", "check_replaceable", "write_text_atomic"]


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


def check_replaceable(
    target: str | os.PathLike[str], *, recognise: Callable[[Path], bool], what: str
) -> Path:
    """Refuse ``target`` unless it is absent, an empty folder, or a folder ``recognise`` accepts.

    Called before long work (training) as well as just before writing, so that a folder that is
    not a ``what`` is never replaced and the user learns it before waiting for anything.

    Raises:
        ConfigError: ``target`` is a file, or a non-empty folder that is not a ``what``.
    """
    final = Path(target)
    if final.exists() and not final.is_dir():
        raise ConfigError(f"{final} exists and is not a directory; choose another path")
    if final.is_dir() and any(final.iterdir()) and not recognise(final):
        raise ConfigError(
            f"{final} is a non-empty folder but not {what}; refusing to replace it "
            "(choose an empty or new folder)"
        )
    return final


@contextmanager
def atomic_directory(
    target: str | os.PathLike[str], *, recognise: Callable[[Path], bool], what: str
) -> Iterator[Path]:
    """Yield a staging folder that replaces ``target`` whole when the block succeeds.

    ``target`` may be missing, empty, or an earlier folder of the same kind (one that
    ``recognise`` accepts); anything else is refused rather than overwritten. An old folder is
    renamed aside, the new one moved in, and only then is the old one removed.

    Raises:
        ConfigError: ``target`` is a file, or a non-empty folder that is not a ``what``.
    """
    final = check_replaceable(target, recognise=recognise, what=what)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        yield staging
        _swap_in(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, final: Path) -> None:
    if not final.exists():
        os.replace(staging, final)
        return
    aside = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:12]}"
    os.replace(final, aside)
    try:
        os.replace(staging, final)
    except OSError:
        os.replace(aside, final)
        raise
    shutil.rmtree(aside, ignore_errors=True)
