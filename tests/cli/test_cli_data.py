from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matinee.cli import app
from matinee.data.releases import RELEASES


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("MATINEE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MATINEE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "120")
    return CliRunner()


def test_list_json(runner: CliRunner, mirror: Path) -> None:
    result = runner.invoke(app, ["data", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(RELEASES)
    assert rows["ml-100k"]["mirrored"] == str(mirror / "ml-100k")
    assert rows["ml-1m"]["mirrored"] is None
    assert rows["ml-25m"]["ratings"] == 25_000_095
    assert not any(row["cached"] for row in rows.values())


def test_list_table_shows_cache_state(runner: CliRunner) -> None:
    assert runner.invoke(app, ["data", "fetch", "ml-100k", "--json"]).exit_code == 0
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "ml-100k" in line)
    assert "100,000" in line
    assert line.count("yes") == 2  # cached and mirrored
    ml_1m = next(line for line in result.stdout.splitlines() if "ml-1m " in line)
    assert "yes" not in ml_1m


def test_fetch_json(runner: CliRunner, mirror: Path) -> None:
    result = runner.invoke(app, ["data", "fetch", "ml-latest-small", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["path"] == str(mirror / "ml-latest-small.zip")
    assert (summary["ratings"], summary["users"], summary["movies"]) == (100_836, 610, 9_724)


def test_fetch_text(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "fetch", "ml-latest-small-2016"])
    assert result.exit_code == 0, result.output
    assert "100,004 ratings, 671 users, 9,066 movies" in result.stdout


def test_info_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "info", "ml-100k", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["ratings"], info["users"], info["movies"]) == (100_000, 943, 1_682)
    assert info["sparsity"] == pytest.approx(1 - 100_000 / (943 * 1_682))
    assert list(info["histogram"]) == ["1", "2", "3", "4", "5"]
    assert sum(info["histogram"].values()) == 100_000
    assert info["histogram"]["4"] == 34_174
    assert next(iter(info["top_genres"])) == "Drama"
    assert len(info["top_genres"]) == 10


def test_info_text_draws_a_histogram(runner: CliRunner) -> None:
    result = runner.invoke(app, ["data", "info", "ml-latest-small"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "100,836 ratings by 610 users on 9,724 movies (9,742 listed)" in out
    assert "Ratings by value" in out
    assert "Most rated genres" in out
    bars = [line for line in out.splitlines() if "█" in line]
    assert len(bars) == 10 + 10  # ten half-star values, ten genres
    assert max(bars, key=lambda line: line.count("█")).split()[0] == "4"


@pytest.mark.parametrize("command", ["fetch", "info"])
def test_unknown_release_exits_with_data_error(runner: CliRunner, command: str) -> None:
    result = runner.invoke(app, ["data", command, "ml-3m"])
    assert result.exit_code == 3
    assert "unknown release 'ml-3m'" in result.stderr
    assert "ml-latest-small-2016" in result.stderr


def test_release_that_cannot_be_found_or_downloaded(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MATINEE_DATA_MIRROR", str(tmp_path))
    result = runner.invoke(app, ["data", "info", "ml-latest-small-2016"])
    assert result.exit_code == 3
    assert "no longer served" in result.stderr
