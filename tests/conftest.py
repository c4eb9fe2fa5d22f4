"""Shared fixtures: the test kit's (:mod:`matinee.testing.fixtures`) and this checkout's mirror."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from matinee.testing.fixtures import canonical_split, low_rank, rng, settings, tiny

__all__ = ["canonical_split", "low_rank", "mirror", "rng", "settings", "tiny"]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The genuine MovieLens mirror (MATINEE_DATA_MIRROR, else ../shared/data)."""
    path = Path(os.environ.get("MATINEE_DATA_MIRROR", DEFAULT_MIRROR)).resolve()
    if not path.is_dir():
        pytest.fail(f"MovieLens mirror not found at {path}; set MATINEE_DATA_MIRROR")
    return path
