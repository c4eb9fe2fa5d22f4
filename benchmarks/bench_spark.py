"""Spark backend: accuracy on ml-100k u1-u5 and time per iteration on synthetic ratings.

Part 1 (``--folds``): on the same canonical folds, Spark biased ALS
(:func:`matinee.spark.trainers.train_biased_als`: Matinee's joint ALS half steps on Spark
partitions), Matinee's biased MF with the ALS solver (the same config), and MLlib's plain ALS
(rank 50, reg 0.1, 10 iterations). RMSE per fold and the mean.

Part 2 (``--synthetic N``): N synthetic ratings; seconds per ALS iteration of Spark (local[2]) and
of Matinee, each in its own process (peak memory of that process and its children, the JVM
included: the largest single process). Per iteration = (time of ``3`` iterations - time of ``1``)
/ 2, so the set-up (reading, indexing, the JVM) is reported apart.

Part 3 (``--cluster N``): N synthetic ratings on a standalone cluster on this machine, 1 worker x
1 core and 2 workers x 1 core; per iteration from fits of 1 and 3 iterations in one application.
From those two, the per-iteration time splits into a part that divides among workers and a part
that does not, and :func:`billion` puts both, and the memory per executor, at a billion ratings.

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
        train, test = (
            ratings_frame(spark, split.train),
            ratings_frame(spark, split.test),
        )
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


CLUSTER_EPOCHS = (1, 3)
EXECUTOR_MEMORY = "1g"
"""Executor memory of the cluster runs (each worker offers 2 GiB)."""


def _cached_bytes(spark: Any, frame: Any) -> int:
    """Bytes Spark's cache holds for ``frame``'s ratings columns (user, movie, rating)."""
    blocks = frame.select("user_idx", "movie_idx", "rating").cache()
    blocks.count()
    size = sum(int(info.memSize()) for info in spark.sparkContext._jsc.sc().getRDDStorageInfo())
    blocks.unpersist()
    return size


def cluster_iterations(master: str, n_ratings: int) -> dict[str, Any]:
    """On ``master``: set-up, then fits of each of :data:`CLUSTER_EPOCHS` in one application."""
    from matinee.data.synthetic import generate_ratings
    from matinee.models.factorization.mf import BiasedMFConfig
    from matinee.spark.readers import ratings_frame
    from matinee.spark.session import spark_session
    from matinee.spark.trainers import train_biased_als

    started = time.perf_counter()
    ratings = generate_ratings(n_ratings, seed=0)
    spark = spark_session(master, config={"spark.executor.memory": EXECUTOR_MEMORY})
    frame = ratings_frame(spark, ratings)
    cached = _cached_bytes(spark, frame.frame)
    setup = time.perf_counter() - started
    fits = []
    for epochs in CLUSTER_EPOCHS:
        started = time.perf_counter()
        train_biased_als(frame, BiasedMFConfig(**{**CONFIG, "n_factors": 64, "epochs": epochs}))  # type: ignore[arg-type]
        fits.append(time.perf_counter() - started)
    partitions = spark.sparkContext.defaultParallelism
    spark.stop()
    return {
        "setup": setup,
        "fits": fits,
        "cached_bytes": cached,
        "partitions": partitions,
        "n_users": ratings.n_users,
        "n_movies": ratings.n_movies,
    }


def cluster(n_ratings: int) -> list[dict[str, Any]]:
    """Seconds per iteration on 1 and 2 one-core workers of a local standalone cluster."""
    import tempfile

    from matinee.spark.local_cluster import local_cluster

    rows = []
    for workers in (1, 2):
        with (
            tempfile.TemporaryDirectory() as work,
            local_cluster(Path(work), workers, memory="2g") as url,
        ):
            run = measure("bench_spark:cluster_iterations", url, n_ratings, label=f"{workers}w")
        one, three = run.result["fits"]
        rows.append(
            {
                "workers": workers,
                "cores_per_worker": 1,
                "n_ratings": n_ratings,
                "seconds_per_iteration": (three - one) / (CLUSTER_EPOCHS[1] - CLUSTER_EPOCHS[0]),
                "setup_seconds": run.result["setup"],
                "driver_peak_rss_mb": run.peak_rss_mb,
                **{k: run.result[k] for k in ("cached_bytes", "partitions", "n_users", "n_movies")},
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


BILLION = 1_000_000_000
WORKERS = (10, 50, 100)
PYTHON_BYTES_PER_RATING = 36
"""A task's arrays per rating: the three Arrow columns (12 B), np.unique's inverse and argsort
(int64, 16 B) and the two sorted columns (8 B), all alive while the rows are solved."""


def billion(rows: list[dict[str, Any]], cores: int = 4, n_factors: int = 64) -> dict[str, Any]:
    """A billion ratings on paper from the 1- and 2-worker rows (same ratings, one core each).

    Per iteration ``t(N) = a + b / N``: from ``t1 = a + b`` and ``t2 = a + b / 2``, ``b = 2 (t1 -
    t2)`` (divides among workers, grows with the ratings) and ``a = t1 - b`` (the driver's
    collect and broadcast of factors, grows with users + movies). At a billion ratings ``b`` is
    scaled by the ratings and ``a`` by the users + movies (same ratios as the measured data),
    and ``N`` workers of ``cores`` cores each solve ``b / (N cores)``.
    """
    one, two = sorted(rows, key=lambda row: row["workers"])[:2]
    scale = BILLION / one["n_ratings"]
    b = 2.0 * (one["seconds_per_iteration"] - two["seconds_per_iteration"])
    a = one["seconds_per_iteration"] - b
    users, movies = one["n_users"] * scale, one["n_movies"] * scale
    fixed_side = 4 * (n_factors + 1) * max(users, movies)
    times = {str(n): max(a, 0.0) * scale + b * scale / (n * cores) for n in WORKERS}
    per_partition = {str(n): BILLION / (n * cores) for n in WORKERS}
    memory = {
        str(n): one["cached_bytes"] / one["n_ratings"] * 2 * BILLION / n
        + cores * (PYTHON_BYTES_PER_RATING * per_partition[str(n)] + fixed_side)
        for n in WORKERS
    }
    return {
        "measured_ratings": one["n_ratings"],
        "a_seconds": a,
        "b_seconds": b,
        "cores_per_worker": cores,
        "users": users,
        "movies": movies,
        "broadcast_bytes": fixed_side,
        "cached_bytes_per_rating": one["cached_bytes"] / one["n_ratings"],
        "ratings_per_partition": per_partition,
        "seconds_per_iteration": times,
        "executor_bytes": memory,
    }


def _cluster_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "| workers x cores | ratings | partitions | s / iteration | set-up s | cache B / rating |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['workers']} x {row['cores_per_worker']} | {row['n_ratings']:,} | "
            f"{row['partitions']} | {row['seconds_per_iteration']:.1f} | "
            f"{row['setup_seconds']:.1f} | {row['cached_bytes'] / row['n_ratings']:.1f} |"
        )
    paper = billion(rows)
    lines += [
        "",
        f"A billion ratings (a = {paper['a_seconds']:.2f} s, b = {paper['b_seconds']:.2f} s at "
        f"{paper['measured_ratings']:,}; {paper['cores_per_worker']} cores a worker, "
        f"{paper['users']:,.0f} users, {paper['movies']:,.0f} movies, broadcast "
        f"{paper['broadcast_bytes'] / 2**30:.2f} GiB):",
        "",
        "| workers | ratings / partition | s / iteration | executor GiB |",
        "|---|---|---|---|",
    ]
    for n in WORKERS:
        key = str(n)
        lines.append(
            f"| {n} | {paper['ratings_per_partition'][key]:,.0f} | "
            f"{paper['seconds_per_iteration'][key]:,.0f} | "
            f"{paper['executor_bytes'][key] / 2**30:.1f} |"
        )
    return lines


def _table(
    fold_rows: list[dict[str, Any]],
    synthetic_rows: list[dict[str, Any]],
    cluster_rows: list[dict[str, Any]],
) -> str:
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
    if len(cluster_rows) >= 2:
        lines += _cluster_table(cluster_rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", default="u1,u2,u3,u4,u5", help="Canonical folds ('' to skip).")
    parser.add_argument("--synthetic", type=int, default=0, help="Synthetic ratings (0: skip).")
    parser.add_argument("--cluster", type=int, default=0, help="Cluster ratings (0: skip).")
    args = parser.parse_args()
    previous = json.loads(OUT.read_text()) if OUT.exists() else {}
    result = {
        "config": CONFIG,
        "folds": folds(names) if (names := [f for f in args.folds.split(",") if f]) else [],
        "synthetic": synthetic(args.synthetic) if args.synthetic else [],
        "cluster": cluster(args.cluster) if args.cluster else [],
    }
    for key in ("folds", "synthetic", "cluster"):
        result[key] = result[key] or previous.get(key, [])
    if len(result["cluster"]) >= 2:
        result["billion"] = billion(result["cluster"])
    RESULTS.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    table = _table(result["folds"], result["synthetic"], result["cluster"])
    (RESULTS / "spark.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
