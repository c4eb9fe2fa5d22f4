from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import matinee.cli.recommend as recommend_cli
from matinee.cli.app import app
from matinee.data.loader import load_dataset
from matinee.errors import ConfigError, DataError
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.settings import Settings
from matinee.store.files import save_model

ANIMATED = "1:5,71:5,95:5,99:5,404:5,418:5,432:5,501:5,588:5"


@pytest.fixture(scope="module")
def model_dir(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dataset = load_dataset("ml-100k", settings=settings)
    model = EASE(EASEConfig(reg=300.0)).fit(dataset.ratings)
    directory = tmp_path_factory.mktemp("models") / "ease"
    return save_model(model, directory, movies=dataset.movies, extra={"dataset": "ml-100k"})


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> CliRunner:
    monkeypatch.setenv("MATINEE_DATA_MIRROR", str(settings.mirror))
    monkeypatch.setenv("MATINEE_CACHE_DIR", str(settings.cache_dir))
    assert recommend_cli.recommend_command is not None
    return CliRunner()


def test_new_user_who_loves_animation(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["recommend", str(model_dir), "--rated", ANIMATED, "-k", "5"])
    assert result.exit_code == 0, result.output
    assert "Top 5 for you" in result.output
    assert "Animation" in result.output or "Children" in result.output


def test_json_output_for_a_known_user_skips_what_they_rated(
    runner: CliRunner, model_dir: Path, settings: Settings
) -> None:
    result = runner.invoke(app, ["recommend", str(model_dir), "--user", "1", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["rank"] for row in rows] == list(range(1, 11))
    ratings = load_dataset("ml-100k", settings=settings).ratings
    user = ratings.users.index(1)
    seen = set(ratings.movies.raw_ids[ratings.movie_idx[ratings.user_idx == user]].tolist())
    assert not {row["movie_id"] for row in rows} & seen
    assert all(row["title"] for row in rows)


def test_rated_file_and_filters(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "me.json"
    path.write_text(json.dumps([{"movie_id": 50, "rating": 5}, {"movie_id": 181, "rating": 4}]))
    args = ["recommend", str(model_dir), "--rated-file", str(path), "--genre", "Comedy"]
    result = runner.invoke(app, [*args, "--years", "1990-1995", "--json", "-k", "4"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 4
    assert all("Comedy" in row["genres"] and 1990 <= row["year"] <= 1995 for row in rows)


def test_similar_by_title(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["similar", str(model_dir), "--movie", "star wars", "--json"])
    assert result.exit_code == 0, result.output
    titles = [row["title"] for row in json.loads(result.stdout)]
    assert "Return of the Jedi (1983)" in titles


def test_similar_with_a_minimum_of_ratings(
    runner: CliRunner, model_dir: Path, settings: Settings
) -> None:
    args = ["similar", str(model_dir), "--movie", "Toy Story (1995)", "--min-ratings", "300"]
    result = runner.invoke(app, [*args, "--json", "-k", "5"])
    assert result.exit_code == 0, result.output
    ratings = load_dataset("ml-100k", settings=settings).ratings
    counts = dict(
        zip(ratings.movies.raw_ids.tolist(), ratings.movie_counts().tolist(), strict=True)
    )
    assert all(counts[row["movie_id"]] >= 300 for row in json.loads(result.stdout))


def test_ambiguous_title_lists_the_candidates(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["similar", str(model_dir), "--movie", "Cape Fear"])
    assert result.exit_code == ConfigError.exit_code
    assert "several movies" in result.output
    assert "Cape Fear (1962)" in result.output and "Cape Fear (1991)" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rated", "1:5,oops"], "cannot read 'oops'"),
        (["--rated", "999999:5"], "999999"),
        (["--rated", "1:9"], "rating scale"),
        (["--user", "1", "--rated", "1:5"], "exactly one"),
        ([], "exactly one"),
        (["--user", "5555555"], "5555555"),
        (["--rated", "1:5", "--years", "later"], "year range"),
        (["--rated", "1:5", "--calibration", "strong"], "calibration"),
        (["--rated", "1:5", "--calibration", "1.5"], "calibration"),
    ],
)
def test_errors_exit_with_a_message(
    runner: CliRunner, model_dir: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["recommend", str(model_dir), *args])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize("strength", ["auto", "0", "0.5"])
def test_calibration_auto_or_a_number(runner: CliRunner, model_dir: Path, strength: str) -> None:
    args = ["recommend", str(model_dir), "--rated", ANIMATED, "--calibration", strength, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 10
    rated = {int(pair.split(":")[0]) for pair in ANIMATED.split(",")}
    assert not {row["movie_id"] for row in rows} & rated


def test_parse_rated() -> None:
    assert recommend_cli.parse_rated(" 1:5, 48:4.5 ,") == {1: 5.0, 48: 4.5}
    with pytest.raises(ConfigError, match="twice"):
        recommend_cli.parse_rated("1:5,1:4")
    with pytest.raises(ConfigError, match="no movie"):
        recommend_cli.parse_rated(" , ")


def test_read_rated_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        recommend_cli.read_rated_file(path)
    path.write_text('{"1": "five"}')
    with pytest.raises(DataError, match="integer"):
        recommend_cli.read_rated_file(path)
    path.write_text('{"1": 5, "48": 4}')
    assert recommend_cli.read_rated_file(path) == {1: 5.0, 48: 4.0}
    with pytest.raises(DataError, match="cannot read"):
        recommend_cli.read_rated_file(tmp_path / "missing.json")


def test_rated_by_titles_with_commas_and_colons(runner: CliRunner, model_dir: Path) -> None:
    rated = "Good, the Bad and the Ugly, The (1966):5, Star Trek: First Contact (1996):4, 50:5"
    result = runner.invoke(app, ["recommend", str(model_dir), "--rated", rated, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 10 and not {row["movie_id"] for row in rows} & {50, 177, 222}
    assert all({"because", "n_ratings", "predicted_rating"} <= set(row) for row in rows)
    reasons = {reason["movie_id"] for row in rows for reason in row["because"]}
    assert reasons and reasons <= {50, 177, 222}


def test_an_ambiguous_rated_title_lists_its_candidates(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["recommend", str(model_dir), "--rated", "Cape Fear:4, 1:5"])
    assert result.exit_code == DataError.exit_code
    assert "Cape Fear (1962)" in result.output and "Cape Fear (1991)" in result.output
    assert "several movies" in result.output


def test_unknown_titles_and_ids_are_listed_together(runner: CliRunner, model_dir: Path) -> None:
    args = ["--rated", "Qwzxv Plkjh:4, 999999:5, Toy Story:5, 888888:3"]
    result = runner.invoke(app, ["recommend", str(model_dir), *args])
    assert result.exit_code != 0
    for piece in ("999999", "888888", "Qwzxv Plkjh"):
        assert piece in result.output


def test_rated_file_takes_titles(runner: CliRunner, model_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "me.json"
    path.write_text(json.dumps({"Toy Story": 5, "Aladdin (1992)": 4.5, "50": 4}))
    result = runner.invoke(app, ["recommend", str(model_dir), "--rated-file", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert not {row["movie_id"] for row in json.loads(result.stdout)} & {1, 95, 50}
    rows_path = tmp_path / "rows.json"
    rows_path.write_text(
        json.dumps([{"title": "Fargo", "rating": 5}, {"movie_id": 1, "rating": 3}])
    )
    assert recommend_cli.read_rated_file(rows_path) == {"Fargo": 5.0, 1: 3.0}


def test_a_table_shows_the_reasons(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["recommend", str(model_dir), "--rated", ANIMATED, "-k", "3"])
    assert result.exit_code == 0, result.output
    assert "because" in result.output and "Beauty" in result.output


def test_parse_rated_titles() -> None:
    parsed = recommend_cli.parse_rated(
        "Toy Story:5, Aladdin (1992):4.5, Star Wars: Episode IV - A New Hope (1977): 4,"
        " Good, the Bad and the Ugly, The (1966):3.5, 48:1"
    )
    assert parsed == {
        "Toy Story": 5.0,
        "Aladdin (1992)": 4.5,
        "Star Wars: Episode IV - A New Hope (1977)": 4.0,
        "Good, the Bad and the Ugly, The (1966)": 3.5,
        48: 1.0,
    }
    with pytest.raises(ConfigError, match="must be a number"):
        recommend_cli.parse_rated("Toy Story:five")
    with pytest.raises(ConfigError, match="no movie before"):
        recommend_cli.parse_rated(":5")
    with pytest.raises(ConfigError, match="twice"):
        recommend_cli.parse_rated("Fargo:5, Fargo:4")


@pytest.mark.parametrize(
    "payload, message",
    [
        ('{"1": true}', "integer id or a title"),
        ("[]", "holds no ratings"),
        ('[{"title": "", "rating": 4}]', "empty"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_read_rated_file_refuses_bad_rows(tmp_path: Path, payload: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(payload)
    with pytest.raises(DataError, match=message):
        recommend_cli.read_rated_file(path)


def test_movies_search(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["movies", "search", "star wars", "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)[0]
    assert first == {
        "movie_id": 50,
        "title": "Star Wars (1977)",
        "year": 1977,
        "genres": ["Action", "Adventure", "Romance", "Sci-Fi", "War"],
        "n_ratings": 583,
    }
    table = runner.invoke(app, ["movies", "search", "godfathr", "--model", str(model_dir)])
    assert table.exit_code == 0, table.output
    assert "Godfather, The" in table.output and "413" in table.output
    both = ["movies", "search", "x", "--model", str(model_dir), "--dataset", "ml-100k"]
    assert runner.invoke(app, both).exit_code == ConfigError.exit_code
    empty = runner.invoke(app, ["movies", "search", " ", "--dataset", "ml-100k"])
    assert empty.exit_code == ConfigError.exit_code and "empty" in empty.output


def test_similar_by_id(runner: CliRunner, model_dir: Path) -> None:
    result = runner.invoke(app, ["similar", str(model_dir), "--movie", "50", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert 50 not in [row["movie_id"] for row in json.loads(result.stdout)]
