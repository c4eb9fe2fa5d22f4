"""matinee train / evaluate / compare / predict, run in-process on ml-100k from the mirror."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from matinee.cli import models as _models  # noqa: F401  (registers the commands)
from matinee.cli.app import app
from matinee.store.files import read_manifest


@pytest.fixture(scope="module")
def environment(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The mirror and a cache private to this module, through the variables the CLI reads."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATINEE_DATA_MIRROR", str(mirror))
        patch.setenv("MATINEE_CACHE_DIR", str(tmp_path_factory.mktemp("cli-cache")))
        yield tmp_path_factory.mktemp("cli-models")


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def said(result: Result) -> str:
    """Everything printed, with Rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def trained(environment: Path) -> tuple[Path, dict[str, object]]:
    out = environment / "baseline-u1"
    result = run(
        "train",
        "baseline",
        "--dataset",
        "ml-100k",
        "--split",
        "u1",
        "--out",
        str(out),
        "--set",
        "epochs=5",
        "--json",
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_train_saves_a_scored_model(trained: tuple[Path, dict[str, object]]) -> None:
    out, summary = trained
    metrics = summary["metrics"]
    assert isinstance(metrics, dict)
    assert 0.85 < metrics["rmse"] < 1.0 and "ndcg@10" in metrics
    assert summary["config"]["epochs"] == 5  # type: ignore[index]
    manifest = read_manifest(out)
    assert manifest.model == "baseline" and manifest.metrics == metrics
    assert manifest.extra["dataset"] == "ml-100k" and manifest.extra["split"] == "u1"


def test_evaluate_reproduces_the_training_metrics(trained: tuple[Path, dict[str, object]]) -> None:
    out, summary = trained
    result = run("evaluate", str(out), "--json")
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)
    assert again["metrics"] == pytest.approx(summary["metrics"])
    assert again["n_test_ratings"] == 20_000
    table = run("evaluate", str(out))
    assert table.exit_code == 0 and "rmse" in table.stdout


def test_evaluate_refuses_a_split_the_model_was_not_trained_on(
    trained: tuple[Path, dict[str, object]],
) -> None:
    result = run("evaluate", str(trained[0]), "--split", "u2")
    assert result.exit_code == 3
    assert "fingerprints differ" in said(result)


def test_predict_with_raw_ids(trained: tuple[Path, dict[str, object]]) -> None:
    result = run("predict", str(trained[0]), "1", "1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert 1.0 <= data["prediction"] <= 5.0 and data["is_rating"]
    assert data["title"] == "Toy Story (1995)"
    text = run("predict", str(trained[0]), "1", "1")
    assert "predicted rating" in text.stdout


def test_predict_lists_unknown_ids(trained: tuple[Path, dict[str, object]]) -> None:
    result = run("predict", str(trained[0]), "99999", "77777")
    assert result.exit_code == 4
    assert "user 99999" in said(result) and "movie 77777" in said(result)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["train", "no-such-model"], 2, "unknown model 'no-such-model'"),
        (["train", "baseline", "--set", "reg_users=lots"], 2, "reg_users"),
        (["train", "baseline", "--set", "bogus=1"], 2, "no field 'bogus'"),
        (["train", "baseline", "--set", "epochs"], 2, "key=value"),
        (["train", "baseline", "--split", "u1-u5"], 2, "makes 5 splits"),
        (["train", "baseline", "--split", "sideways"], 3, "bad split spec"),
        (["train", "baseline", "--dataset", "ml-nope"], 3, "unknown release"),
        (["train", "baseline", "-k", "0"], 2, "k must be a positive integer"),
        (["train", "baseline", "--relevance", "nan"], 2, "relevance_threshold must be finite"),
    ],
)
def test_train_errors_are_clear(
    environment: Path, args: list[str], code: int, message: str
) -> None:
    result = run(*args, "--out", str(environment / "never"))
    assert result.exit_code == code, result.output
    assert message in said(result)
    assert not (environment / "never").exists()


def test_train_refuses_a_foreign_out_folder_before_training(environment: Path) -> None:
    site = environment / "web-project"
    site.mkdir()
    (site / "manifest.json").write_text('{"name": "app", "start_url": "/"}')
    (site / "app.js").write_text("console.log(1)")
    result = run("train", "biased-mf", "--dataset", "no-such-release", "--out", str(site))
    assert result.exit_code != 0
    assert "not a Matinee saved model" in said(result)
    assert "no-such-release" not in said(result)  # refused before the data is even looked up
    assert sorted(p.name for p in site.iterdir()) == ["app.js", "manifest.json"]


def test_train_on_all_ratings_has_nothing_to_evaluate(environment: Path) -> None:
    out = environment / "global-all"
    result = run("train", "global-mean", "--split", "all", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["metrics"] == {}
    refused = run("evaluate", str(out))
    assert refused.exit_code == 2 and "every rating" in said(refused)


def test_evaluate_a_missing_model(environment: Path) -> None:
    result = run("evaluate", str(environment / "nothing-here"))
    assert result.exit_code == 6 and "does not exist" in said(result)


def test_compare_renders_every_format(environment: Path) -> None:
    out = environment / "table.md"
    args = [
        "compare",
        "--models",
        "global-mean,baseline",
        "--split",
        "u1",
        "--set",
        "baseline.epochs=3",
    ]
    result = run(*args, "--format", "markdown", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == out.read_text()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| model | rmse |")
    assert lines[3].startswith("| baseline | **")  # baseline wins on RMSE
    data = json.loads(run(*args, "--json").stdout)
    assert set(data["models"]) == {"global-mean", "baseline", "popular"}  # popular: the floor
    assert data["best"]["rmse"] == "baseline"
    csv_text = run(*args, "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("model,rmse_mean,rmse_std")
    rich_text = run(*args).stdout
    assert "global-mean" in rich_text and rich_text.count("splits: u1") == 1
    assert "rmse" in rich_text.splitlines()[4]  # one row per metric, models side by side


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "svdpp.epochs=3"], "model from --models"),
        (["--set", "baseline.nope=3"], "no field 'nope'"),
        (["--format", "html"], "choose one of"),
        (["-k", "0"], "k must be a positive integer"),
    ],
)
def test_compare_errors_are_clear(environment: Path, extra: list[str], message: str) -> None:
    result = run("compare", "--models", "global-mean,baseline", "--split", "u1", *extra)
    assert result.exit_code == 2, result.output
    assert message in said(result)


def test_predict_with_a_ranker_reports_its_unclipped_score(environment: Path) -> None:
    out = environment / "popular-u1"
    assert run("train", "popular", "--split", "u1", "--out", str(out), "--json").exit_code == 0
    data = json.loads(run("predict", str(out), "1", "50", "--json").stdout)
    # Popularity is the share of users who rated Star Wars: not a rating, never clipped to 1-5.
    assert not data["is_rating"] and 0.3 < data["prediction"] < 1.0
