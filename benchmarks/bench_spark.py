"""Spark backend: accuracy on ml-100k u1-u5 and time per iteration on synthetic ratings.

Part 1 (``--folds``): on the same canonical folds, Spark biased ALS
(:func:`matinee.spark.trainers.train_biased_als`: Matinee's joint ALS half steps on Spark
partitions), Matinee's biased MF with the ALS solver (the same config), and MLlib's plain ALS
(rank 50, reg 0.1, 10 iterations). RMSE per fold and the mean.

Part 2 (``--synthetic N``): N synthetic ratings; seconds per ALS iteration of Spark (local[2]) and
of Matinee, each in its own process (peak memory of that process and its children, the JVM
included: the largest single process). Per iteration = (time of ``3`` iterations - time of ``1``)
/ 2, so the set-up (reading, indexing, the JVM) is reported apart.

Writes ``benchmarks/results/spark.json`` and ``spark.md``; a part not run keeps its earlier rows.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _measure import measure

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "spark.json"
DRIVER_MEMORY = "6g"
"""Driver memory of the local[2] session (the driver is also the executor in local mode)."""

CONFIG = {"n_factors": 50, "reg": 0.1, "reg_bias": 0.05, "epochs": 10, "solver": "als"}
"""The biased model both engines fit (MLlib's own ALS gets rank 50, reg 0.1, 10 iterations)."""


def _rmse(model: Any, test: Any) -> float:
    from matinee.evaluation.rating_metrics import rmse

    return rmse(test.rating, model.predict(test.user_idx, test.movie_idx))


def folds(names: list[str]) -> list[dict[str, Any]]:
    """RMSE of the three models on each canonical fold."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    from matinee.data.canonical import canonical_split
    from matinee.data.loader import load_dataset
    from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
    from matinee.spark.metrics import rating_metrics
    from matinee.spark.readers import ratings_frame
    from matinee.spark.session import spark_session
    from matinee.spark.trainers import train_biased_als

    spark = spark_session("local[2]")
    dataset = load_dataset("ml-100k")
    config = BiasedMFConfig(**CONFIG)  # type: ignore[arg-type]
    rows = []
    for name in names:
        split = canonical_split(dataset, name)
        train, test = ratings_frame(spark, split.train), ratings_frame(spark, split.test)
        started = time.perf_counter()
        ours = train_biased_als(train, config)
        spark_seconds = time.perf_counter() - started
        started = time.perf_counter()
        theirs = BiasedMF(config).fit(split.train)
        matinee_seconds = time.perf_counter() - started
        plain = ALS(
            rank=50,
            regParam=0.1,
            maxIter=10,
            userCol="user_idx",
            itemCol="movie_idx",
            ratingCol="rating",
            coldStartStrategy="nan",
            seed=0,
        ).fit(train.frame)
        predicted = plain.transform(test.frame).withColumn(
            "prediction",
            F.when(F.isnan("prediction"), split.train.mean()).otherwise(F.col("prediction")),
        )
        rows.append(
            {
                "fold": name,
                "spark_biased_als": _rmse(ours, split.test),
                "matinee_biased_mf_als": _rmse(theirs, split.test),
                "mllib_plain_als": rating_metrics(predicted)["rmse"],
                "spark_seconds": spark_seconds,
                "matinee_seconds": matinee_seconds,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    spark.stop()
    return rows


def spark_iterations(n_ratings: int, epochs: int) -> dict[str, float]:
    """Fit Spark biased ALS for ``epochs`` on synthetic data; seconds of set-up and of the fit."""
    from matinee.data.synthetic import generate_ratings
    from matinee.models.factorization.mf import BiasedMFConfig
    from matinee.spark.readers import ratings_frame
    from matinee.spark.session import spark_session
    from matinee.spark.trainers import train_biased_als

    started = time.perf_counter()
    ratings = generate_ratings(n_ratings, seed=0)
    spark = spark_session("local[2]", config={"spark.driver.memory": DRIVER_MEMORY})
    frame = ratings_frame(spark, ratings)
    frame.frame.count()
    setup = time.perf_counter() - started
    started = time.perf_counter()
    train_biased_als(frame, BiasedMFConfig(**{**CONFIG, "n_factors": 64, "epochs": epochs}))  # type: ignore[arg-type]
    fit = time.perf_counter() - started
    spark.stop()
    return {"setup": setup, "fit": fit}


def matinee_iterations(n_ratings: int, epochs: int) -> dict[str, float]:
    """Fit Matinee's biased MF (ALS) for ``epochs`` on the same synthetic data."""
    from matinee.data.synthetic import generate_ratings
    from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig

    started = time.perf_counter()
    ratings = generate_ratings(n_ratings, seed=0)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    BiasedMF(BiasedMFConfig(**{**CONFIG, "n_factors": 64, "epochs": epochs})).fit(ratings)  # type: ignore[arg-type]
    return {"setup": setup, "fit": time.perf_counter() - started}


def synthetic(n_ratings: int) -> list[dict[str, Any]]:
    """Seconds per iteration and peak memory of both engines on ``n_ratings`` ratings."""
    rows = []
    for engine in ("spark", "matinee"):
        one = measure(f"bench_spark:{engine}_iterations", n_ratings, 1, label=f"{engine} 1")
        three = measure(f"bench_spark:{engine}_iterations", n_ratings, 3, label=f"{engine} 3")
        rows.append(
            {
                "engine": engine,
                "n_ratings": n_ratings,
                "seconds_per_iteration": (three.result["fit"] - one.result["fit"]) / 2,
                "setup_seconds": three.result["setup"]
                + one.result["fit"]
                - (three.result["fit"] - one.result["fit"]) / 2,
                "peak_rss_mb": max(one.peak_rss_mb, three.peak_rss_mb),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def _table(fold_rows: list[dict[str, Any]], synthetic_rows: list[dict[str, Any]]) -> str:
    lines = [
        "| fold | Spark biased ALS | Matinee biased MF (ALS) | MLlib plain ALS |",
        "|---|---|---|---|",
    ]
    for row in fold_rows:
        lines.append(
            f"| {row['fold']} | {row['spark_biased_als']:.4f} | "
            f"{row['matinee_biased_mf_als']:.4f} | {row['mllib_plain_als']:.4f} |"
        )
    if fold_rows:
        means = {
            key: sum(r[key] for r in fold_rows) / len(fold_rows)
            for key in ("spark_biased_als", "matinee_biased_mf_als", "mllib_plain_als")
        }
        lines.append(
            f"| mean | {means['spark_biased_als']:.4f} | {means['matinee_biased_mf_als']:.4f} | "
            f"{means['mllib_plain_als']:.4f} |"
        )
    if synthetic_rows:
        lines += [
            "",
            "| engine | ratings | s / iteration | set-up s | peak MiB |",
            "|---|---|---|---|---|",
        ]
        for row in synthetic_rows:
            lines.append(
                f"| {row['engine']} | {row['n_ratings']:,} | {row['seconds_per_iteration']:.1f} | "
                f"{row['setup_seconds']:.1f} | {row['peak_rss_mb']:.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="u1,u2,u3,u4,u5", help="Canonical folds ('' to skip).")
    parser.add_argument("--synthetic", type=int, default=0, help="Synthetic ratings (0: skip).")
    args = parser.parse_args()
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    result = {
        "config": CONFIG,
        "folds": folds(names) if (names := [f for f in args.folds.split(",") if f]) else [],
        "synthetic": synthetic(args.synthetic) if args.synthetic else [],
    }
    for key in ("folds", "synthetic"):
        result[key] = result[key] or previous.get(key, [])
    RESULTS.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    table = _table(result["folds"], result["synthetic"])
    (RESULTS / "spark.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
