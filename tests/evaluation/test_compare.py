"""compare(): every model on every split, and the four renderings of the table."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pytest
from rich.console import Console

from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.errors import ConfigError
from matinee.evaluation.compare import ComparisonTable, compare
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.training.loop import EpochRecord, FitOptions


@dataclass(frozen=True, kw_only=True)
class ConstantConfig(Config):
    value: float = 3.0
    """The prediction for every pair, plus the movie index times ``tilt``."""
    tilt: float = 0.0
    """Slope over movie indices (makes rankings differ)."""


class Constant(Recommender[ConstantConfig]):
    name = "constant-test"
    config_type = ConstantConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        return []

    def _predict(self, users: np.ndarray, movies: np.ndarray) -> np.ndarray:
        return self.config.value + self.config.tilt * movies

    def _score_new_user(self, movies: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self._predict(np.zeros(self.n_movies, dtype=np.int32), np.arange(self.n_movies))

    def _parameters(self) -> dict[str, np.ndarray]:
        return {}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        return None


def _splits(rng: np.random.Generator, n: int = 2) -> list[Split]:
    users = rng.integers(0, 20, 400)
    movies = rng.integers(0, 15, 400)
    keys = np.unique(users * 100 + movies)
    ratings = Ratings.from_raw(
        keys // 100, keys % 100, rng.integers(1, 6, keys.size), rating_scale=(1.0, 5.0)
    )
    splits = []
    for fold in range(n):
        test = np.arange(len(ratings)) % max(n, 2) == fold
        splits.append(Split(ratings.take(~test), ratings.take(test), name=f"fold{fold}"))
    return splits


@pytest.fixture
def table(rng: np.random.Generator) -> ComparisonTable:
    models = {
        "low": lambda: Constant(ConstantConfig(value=1.0)),
        "middle": lambda: Constant(ConstantConfig(value=3.0, tilt=0.01)),
    }
    return compare(models, _splits(rng), k=3, floor=False)


def test_every_model_runs_on_every_split(table: ComparisonTable) -> None:
    assert [row.model for row in table.rows] == ["low", "middle"]
    assert table.split_names == ("fold0", "fold1")
    assert all(len(row.result.folds) == 2 for row in table.rows)
    assert table.columns[:3] == ["rmse", "mae", "mape"]
    assert "fit_seconds" in table.columns and "ndcg@3" in table.columns


def test_best_prefers_low_errors(table: ComparisonTable) -> None:
    # Ratings are spread over 1-5: predicting 3 beats predicting 1 on every error.
    best = table.best()
    assert best["rmse"] == best["mae"] == "middle"


def test_renderings_agree(table: ComparisonTable) -> None:
    markdown = table.to_markdown()
    assert markdown.splitlines()[0].startswith("| model | rmse | mae | mape |")
    assert "**" in markdown.splitlines()[3]  # the middle row holds bold winners
    data = json.loads(table.to_json())
    assert data["best"]["rmse"] == "middle"
    assert data["models"]["low"]["mean"]["rmse"] == pytest.approx(table.rows[0].result.mean["rmse"])
    rows = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert [row["model"] for row in rows] == ["low", "middle"]
    assert float(rows[1]["rmse_mean"]) == pytest.approx(table.rows[1].result.mean["rmse"])
    assert "rmse" in rows[1]["best_of"].split(";")
    console = Console(record=True, width=300)
    console.print(table.to_rich())
    text = console.export_text()
    assert "middle" in text and "±" in text


def test_instances_are_refitted_under_unique_names(rng: np.random.Generator) -> None:
    table = compare(
        [Constant(), Constant(ConstantConfig(value=1.0))],
        _splits(rng),
        metrics=["rmse"],
        floor=False,
    )
    assert [row.model for row in table.rows] == ["constant-test", "constant-test-2"]
    assert table.rows[0].result.mean["rmse"] != table.rows[1].result.mean["rmse"]


def test_progress_bar_runs(rng: np.random.Generator) -> None:
    table = compare(
        {"c": Constant}, _splits(rng, 1), metrics=["mae"], show_progress=True, floor=False
    )
    assert table.rows[0].result.std["mae"] == 0.0
    assert "±" not in table.to_markdown()


def test_bad_inputs_are_refused(rng: np.random.Generator) -> None:
    with pytest.raises(ConfigError, match="at least one model"):
        compare({}, _splits(rng))
    with pytest.raises(ConfigError, match="at least one split"):
        compare({"c": Constant}, [])
    with pytest.raises(ConfigError, match="Recommender"):
        compare(["baseline"], _splits(rng))  # type: ignore[list-item]


def test_popular_joins_as_the_floor(rng: np.random.Generator) -> None:
    table = compare({"c": Constant}, _splits(rng, 1), metrics=["ndcg"])
    assert [row.model for row in table.rows] == ["c", "popular"]
    assert "ndcg@10" in table.rows[1].result.mean


def test_the_rich_table_fits_80_columns_without_cutting_numbers(rng: np.random.Generator) -> None:
    models = [Constant(ConstantConfig(value=float(v))) for v in range(7)]
    table = compare(models, _splits(rng), metrics=["rmse", "mae"])
    console = Console(record=True, width=80)
    console.print(table.to_rich(width=80))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for row in table.rows:
        assert row.model in text
        for column in table.columns:
            assert table._cell(row, column) in text


def test_nested_progress_shares_one_live_display() -> None:
    from matinee.logs import progress

    with progress("outer", 2) as outer, progress("inner", 3) as inner:
        assert outer._bar is inner._bar
        inner.advance()
        outer.describe("model 1/2 · fold 1/1")
