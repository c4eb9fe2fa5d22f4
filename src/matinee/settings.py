"""Settings read once at an entry point and passed down (no hidden globals)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

__all__ = ["Settings"]


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where Matinee keeps and finds data."""

    cache_dir: Path
    """Per-user cache of downloaded releases and their parsed columnar copies."""

    mirror: Path | None = None
    """A local folder holding release zips or unpacked folders, read instead of downloading."""

    show_progress: bool = True
    """Draw progress bars for long work."""

    @classmethod
    def from_env(cls, *, show_progress: bool = True) -> Settings:
        """Read ``MATINEE_CACHE_DIR`` and ``MATINEE_DATA_MIRROR``, falling back to platform dirs."""
        cache = os.environ.get("MATINEE_CACHE_DIR")
        mirror = os.environ.get("MATINEE_DATA_MIRROR")
        return cls(
            cache_dir=Path(cache) if cache else Path(platformdirs.user_cache_dir("matinee")),
            mirror=Path(mirror).expanduser().resolve() if mirror else None,
            show_progress=show_progress,
        )
