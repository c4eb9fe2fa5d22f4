"""Spark-trained models: same biases as Matinee's, exported models load, fold in and score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import SparkSession

from matinee.data.split import Split
from matinee.errors import ConfigError
from matinee.evaluation import ranking_metrics
from matinee.evaluation.evaluate import evaluate
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig
from matinee.models.factorization.ials import ImplicitALSConfig
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.settings import Settings
from matinee.spark.evaluate import spark_evaluate
from matinee.spark.metrics import ranking_metrics as spark_ranking_metrics
from matinee.spark.metrics import rating_metrics
from matinee.spark.readers import ratings_frame
from matinee.spark.splits import SparkSplit
from matinee.spark.trainers import train_baseline, train_biased_als, train_implicit_als
from matinee.store.files import load_model, save_model

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark_u1(spark: SparkSession, canonical_split: Split, settings: Settings) -> SparkSplit:
    return SparkSplit(
        ratings_frame(spark, canonical_split.train, settings=settings),
        ratings_frame(spark, canonical_split.test, settings=settings),
        name="u1",
    )


def test_baseline_has_matinee_biases_and_metrics(
    spark_u1: SparkSplit, canonical_split: Split
) -> None:
    config = BiasBaselineConfig(epochs=5)
    ours = train_baseline(spark_u1.train, config)
    theirs = BiasBaseline(config).fit(canonical_split.train)
    np.testing.assert_allclose(ours.user_bias_, theirs.user_bias_, atol=1e-5)
    np.testing.assert_allclose(ours.movie_bias_, theirs.movie_bias_, atol=1e-5)
    assert ours.global_mean_ == pytest.approx(theirs.global_mean_)
    ours.data_fingerprint_ = canonical_split.train.fingerprint()
    in_spark = spark_evaluate(ours, spark_u1)
    at_home = evaluate(ours, canonical_split).metrics
    assert set(at_home) >= set(in_spark)
    for name, value in in_spark.items():
        assert value == pytest.approx(at_home[name], abs=1e-9), name


def test_biased_als_is_matinees_model_and_exports(
    spark_u1: SparkSplit, canonical_split: Split, tmp_path: Path
) -> None:
    config = BiasedMFConfig(n_factors=8, reg=0.1, reg_bias=0.05, epochs=5, solver="als")
    model = train_biased_als(spark_u1.train, config)
    theirs = BiasedMF(config).fit(canonical_split.train)
    test = canonical_split.test
    np.testing.assert_allclose(
        model.predict(test.user_idx, test.movie_idx),
        theirs.predict(test.user_idx, test.movie_idx),
        atol=1e-4,
    )
    np.testing.assert_allclose(model.movie_bias_, theirs.movie_bias_, atol=1e-4)
    model.data_fingerprint_ = canonical_split.train.fingerprint()
    loaded = load_model(save_model(model, tmp_path / "als"))
    np.testing.assert_array_equal(loaded.predict([0, 1], [0, 1]), model.predict([0, 1], [0, 1]))
    scores = loaded.score_new_user([0, 49, 99], [5.0, 5.0, 1.0])
    assert scores.shape == (canonical_split.train.n_movies,) and np.isfinite(scores).all()


def test_biased_als_refuses_sgd(spark_u1: SparkSplit) -> None:
    with pytest.raises(ConfigError, match="solver=als"):
        train_biased_als(spark_u1.train, BiasedMFConfig(solver="sgd"))


def test_implicit_als_ranks_better_than_chance(
    spark_u1: SparkSplit, canonical_split: Split
) -> None:
    model = train_implicit_als(spark_u1.train, ImplicitALSConfig(n_factors=8, epochs=5))
    result = evaluate(model, canonical_split, metrics=["precision"])
    assert result.metrics["precision@10"] > 0.15


def test_ranking_metrics_match_matinee(spark: SparkSession) -> None:
    rng = np.random.default_rng(3)
    n_users, n_movies, k = 40, 30, 5
    recommended = np.array([rng.permutation(n_movies)[:k] for _ in range(n_users)])
    recommended[::7, 3:] = -1
    rows, movies = np.nonzero(rng.random((n_users, n_movies)) < 0.15)
    keep = np.isin(rows, np.unique(rows))
    relevant = ranking_metrics.relevance_matrix(rows[keep], movies[keep], n_users, n_movies)
    has = np.diff(relevant.indptr) > 0
    expected = ranking_metrics.accuracy_metrics(recommended[has], relevant[has])
    lists = [
        (int(u), int(m), r + 1)
        for u in range(n_users)
        for r, m in enumerate(recommended[u])
        if m >= 0
    ]
    got = spark_ranking_metrics(
        spark.createDataFrame(lists, "user_idx INT, movie_idx INT, rank INT"),
        spark.createDataFrame(
            [(int(u), int(m)) for u, m in zip(rows, movies, strict=True)],
            "user_idx INT, movie_idx INT",
        ),
        k,
    )
    assert got == pytest.approx(expected, abs=1e-12)


def test_rating_metrics_match_matinee(spark: SparkSession) -> None:
    from matinee.evaluation.rating_metrics import mae, rmse

    rng = np.random.default_rng(4)
    truth, predicted = rng.uniform(1, 5, 50), rng.uniform(1, 5, 50)
    frame = spark.createDataFrame(
        [(float(a), float(b)) for a, b in zip(truth, predicted, strict=True)],
        "rating DOUBLE, prediction DOUBLE",
    )
    got = rating_metrics(frame)
    assert got["rmse"] == pytest.approx(rmse(truth, predicted), abs=1e-12)
    assert got["mae"] == pytest.approx(mae(truth, predicted), abs=1e-12)
