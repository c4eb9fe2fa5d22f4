"""Models trained in Spark that come back as ordinary Matinee models (``from_parameters``).

* :func:`train_baseline`: :class:`~matinee.models.baselines.baseline.BiasBaseline`'s alternating
  bias updates as DataFrame aggregations (the same formulas, so the same biases).
* :func:`train_biased_als`: :class:`~matinee.models.factorization.mf.BiasedMF`'s ALS solver run
  in Spark (:mod:`matinee.spark._als`): each half step jointly ridge-solves every user's (or
  movie's) bias and factors on the partitions, so both engines fit the same model.
* :func:`train_implicit_als`: MLlib's ALS with ``implicitPrefs`` (confidence ``1 + alpha``) for
  :class:`~matinee.models.factorization.ials.ImplicitALS`. MLlib weights ``reg`` by each row's
  count; Matinee's own solver does not, so equal ``reg`` values are not equal models.

Users or movies without a training rating get zero biases (and, for the MLlib models, zero
factors).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from matinee.errors import ConfigError
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.spark._als import fit_joint_als
from matinee.spark.readers import SparkRatings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["train_baseline", "train_biased_als", "train_implicit_als"]

log = logging.getLogger(__name__)

SPARK_MODELS = ("als", "ials", "baseline")
"""Names the CLI's ``matinee spark train`` takes."""


def _dense(frame: DataFrame, index: str, value: str, size: int) -> npt.NDArray[np.float64]:
    """A per-index column collected into a dense array (zero where no row)."""
    table = frame.select(index, value).toArrow()
    out = np.zeros(size, dtype=np.float64)
    out[table[index].to_numpy()] = table[value].to_numpy()
    return out


def _factors(frame: DataFrame, size: int, rank: int) -> npt.NDArray[np.float32]:
    """MLlib ``id, features`` rows as a dense ``size x rank`` matrix (zero rows where absent)."""
    table = frame.select("id", "features").toArrow()
    out = np.zeros((size, rank), dtype=np.float32)
    ids = table["id"].to_numpy()
    if ids.size:
        values = table["features"].combine_chunks().flatten().to_numpy()
        out[ids] = values.reshape(ids.size, rank)
    return out


def _bias_rounds(
    train: DataFrame,
    target: str,
    mean: float,
    rounds: int,
    penalty: tuple[float, float],
) -> tuple[DataFrame, DataFrame]:
    """Alternate movie then user bias updates on column ``target`` around ``mean``.

    Each update is ``b = sum(residual) / (reg + n)``; ``penalty`` is (users, movies).
    """
    from pyspark.sql import functions as F

    def solve(by: str, other: DataFrame | None, other_key: str, reg: float) -> DataFrame:
        rows = train if other is None else train.join(F.broadcast(other), other_key, "left")
        other_bias = F.lit(0.0) if other is None else F.coalesce(F.col("_other"), F.lit(0.0))
        residual = F.col(target) - mean - other_bias
        count = F.count("*").cast("double")
        biases = rows.groupBy(by).agg((F.sum(residual) / (count + reg)).alias("_bias"))
        # a checkpoint cuts the plan: cached rounds would nest every earlier round's plan, and
        # ten rounds' plan text alone outgrew a 2 GB driver
        return biases.localCheckpoint(eager=True)

    users: DataFrame | None = None
    movies: DataFrame | None = None
    for _ in range(rounds):
        prior_users = None if users is None else users.withColumnRenamed("_bias", "_other")
        movies = solve("movie_idx", prior_users, "user_idx", penalty[1])
        users = solve(
            "user_idx", movies.withColumnRenamed("_bias", "_other"), "movie_idx", penalty[0]
        )
    assert users is not None and movies is not None
    return users, movies


def _mean(frame: DataFrame, column: str) -> float:
    from pyspark.sql import functions as F

    row = frame.agg(F.avg(column)).first()
    return float(row[0]) if row is not None and row[0] is not None else 0.0


def _reserved(train: SparkRatings, mean: float) -> dict[str, np.ndarray]:
    return {
        "user_ids": train.users.raw_ids,
        "movie_ids": train.movies.raw_ids,
        "rating_scale": np.asarray(train.rating_scale, dtype=np.float64),
        "global_mean": np.asarray([mean], dtype=np.float64),
    }


def train_baseline(train: SparkRatings, config: BiasBaselineConfig) -> BiasBaseline:
    """Fit :class:`BiasBaseline` in Spark (same updates as on one machine).

    Its list head's taste vectors are not learned in Spark (they need an SVD of all
    interactions): the exported model ranks lists by its biases' predicted ratings.
    """
    config.validate()
    frame = train.frame.cache()
    mean = _mean(frame, "rating")
    penalty = (config.reg_users, config.reg_movies)
    users, movies = _bias_rounds(frame, "rating", mean, config.epochs, penalty)
    params = {
        **_reserved(train, mean),
        "user_bias": _dense(users, "user_idx", "_bias", len(train.users)).astype(np.float32),
        "movie_bias": _dense(movies, "movie_idx", "_bias", len(train.movies)).astype(np.float32),
        "taste_vectors": np.zeros((len(train.movies), 0), dtype=np.float32),
    }
    return BiasBaseline.from_parameters(config, params)


def train_biased_als(train: SparkRatings, config: BiasedMFConfig) -> BiasedMF:
    """Fit :class:`BiasedMF` in Spark with its ALS solver's joint bias-and-factor half steps."""
    config.validate()
    if not config.solves_by_als():
        raise ConfigError("Spark trains biased-mf with solver=als only (got solver=sgd)")
    frame = train.frame
    mean = _mean(frame, "rating")
    weights = fit_joint_als(frame, config, mean, (len(train.users), len(train.movies)))
    params = {
        **_reserved(train, mean),
        "user_factors": weights.user_factors,
        "movie_factors": weights.movie_factors,
        "user_bias": weights.user_bias,
        "movie_bias": weights.movie_bias,
    }
    return BiasedMF.from_parameters(config, params)


def train_implicit_als(train: SparkRatings, config: ImplicitALSConfig) -> ImplicitALS:
    """Fit :class:`ImplicitALS` with MLlib's implicit-feedback ALS (every rating a positive)."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import functions as F

    config.validate()
    frame = train.frame
    if config.positive_threshold is not None:
        frame = frame.filter(F.col("rating") >= config.positive_threshold)
    frame = frame.withColumn("_seen", F.lit(1.0))
    als = ALS(
        rank=config.n_factors,
        maxIter=config.epochs,
        regParam=config.reg,
        alpha=config.alpha,
        implicitPrefs=True,
        userCol="user_idx",
        itemCol="movie_idx",
        ratingCol="_seen",
        seed=config.seed,
    )
    model = als.fit(frame)
    params = {
        **_reserved(train, _mean(train.frame, "rating")),
        "user_factors": _factors(model.userFactors, len(train.users), config.n_factors),
        "movie_factors": _factors(model.itemFactors, len(train.movies), config.n_factors),
    }
    return ImplicitALS.from_parameters(config, params)
