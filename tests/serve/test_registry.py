"""The model registry in process: whole swaps, held bundles, refusals and the watcher."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from matinee.errors import ConfigError
from matinee.serve import ModelRegistry, ServeLimits
from matinee.serve.errors import UnknownModelError
from matinee.store.files import PARAMETERS_NAME, read_manifest

from .conftest import EASE_REG, Models, save_ease

pytestmark = pytest.mark.slow


@pytest.fixture
def ease_dir(models: Models, tmp_path: Path) -> Path:
    directory = tmp_path / "ease"
    shutil.copytree(models.ease, directory)
    return directory


def break_parameters(directory: Path) -> None:
    """Replace ``directory`` whole with a copy whose parameters are truncated."""
    staging = directory.with_name("staging")
    shutil.copytree(directory, staging)
    (staging / read_manifest(staging).stored(PARAMETERS_NAME)).write_bytes(b"truncated")
    aside = directory.with_name("aside")
    os.replace(directory, aside)
    os.replace(staging, directory)
    shutil.rmtree(aside)


def test_reload_swaps_whole_and_held_bundles_keep_answering(ease_dir: Path) -> None:
    registry = ModelRegistry([ease_dir])
    held = registry.get()
    first = held.recommend_new_user({1: 5.0, 50: 4.0}, k=5)
    assert registry.reload(only_changed=True).reloaded == []
    outcome = registry.reload()
    assert outcome.reloaded == ["ease"] and outcome.refused == {}
    assert registry.get() is not held
    assert held.recommend_new_user({1: 5.0, 50: 4.0}, k=5) == first


def test_broken_version_refused_once_then_good_one_taken(ease_dir: Path, models: Models) -> None:
    registry = ModelRegistry([ease_dir])
    held = registry.get()
    break_parameters(ease_dir)
    outcome = registry.reload(only_changed=True)
    assert outcome.reloaded == [] and "parameters" in outcome.refused["ease"]
    assert registry.get() is held
    slot = registry.slots()[0]
    assert slot.last_reload_error == outcome.refused["ease"]
    assert slot.describe()["last_reload_error"] == outcome.refused["ease"]
    assert registry.reload(only_changed=True).refused == {}
    save_ease(models.data, ease_dir, regularization=100.0)
    assert registry.reload(only_changed=True).reloaded == ["ease"]
    assert registry.slots()[0].last_reload_error is None
    assert registry.get().manifest.config[EASE_REG] == 100.0


def test_missing_directory_mid_swap_is_not_an_error_for_the_watcher(ease_dir: Path) -> None:
    registry = ModelRegistry([ease_dir])
    os.replace(ease_dir, ease_dir.with_name("aside"))
    assert registry.reload(only_changed=True).refused == {}
    assert "ease" in registry.reload().refused
    assert registry.get().name == "ease"


def test_watcher_swaps_a_replaced_directory(ease_dir: Path, models: Models) -> None:
    registry = ModelRegistry([ease_dir])
    watcher = registry.watch(0.1)
    try:
        save_ease(models.data, ease_dir, regularization=60.0)
        deadline = time.monotonic() + 60
        while registry.get().manifest.config[EASE_REG] != 60.0:
            assert time.monotonic() < deadline, "the watcher did not swap the model in"
            time.sleep(0.1)
    finally:
        watcher.stop()


def test_unknown_names_and_bad_limits(ease_dir: Path) -> None:
    registry = ModelRegistry([ease_dir])
    with pytest.raises(UnknownModelError, match="nope"):
        registry.get("nope")
    with pytest.raises(UnknownModelError, match="nope"):
        registry.reload("nope")
    error = UnknownModelError("nope", ["ease", "mf"])
    assert str(error) == "unknown model 'nope'; loaded: ease, mf" and error.known == ["ease", "mf"]
    with pytest.raises(ConfigError, match="scoring_threads"):
        ServeLimits(scoring_threads=0)
    with pytest.raises(ConfigError, match="max_ratings"):
        ServeLimits(max_ratings=2.5)  # type: ignore[arg-type]
