"""``--min-movie-ratings`` / ``--min-user-ratings`` on train, evaluate and compare (ml-100k)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from matinee.cli import models as _models  # noqa: F401  (registers the commands)
from matinee.cli.app import app
from matinee.data.filters import MinMovieRatings, MinUserRatings, apply_filters
from matinee.data.loader import load_dataset
from matinee.settings import Settings
from matinee.store.files import load_model, read_manifest


@pytest.fixture(scope="module")
def environment(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATINEE_DATA_MIRROR", str(mirror))
        patch.setenv("MATINEE_CACHE_DIR", str(tmp_path_factory.mktemp("filter-cache")))
        yield tmp_path_factory.mktemp("filter-models")


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def trained(environment: Path) -> tuple[Path, dict[str, object]]:
    out = environment / "popular"
    result = run(
        "train", "popular", "--dataset", "ml-100k", "--split", "random:0.1", "--out", str(out),
        "--min-movie-ratings", "50", "--min-user-ratings", "40", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_fits_the_k_core_and_records_the_filters(
    trained: tuple[Path, dict[str, object]], environment: Path
) -> None:
    out, summary = trained
    assert summary["min_movie_ratings"] == 50 and summary["min_user_ratings"] == 40
    assert read_manifest(out).extra["min_movie_ratings"] == 50
    ratings = load_dataset("ml-100k", settings=Settings.from_env()).ratings
    core = apply_filters(
        ratings, [MinUserRatings(40), MinMovieRatings(50)], until_stable=True
    ).ratings
    assert core.movie_counts().min() >= 50 and core.user_counts().min() >= 40
    model = load_model(out)
    assert model.n_movies <= core.n_movies < ratings.n_movies
    assert model.n_users <= core.n_users < ratings.n_users


def test_evaluate_applies_the_recorded_filters(trained: tuple[Path, dict[str, object]]) -> None:
    out, summary = trained
    result = run("evaluate", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"] == summary["metrics"]
    other = run("evaluate", str(out), "--min-movie-ratings", "10", "--json")
    assert other.exit_code != 0 and "other data" in other.output


def test_compare_filters_before_splitting(environment: Path) -> None:
    args = ["compare", "--models", "popular", "--dataset", "ml-100k", "--min-movie-ratings", "100"]
    result = run(*args, "--split", "random:0.1", "--json")
    assert result.exit_code == 0, result.output
    canonical = run(*args, "--split", "u1-u5")
    assert canonical.exit_code != 0 and "fold files" in canonical.output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--min-movie-ratings", "0"], "--min-movie-ratings must be at least 1"),
        (["--min-user-ratings", "100000"], "leaves no rating"),
    ],
)
def test_bad_filters_are_refused(environment: Path, flags: list[str], message: str) -> None:
    out = environment / "refused"
    result = run(
        "train",
        "popular",
        "--dataset",
        "ml-100k",
        "--split",
        "random:0.1",
        "--out",
        str(out),
        *flags,
    )
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
