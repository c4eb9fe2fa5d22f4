"""Epoch and iteration times of Matinee's kernels beside their peers, on the same data, one run.

``run_peers`` times, on one set of ratings:

* Matinee biased MF (SGD): fit set-up (block layout) and one epoch, 64 factors;
* Matinee iALS: one iteration (users then movies, 3 CG steps), 64 factors;
* ``implicit`` ALS (CPU, CG, 3 steps): one iteration, same factors, reg and confidence;
* Surprise SVD: trainset build and one epoch, on the first ``surprise_ratings`` ratings only
  (the whole 25M does not fit its Python-object trainset in memory here; the per-rating time
  is scaled to the whole set and said so);
* Spark MLlib ALS in ``local[2]``: session and DataFrame set-up, and one iteration (the time of
  3 iterations minus 1, halved, after a warm-up fit), on the first ``spark_ratings`` ratings.

``bench_scale.py`` calls it; alone it runs as
``python benchmarks/_scale_peers.py --ratings 25000000 --json out.json``. Generated ratings are
cached under ``/tmp/scale-kernels-data``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

CACHE = Path("/tmp/scale-kernels-data")
PEERS = ("matinee-mf", "matinee-ials", "implicit", "surprise", "spark")
REG, ALPHA, CG_STEPS = 0.05, 2.0, 3

Arrays = tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], npt.NDArray[np.float32], int, int]


def cached_ratings(n_ratings: int, seed: int = 0) -> Arrays:
    """``generate_ratings(n_ratings, seed=seed)`` as arrays, cached on disk between runs."""
    from matinee.data.synthetic import GENERATOR_VERSION, generate_ratings

    path = CACHE / f"ratings-{n_ratings}-{seed}-v{GENERATOR_VERSION}.npz"
    if not path.exists():
        data = generate_ratings(n_ratings, seed=seed)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(
            path,
            user=data.user_idx,
            movie=data.movie_idx,
            rating=data.rating,
            shape=np.array([data.n_users, data.n_movies]),
        )
    with np.load(path) as stored:
        n_users, n_movies = (int(x) for x in stored["shape"])
        return stored["user"], stored["movie"], stored["rating"], n_users, n_movies


def _ratings(arrays: Arrays) -> Any:
    from matinee.data.ids import IdMap
    from matinee.data.ratings import Ratings

    users, movies, rating, n_users, n_movies = arrays
    return Ratings(
        users,
        movies,
        rating,
        np.zeros(users.size, dtype=np.int64),
        IdMap(np.arange(1, n_users + 1), kind="user"),
        IdMap(np.arange(1, n_movies + 1), kind="movie"),
        (0.5, 5.0),
    )


def matinee_mf(arrays: Arrays, n_factors: int, epochs: int = 3) -> dict[str, float]:
    """Biased MF through ``fit``: the fastest of ``epochs`` epochs and the rest of the fit."""
    from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig

    model = BiasedMF(BiasedMFConfig(n_factors=n_factors, epochs=epochs))
    started = time.perf_counter()
    model.fit(_ratings(arrays))
    total = time.perf_counter() - started
    seconds = [record["seconds"] for record in model.history_]
    return {"epoch_s": min(seconds), "setup_s": total - sum(seconds)}


def matinee_ials(arrays: Arrays, n_factors: int, epochs: int = 2) -> dict[str, float]:
    """Implicit ALS through ``fit``: the fastest of ``epochs`` iterations."""
    from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig

    config = ImplicitALSConfig(
        n_factors=n_factors, epochs=epochs, reg=REG, alpha=ALPHA, cg_steps=CG_STEPS
    )
    model = ImplicitALS(config)
    started = time.perf_counter()
    model.fit(_ratings(arrays))
    total = time.perf_counter() - started
    seconds = [record["seconds"] for record in model.history_]
    return {"iteration_s": min(seconds), "setup_s": total - sum(seconds)}


def implicit_als(arrays: Arrays, n_factors: int, iterations: int = 2) -> dict[str, float]:
    """``implicit``'s CPU ALS on the same 0/1 matrix, confidence ``1 + ALPHA`` on rated cells."""
    import scipy.sparse as sp
    import threadpoolctl
    from implicit.cpu.als import AlternatingLeastSquares

    users, movies, _, n_users, n_movies = arrays
    matrix = sp.csr_matrix(
        (np.ones(users.size, dtype=np.float32), (users, movies)), shape=(n_users, n_movies)
    )
    model = AlternatingLeastSquares(
        factors=n_factors,
        regularization=REG,
        alpha=1.0 + ALPHA,
        iterations=iterations,
        use_cg=True,
        calculate_training_loss=False,
        random_state=0,
    )
    model.cg_steps = CG_STEPS  # an attribute, not a constructor argument (3 by default)
    marks = [time.perf_counter()]
    started = marks[0]

    def tick(*_: object) -> None:
        marks.append(time.perf_counter())

    with threadpoolctl.threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False, callback=tick)
    steps = np.diff(marks[1:]) if len(marks) > 2 else np.diff(marks)
    return {"iteration_s": float(steps.min()), "fit_s": time.perf_counter() - started}


