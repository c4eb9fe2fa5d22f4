"""matinee.evaluation.tuning: the search protocol, its files, and the search spaces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matinee.data.split import Split
from matinee.errors import ConfigError
from matinee.evaluation.tuning import TuneSettings, inner_splits, parse_metric, tune
from matinee.evaluation.tuning_results import write_tune_files
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig
from matinee.models.config_text import config_from_file
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.models.registry import available_models, model_class
from matinee.models.search import Choice, FloatRange, IntRange, parse_dimension, search_space


def _rows(ratings: object) -> set[tuple[int, int]]:
    return set(zip(ratings.user_idx.tolist(), ratings.movie_idx.tolist(), strict=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize("folds", [1, 3])
def test_inner_splits_cut_the_training_part_only(canonical_split: Split, folds: int) -> None:
    inners = inner_splits(canonical_split, TuneSettings(inner_folds=folds))
    assert len(inners) == folds
    outer_train, outer_test = _rows(canonical_split.train), _rows(canonical_split.test)
    for inner in inners:
        seen = _rows(inner.train) | _rows(inner.test)
        assert seen == outer_train and not seen & outer_test
        assert not _rows(inner.train) & _rows(inner.test)


@pytest.fixture(scope="module")
def subset(canonical_split: Split) -> Split:
    """u1 cut to its first 300 users: small enough for a few-trial search in seconds."""
    keep_train = canonical_split.train.user_idx < 300
    keep_test = canonical_split.test.user_idx < 300
    return Split(
        canonical_split.train.take(keep_train), canonical_split.test.take(keep_test), name="u1/300"
    )


def test_a_three_trial_search_scores_its_best_once_on_test(subset: Split, tmp_path: Path) -> None:
    space = {"n_factors": IntRange(8, 64, log=True), "reg": FloatRange(0.02, 0.2, log=True)}
    base = BiasedMFConfig(epochs=25)
    result = tune(BiasedMF, subset, settings=TuneSettings(trials=3), space=space, base=base)
    assert len(result.trials) == 3
    complete = [t for t in result.trials if t.state == "complete" and t.value is not None]
    assert result.best_value == min(t.value for t in complete if t.value is not None)
    best = result.best_config
    assert isinstance(best, BiasedMFConfig)
    assert 8 <= best.n_factors <= 64 and 0.02 <= best.reg <= 0.2
    assert 1 <= best.epochs <= 25  # the epoch that scored on validation
    assert 0.85 < result.test_metrics["rmse"] < 1.05
    files = write_tune_files(result, tmp_path)
    assert config_from_file(BiasedMFConfig, "biased-mf", files["best.json"]) == best
    rows = json.loads(files["trials.json"].read_text())["trials"]
    assert [row["trial"] for row in rows] == [0, 1, 2]
    assert files["trials.csv"].read_text().splitlines()[0].startswith("trial,state,value")


def test_the_same_seed_gives_the_same_search(subset: Split) -> None:
    settings = TuneSettings(trials=3, seed=4)
    first, second = (tune(BiasBaseline, subset, settings=settings) for _ in range(2))
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert first.best_config == second.best_config
    other = tune(BiasBaseline, subset, settings=TuneSettings(trials=3, seed=5))
    assert [t.params for t in other.trials] != [t.params for t in first.trials]


def test_a_hopeless_trial_is_pruned(subset: Split) -> None:
    # Eight trials of biased MF whose learning rate spans 200x: the slow ones fall behind.
    space = {"learning_rate": FloatRange(0.0002, 0.04, log=True)}
    settings = TuneSettings(trials=8, seed=1)
    result = tune(BiasedMF, subset, settings=settings, space=space, base=BiasedMFConfig(epochs=20))
    states = [t.state for t in result.trials]
    assert "pruned" in states and "complete" in states


def test_bad_settings_are_refused(subset: Split) -> None:
    with pytest.raises(ConfigError, match="ranks and predicts no ratings"):
        tune(model_class("item-knn"), subset, settings=TuneSettings(trials=1))
    with pytest.raises(ConfigError, match="no search space"):
        tune(model_class("global-mean"), subset, settings=TuneSettings(trials=1))
    with pytest.raises(ConfigError, match="metric"):
        TuneSettings(metric="ndcg")
    with pytest.raises(ConfigError, match="trials"):
        TuneSettings(trials=0)
    assert parse_metric("NDCG@5") == ("ndcg", 5)


def test_space_text_follows_the_field_types() -> None:
    assert parse_dimension(BiasedMFConfig, "n_factors=8:128:log") == (
        "n_factors",
        IntRange(8, 128, log=True),
    )
    assert parse_dimension(BiasedMFConfig, "reg=0.01:0.1") == ("reg", FloatRange(0.01, 0.1))
    assert parse_dimension(BiasedMFConfig, "solver=sgd,als") == ("solver", Choice(("sgd", "als")))
    for text, message in [
        ("n_factors", "key=low:high"),
        ("colour=1:2", "no field"),
        ("reg=0.1", "cannot read"),
        ("reg=0:1:log", "low > 0"),
        ("reg=1:0", "low <= high"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_dimension(BiasedMFConfig, text)


@pytest.mark.parametrize("name", available_models())
def test_every_declared_space_fits_its_config(name: str) -> None:
    config_type = model_class(name).config_type
    for key, dim in search_space(config_type).items():
        values = dim.values if isinstance(dim, Choice) else (dim.low, dim.high)
        for value in values:
            config_type(**{key: value})  # both ends are valid settings


def test_the_baseline_declares_its_regularisation() -> None:
    assert set(search_space(BiasBaselineConfig)) == {"reg_users", "reg_movies"}
    assert np.isfinite(search_space(BiasBaselineConfig)["reg_users"].high)  # type: ignore[union-attr]
