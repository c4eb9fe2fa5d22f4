"""Pytest fixtures of the test kit: the data mirror, settings, tiny data and the u1 fold.

A project's ``conftest.py`` imports the ones it wants by name, for example
``from matinee.testing.fixtures import canonical_split, settings, mirror``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from matinee.data.canonical import canonical_split as read_canonical_split
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.settings import Settings
from matinee.testing import low_rank_ratings, tiny_ratings

__all__ = ["canonical_split", "low_rank", "mirror", "rng", "settings", "tiny"]

MIRROR_VARIABLE = "MATINEE_DATA_MIRROR"
"""The environment variable naming the folder of genuine MovieLens copies."""


@pytest.fixture
def rng() -> np.random.Generator:
    """A generator seeded the same in every test."""
    return np.random.default_rng(42)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The genuine MovieLens mirror named by ``MATINEE_DATA_MIRROR``."""
    value = os.environ.get(MIRROR_VARIABLE)
    if not value:
        pytest.fail(f"set {MIRROR_VARIABLE} to the folder of MovieLens copies")
    path = Path(value).resolve()
    if not path.is_dir():
        pytest.fail(f"MovieLens mirror not found at {path}; set {MIRROR_VARIABLE}")
    return path


@pytest.fixture(scope="session")
def settings(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings reading the mirror, with a cache private to this test session."""
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"), mirror=mirror, show_progress=False)


@pytest.fixture(scope="session")
def canonical_split(settings: Settings) -> Split:
    """The published ml-100k ``u1`` fold (80,000 train and 20,000 test ratings)."""
    return read_canonical_split(load_dataset("ml-100k", settings=settings), "u1", settings=settings)


@pytest.fixture(scope="session")
def low_rank() -> Callable[..., tuple[Ratings, Ratings]]:
    """:func:`matinee.testing.low_rank_ratings`, as a fixture."""
    return low_rank_ratings


@pytest.fixture
def tiny() -> Ratings:
    """:func:`matinee.testing.tiny_ratings`: five users, four movies, twelve ratings."""
    return tiny_ratings()