def surprise_svd(arrays: Arrays, n_factors: int, subset: int) -> dict[str, float]:
    """Surprise SVD on the first ``subset`` ratings: trainset build and one epoch, scaled."""
    import pandas as pd
    from surprise import SVD, Dataset, Reader

    users, movies, rating, _, _ = arrays
    size = min(subset, users.size)
    frame = pd.DataFrame({"u": users[:size], "i": movies[:size], "r": rating[:size]})
    started = time.perf_counter()
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(0.5, 5.0))).build_full_trainset()
    built = time.perf_counter() - started
    started = time.perf_counter()
    SVD(n_factors=n_factors, n_epochs=1, random_state=0).fit(trainset)
    epoch = time.perf_counter() - started
    scale = users.size / size
    return {
        "ratings_timed": float(size),
        "trainset_s": built,
        "epoch_s": epoch,
        "epoch_s_scaled": epoch * scale,
        "trainset_s_scaled": built * scale,
    }


def spark_als(arrays: Arrays, n_factors: int, subset: int) -> dict[str, float]:
    """Spark MLlib ALS, ``local[2]``, on the first ``subset`` ratings; the JVM is stopped after."""
    import pandas as pd
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    users, movies, rating, _, _ = arrays
    size = min(subset, users.size)
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.driver.memory", "5g")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        frame = pd.DataFrame(
            {"user": users[:size], "movie": movies[:size], "rating": rating[:size]}
        )
        data = spark.createDataFrame(frame).cache()
        data.count()
        setup = time.perf_counter() - started
        fits = {}
        for iterations in (1, 1, 3):  # the first fit warms the JVM up; the second one counts
            als = ALS(
                rank=n_factors,
                maxIter=iterations,
                regParam=REG,
                userCol="user",
                itemCol="movie",
                ratingCol="rating",
            )
            began = time.perf_counter()
            als.fit(data).userFactors.count()
            fits[iterations] = time.perf_counter() - began
    finally:
        spark.stop()
    iteration = max(fits[3] - fits[1], 0.0) / 2
    return {
        "ratings_timed": float(size),
        "setup_s": setup,
        "fit_1_s": fits[1],
        "iteration_s": iteration,
        "iteration_s_scaled": iteration * users.size / size,
    }


def run_peers(
    arrays: Arrays,
    n_factors: int = 64,
    *,
    peers: Sequence[str] = PEERS,
    surprise_ratings: int = 1_000_000,
    spark_ratings: int = 2_000_000,
) -> dict[str, Any]:
    """Time every peer in ``peers`` on ``arrays``; the ratios the issue's targets name."""
    jobs: dict[str, Callable[[], dict[str, float]]] = {
        "matinee-mf": lambda: matinee_mf(arrays, n_factors),
        "matinee-ials": lambda: matinee_ials(arrays, n_factors),
        "implicit": lambda: implicit_als(arrays, n_factors),
        "surprise": lambda: surprise_svd(arrays, n_factors, surprise_ratings),
        "spark": lambda: spark_als(arrays, n_factors, spark_ratings),
    }
    results: dict[str, Any] = {"ratings": int(arrays[0].size), "n_factors": n_factors}
    log = logging.getLogger(__name__)
    for name in peers:
        log.info("timing %s", name)
        results[name] = jobs[name]()
        log.info("%s: %s", name, json.dumps(results[name]))
    results["ratios"] = _ratios(results)
    return results


def _ratios(results: dict[str, Any]) -> dict[str, float]:
    """Surprise epoch / Matinee epoch (target >= 5) and implicit / Matinee iALS (target >= 1)."""
    ratios = {}
    if "matinee-mf" in results and "surprise" in results:
        mf = results["matinee-mf"]["epoch_s"]
        ratios["surprise_epoch_over_mf_epoch"] = results["surprise"]["epoch_s_scaled"] / mf
    if "matinee-ials" in results and "implicit" in results:
        ials = results["matinee-ials"]["iteration_s"]
        ratios["implicit_iteration_over_ials_iteration"] = results["implicit"]["iteration_s"] / ials
    return ratios


def main() -> None:
    """Generate (or read the cached) ratings, time the peers, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=25_000_000)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    parser.add_argument("--surprise-ratings", type=int, default=1_000_000)
    parser.add_argument("--spark-ratings", type=int, default=2_000_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    results = run_peers(
        cached_ratings(args.ratings),
        args.factors,
        peers=args.peers,
        surprise_ratings=args.surprise_ratings,
        spark_ratings=args.spark_ratings,
    )
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
