"""``matinee spark train | evaluate``: train and score models in Apache Spark (extra ``spark``).

The split and the metrics are computed in Spark with Matinee's definitions; the trained model
is saved as an ordinary Matinee model, so ``matinee evaluate``, ``recommend`` and ``serve`` use
it on one machine. pyspark is imported only when a command runs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from matinee.cli._configs import SetOption, parse_settings
from matinee.cli._options import (
    DatasetName,
    JsonFlag,
    OneSplit,
    SaveDir,
    SavedModel,
    Scoring,
    TrainedOn,
    option_groups,
    scores_table,
)
from matinee.cli.app import app, report
from matinee.errors import ConfigError
from matinee.models.config_text import with_text_overrides
from matinee.settings import Settings

__all__ = ["spark_app", "spark_evaluate_command", "spark_train_command"]

spark_app = typer.Typer(help="Train and evaluate models in Apache Spark.", no_args_is_help=True)
app.add_typer(spark_app, name="spark")

MODEL_NAMES = {"als": "biased-mf", "ials": "ials", "baseline": "baseline"}
"""``matinee spark train`` names -> the Matinee model each exports to."""

Master = Annotated[
    str | None,
    typer.Option("--master", help="Spark master URL (default: spark-submit's, else local[2])."),
]


def _one(splits: list[Any], spec: str) -> Any:
    if len(splits) != 1:
        raise ConfigError(f"--split {spec!r} makes {len(splits)} splits; give one (u1, random:0.2)")
    return splits[0]


def _fit(name: str, train: Any, pairs: list[str]) -> Any:
    from matinee.models.baselines.baseline import BiasBaselineConfig
    from matinee.models.factorization.ials import ImplicitALSConfig
    from matinee.models.factorization.mf import BiasedMFConfig
    from matinee.spark import trainers

    overrides = parse_settings(pairs)
    if name == "als":
        overrides.setdefault("solver", "als")
        return trainers.train_biased_als(train, with_text_overrides(BiasedMFConfig(), overrides))
    if name == "ials":
        config = with_text_overrides(ImplicitALSConfig(), overrides)
        return trainers.train_implicit_als(train, config)
    if name == "baseline":
        return trainers.train_baseline(train, with_text_overrides(BiasBaselineConfig(), overrides))
    raise ConfigError(f"unknown Spark model {name!r}; choose one of {', '.join(MODEL_NAMES)}")


def _train(
    name: str,
    dataset: str,
    spec: str,
    out: Path,
    master: str | None,
    pairs: list[str],
    scoring: Scoring,
) -> dict[str, Any]:
    from matinee.data.loader import load_dataset
    from matinee.service import save_bundle
    from matinee.spark.evaluate import spark_evaluate
    from matinee.spark.readers import collect_ratings, ratings_frame
    from matinee.spark.session import spark_session
    from matinee.spark.splits import spark_split_from_spec
    from matinee.store.files import check_model_target

    check_model_target(out)
    scored = scoring.settings()  # a bad -k or --relevance is refused before Spark starts
    settings = Settings.from_env(show_progress=False)
    spark = spark_session(master)
    loaded = load_dataset(dataset, settings=settings)
    data = ratings_frame(spark, loaded.ratings, settings=settings, name=dataset)
    split = _one(spark_split_from_spec(spark, data, spec, settings=settings), spec)
    started = time.perf_counter()
    model = _fit(name, split.train, pairs)
    fit_seconds = time.perf_counter() - started
    metrics = spark_evaluate(
        model, split, k=scored.k, relevance_threshold=scored.relevance_threshold
    )
    train = collect_ratings(split.train)
    model.data_fingerprint_ = train.fingerprint()
    extra = {
        "dataset": dataset,
        "split": spec,
        "k": scoring.k,
        "relevance_threshold": scoring.relevance,
        "fit_seconds": fit_seconds,
        "engine": f"spark {spark.version} on {spark.sparkContext.master}",
    }
    save_bundle(model, out, train=train, metrics=metrics, extra=extra, movies=loaded.movies)
    return {
        "model": model.name,
        "dataset": dataset,
        "split": spec,
        "out": str(out),
        "engine": extra["engine"],
        "config": model.config.to_dict(),
        "fit_seconds": fit_seconds,
        "metrics": metrics,
    }


@spark_app.command("train")
@option_groups
def spark_train_command(
    model: Annotated[str, typer.Argument(help="als (biased ALS), ials or baseline.")],
    out: SaveDir,
    dataset: DatasetName = "ml-100k",
    split: OneSplit = "u1",
    master: Master = None,
    set_: SetOption = None,
    *,
    scoring: Scoring,
    json_output: JsonFlag = False,
) -> None:
    """Train a model in Spark, score it there on the split's test part, and save it."""
    report(
        lambda: _train(model, dataset, split, out, master, set_ or [], scoring),
        json_output,
        scores_table(" (Spark)"),
    )


@spark_app.command("evaluate")
@option_groups
def spark_evaluate_command(
    model_dir: SavedModel,
    trained: TrainedOn,
    master: Master = None,
    *,
    scoring: Scoring,
    json_output: JsonFlag = False,
) -> None:
    """Score a saved model in Spark on a split's test part (Matinee's metric definitions)."""
    report(
        lambda: _evaluate(model_dir, trained, master, scoring),
        json_output,
        scores_table(" (Spark)"),
    )


def _evaluate(
    model_dir: Path,
    trained: TrainedOn,
    master: str | None,
    scoring: Scoring,
) -> dict[str, Any]:
    from matinee.spark.evaluate import spark_evaluate
    from matinee.spark.readers import read_release
    from matinee.spark.session import spark_session
    from matinee.spark.splits import spark_split_from_spec
    from matinee.store.files import load_model, read_manifest

    scored = scoring.settings()  # a bad -k or --relevance is refused before Spark starts
    manifest = read_manifest(model_dir)
    name, spec = trained.resolve(model_dir, manifest.extra)
    model = load_model(model_dir)
    settings = Settings.from_env(show_progress=False)
    spark = spark_session(master)
    data = read_release(spark, name, settings=settings)
    split = _one(spark_split_from_spec(spark, data, spec, settings=settings), spec)
    metrics = spark_evaluate(
        model, split, k=scored.k, relevance_threshold=scored.relevance_threshold
    )
    return {"model": manifest.model, "dataset": name, "split": spec, "metrics": metrics}
