"""Saved models on ml-100k (from the mirror) shared by the service tests: quick to train."""

from __future__ import annotations

from pathlib import Path

import pytest

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.models.baselines.baseline import BiasBaseline
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.service import ModelBundle, save_bundle
from matinee.settings import Settings


@pytest.fixture(scope="session")
def ml100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


@pytest.fixture(scope="session")
def saved(ml100k: Dataset, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of bundles saved the way ``matinee train`` saves: ease, biased-mf, baseline."""
    root = tmp_path_factory.mktemp("bundles")
    models = {
        "ease": EASE(EASEConfig(regularization=300.0)),
        "biased-mf": BiasedMF(BiasedMFConfig(epochs=15, seed=1)),
        "baseline": BiasBaseline(),
    }
    for name, model in models.items():
        model.fit(ml100k.ratings)
        save_bundle(
            model,
            root / name,
            train=ml100k.ratings,
            movies=ml100k.movies,
            extra={"dataset": "ml-100k", "split": "all"},
        )
    return root


@pytest.fixture(scope="session")
def ease(saved: Path) -> ModelBundle:
    return ModelBundle.load(saved / "ease")


@pytest.fixture(scope="session")
def mf(saved: Path) -> ModelBundle:
    return ModelBundle.load(saved / "biased-mf")


@pytest.fixture(scope="session")
def baseline(saved: Path) -> ModelBundle:
    return ModelBundle.load(saved / "baseline")
