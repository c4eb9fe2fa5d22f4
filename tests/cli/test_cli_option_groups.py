"""Option groups: one dataclass of typed options spelt out in each command that takes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from matinee.cli._options import JsonFlag, Scoring, TrainedOn, option_groups
from matinee.cli.filtering import CountFilters, RecordedCountFilters
from matinee.errors import ConfigError
from matinee.evaluation.evaluate import EvalSettings

seen: dict[str, Any] = {}

demo = typer.Typer()


@demo.command()
@option_groups
def score(
    name: str,
    trained: TrainedOn,
    *,
    scoring: Scoring,
    filters: CountFilters,
    json_output: JsonFlag = False,
) -> None:
    """Record what the command was given."""
    seen.update(name=name, trained=trained, scoring=scoring, filters=filters, json=json_output)


def invoke(*args: str) -> str:
    result = CliRunner().invoke(demo, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_groups_get_their_defaults_when_no_option_is_given() -> None:
    invoke("mf")
    assert seen == {
        "name": "mf",
        "trained": TrainedOn(),
        "scoring": Scoring(k=10, relevance=4.0),
        "filters": CountFilters(),
        "json": False,
    }


def test_each_option_of_a_group_reaches_its_field() -> None:
    invoke("mf", "-k", "5", "--relevance", "3.5", "--split", "u2", "--min-user-ratings", "7")
    assert seen["scoring"] == Scoring(k=5, relevance=3.5)
    assert seen["trained"] == TrainedOn(dataset=None, split="u2")
    assert seen["filters"].record() == {"min_user_ratings": 7}


def test_help_lists_the_group_options_in_place() -> None:
    flags = ["--dataset", "--split", "--top-k", "--relevance", "--min-movie-ratings", "--json"]
    text = invoke("--help")
    positions = [text.index(flag) for flag in flags]
    assert positions == sorted(positions)


def test_recorded_filters_keep_the_flags_with_their_own_help() -> None:
    assert [field for field in RecordedCountFilters.__dataclass_fields__] == [
        "min_movie_ratings",
        "min_user_ratings",
    ]
    assert RecordedCountFilters(min_movie_ratings=3).record() == {"min_movie_ratings": 3}


def test_trained_on_falls_back_to_the_manifest_and_refuses_without_one() -> None:
    extra = {"dataset": "ml-100k", "split": "u1"}
    assert TrainedOn().resolve(Path("m"), extra) == ("ml-100k", "u1")
    assert TrainedOn("ml-1m", "u2").resolve(Path("m"), extra) == ("ml-1m", "u2")
    with pytest.raises(ConfigError, match="pass --dataset and --split"):
        TrainedOn(split="u1").resolve(Path("m"), {})


def test_scoring_builds_the_evaluation_settings_and_refuses_a_bad_k() -> None:
    movies = pl.DataFrame({"movie_id": [1], "title": ["A"]})
    settings = Scoring(k=5, relevance=3.5).settings(movies=movies)
    assert settings == EvalSettings(k=5, relevance_threshold=3.5, movies=movies)
    with pytest.raises(ConfigError, match="k must be"):
        Scoring(k=0).settings()
    with pytest.raises(ConfigError, match="relevance_threshold must be finite"):
        Scoring(relevance=float("nan")).settings()


def test_spark_evaluate_refuses_a_bad_k_before_reading_the_model(tmp_path: Path) -> None:
    from matinee.cli import spark as _spark  # noqa: F401  (registers the commands)
    from matinee.cli.app import app

    result = CliRunner().invoke(app, ["spark", "evaluate", str(tmp_path / "none"), "-k", "0"])
    assert result.exit_code == 2, result.output
    assert "k must be a positive integer" in " ".join(result.output.split())
