"""Metrics in Spark with the definitions of :mod:`matinee.evaluation` (binary relevance).

:func:`rating_metrics` gives RMSE and MAE of a ``rating, prediction`` frame. :func:`ranking_metrics`
scores top-k lists (``user_idx, movie_idx, rank``, rank 1 = best) against the relevant movies
(``user_idx, movie_idx``): per user with at least one relevant movie, precision@k = hits / k,
recall@k = hits / |relevant|, NDCG@k with the ideal DCG over ``min(k, |relevant|)`` hits,
AP@k normalised by ``min(k, |relevant|)``, reciprocal rank and hit; each is the mean over those
users (a user without a list scores 0), exactly as
:func:`matinee.evaluation.ranking_metrics.accuracy_metrics`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from matinee.errors import ConfigError, DataError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["ranking_metrics", "rating_metrics"]


def rating_metrics(frame: DataFrame) -> dict[str, float]:
    """``rmse`` and ``mae`` of the ``rating`` and ``prediction`` columns.

    Raises:
        DataError: The frame has no rows.
    """
    from pyspark.sql import functions as F

    error = F.col("rating").cast("double") - F.col("prediction").cast("double")
    row = frame.agg(F.count("*"), F.avg(error * error), F.avg(F.abs(error))).first()
    if row is None or not row[0]:
        raise DataError("cannot compute a rating metric over zero ratings")
    return {"rmse": math.sqrt(float(row[1])), "mae": float(row[2])}


def ranking_metrics(recommended: DataFrame, relevant: DataFrame, k: int) -> dict[str, float]:
    """``precision``, ``recall``, ``ndcg``, ``map``, ``mrr`` and ``hit_rate`` at ``k``.

    Args:
        recommended: ``user_idx, movie_idx, rank`` rows, ranks 1..k (fewer rows: padding).
        relevant: ``user_idx, movie_idx`` of each user's relevant movies (no duplicates).
        k: The list length the lists were cut at.

    Raises:
        ConfigError: ``k`` is not a positive integer.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    ideal = [0.0]
    for rank in range(1, k + 1):
        ideal.append(ideal[-1] + 1.0 / math.log2(rank + 1))
    counts = relevant.groupBy("user_idx").agg(F.count("*").alias("n_relevant"))
    hits = recommended.filter(F.col("rank") <= k).join(relevant, ["user_idx", "movie_idx"])
    hits = hits.withColumn(
        "hits_so_far", F.row_number().over(Window.partitionBy("user_idx").orderBy("rank"))
    )
    per_user = hits.groupBy("user_idx").agg(
        F.count("*").alias("hits"),
        F.sum(1.0 / F.log2(F.col("rank") + 1.0)).alias("dcg"),
        F.sum(F.col("hits_so_far") / F.col("rank")).alias("ap_sum"),
        F.min("rank").alias("first"),
    )
    rows = counts.join(per_user, "user_idx", "left").na.fill(0)
    capped = F.least(F.col("n_relevant"), F.lit(k))
    ideal_dcg = F.element_at(F.array(*(F.lit(v) for v in ideal)), (capped + 1).cast("int"))
    result = rows.agg(
        F.avg(F.col("hits") / k).alias("precision"),
        F.avg(F.col("hits") / F.col("n_relevant")).alias("recall"),
        F.avg(F.col("dcg") / ideal_dcg).alias("ndcg"),
        F.avg(F.col("ap_sum") / capped).alias("map"),
        F.avg(F.when(F.col("hits") > 0, 1.0 / F.col("first")).otherwise(0.0)).alias("mrr"),
        F.avg(F.when(F.col("hits") > 0, 1.0).otherwise(0.0)).alias("hit_rate"),
    ).first()
    if result is None or result[0] is None:
        return dict.fromkeys(("precision", "recall", "ndcg", "map", "mrr", "hit_rate"), 0.0)
    return {name: float(result[name]) for name in result.asDict()}
