"""matinee tune, and the config file it writes read back by train --config and compare --config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from matinee.cli import models as _models  # noqa: F401  (registers the commands)
from matinee.cli import tune as _tune  # noqa: F401
from matinee.cli.app import app
from matinee.store.files import read_manifest


@pytest.fixture(scope="module")
def environment(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATINEE_DATA_MIRROR", str(mirror))
        patch.setenv("MATINEE_CACHE_DIR", str(tmp_path_factory.mktemp("tune-cache")))
        yield tmp_path_factory.mktemp("cli-tune")


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(scope="module")
def tuned(environment: Path) -> tuple[Path, dict[str, object]]:
    out = environment / "tune"
    result = run(
        "tune", "baseline", "--dataset", "ml-100k", "--split", "u1", "--trials", "3",
        "--space", "reg_users=1:20:log", "--set", "epochs=4", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_tune_writes_trials_best_config_and_plot(tuned: tuple[Path, dict[str, object]]) -> None:
    out, summary = tuned
    assert summary["trials"] == 3 and summary["space"]["reg_users"] == "1:20:log"  # type: ignore[index]
    assert {path.name for path in out.iterdir()} >= {"trials.csv", "trials.json", "best.json"}
    best = json.loads((out / "best.json").read_text())
    assert best["model"] == "baseline" and best["config"]["epochs"] == 4
    assert 1 <= best["config"]["reg_users"] <= 20


def test_train_and_compare_read_the_best_config(
    tuned: tuple[Path, dict[str, object]], environment: Path
) -> None:
    best_file = tuned[0] / "best.json"
    best = json.loads(best_file.read_text())["config"]
    out = environment / "trained"
    result = run(
        "train", "baseline", "--config", str(best_file), "--set", "epochs=2",
        "--split", "u1", "--out", str(out), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    saved = read_manifest(out).config
    assert saved["reg_users"] == best["reg_users"] and saved["epochs"] == 2  # --set wins
    result = run(
        "compare", "--models", "baseline", "--config", str(best_file), "--split", "u1", "--json"
    )
    assert result.exit_code == 0, result.output
    rmse = json.loads(result.stdout)["models"]["baseline"]["mean"]["rmse"]
    assert rmse == pytest.approx(tuned[1]["test_metrics"]["rmse"], abs=1e-9)  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tune", "baseline", "--space", "reg_users=5"], "cannot read"),
        (["tune", "item-knn", "--trials", "1"], "ndcg@10"),
        (["tune", "baseline", "--metric", "auc"], "metric 'auc'"),
        (["train", "svdpp", "--config", "BEST", "--out", "OUT"], "not 'svdpp'"),
        (["compare", "--models", "svdpp", "--config", "BEST"], "names 'baseline'"),
    ],
)
def test_tune_and_config_errors_are_clear(
    tuned: tuple[Path, dict[str, object]], environment: Path, args: list[str], message: str
) -> None:
    swap = {"BEST": str(tuned[0] / "best.json"), "OUT": str(environment / "refused")}
    result = run(*(swap.get(arg, arg) for arg in args))
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())


def test_a_ranker_tunes_at_the_relevance_it_is_given(environment: Path) -> None:
    def tuned_ndcg(relevance: str) -> tuple[float, Path]:
        out = environment / f"tune-ease-{relevance}"
        result = run(
            "tune", "ease", "--split", "per-user:0.25", "--metric", "ndcg@10", "--trials", "2",
            "--space", "reg=100:1000", "--only-space", "--relevance", relevance,
            "--out", str(out), "--json",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        return float(json.loads(result.stdout)["test_metrics"]["ndcg@10"]), out / "best.json"

    every_rating, best_file = tuned_ndcg("1")
    assert every_rating != tuned_ndcg("5")[0]
    result = run(
        "compare", "--models", "ease", "--config", str(best_file), "--split", "per-user:0.25",
        "--relevance", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ndcg = json.loads(result.stdout)["models"]["ease"]["mean"]["ndcg@10"]
    assert ndcg == pytest.approx(every_rating, abs=1e-9)
