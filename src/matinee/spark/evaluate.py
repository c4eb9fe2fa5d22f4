"""Evaluate a Matinee model on a Spark split, the scoring spread over the executors.

The model's parameters travel to the executors with the task; each task rebuilds the model
(``from_parameters``) and calls its own ``predict`` and ``rank_users`` on a batch of users, with
the movies each user rated in train (and validation) excluded by :func:`matinee.ranking.top_k`.
The metrics are then Spark aggregations (:mod:`matinee.spark.metrics`). The lists and
predictions are those of :func:`matinee.evaluation.evaluate`, so the numbers are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.ranking import PAD, top_k
from matinee.spark.metrics import ranking_metrics, rating_metrics
from matinee.spark.splits import SparkSplit

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["spark_evaluate", "spark_top_k"]

_LIST_SCHEMA = "user_idx INT, movie_idx INT, rank INT"


def _rebuild(name: str, config: Any, params: dict[str, np.ndarray]) -> Recommender[Any]:
    return model_class(name).from_parameters(config, params)


def _lists(
    model: Recommender[Any], k: int, batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """Top-k rows of each batch of ``user_idx, seen`` (the seen movies excluded)."""
    for batch in batches:
        users = batch.column("user_idx").to_numpy(zero_copy_only=False).astype(np.int32)
        seen = batch.column("seen")
        lengths = np.diff(seen.offsets.to_numpy())
        rows = np.repeat(np.arange(users.size), lengths)
        cols = seen.flatten().to_numpy(zero_copy_only=False)
        exclude = sp.csr_matrix(
            (np.ones(cols.size, dtype=np.int8), (rows, cols)), shape=(users.size, model.n_movies)
        )
        best = top_k(model.rank_users(users), k, exclude=exclude)
        user_col = np.repeat(users, best.shape[1])
        rank_col = np.tile(np.arange(1, best.shape[1] + 1, dtype=np.int32), users.size)
        keep = best.ravel() != PAD
        yield pa.record_batch(
            {
                "user_idx": user_col[keep],
                "movie_idx": best.ravel()[keep].astype(np.int32),
                "rank": rank_col[keep],
            }
        )


def spark_top_k(model: Recommender[Any], users: DataFrame, seen: DataFrame, k: int) -> DataFrame:
    """``user_idx, movie_idx, rank`` top-k rows by ``model.rank_users`` for ``users``.

    Args:
        model: A fitted Matinee model (its parameters are shipped to the executors).
        users: ``user_idx`` of the users to rank.
        seen: ``user_idx, movie_idx`` pairs never to recommend (what each user rated).
        k: List length.
    """
    from pyspark.sql import functions as F

    name, config, params = model.name, model.config, model.parameters()
    grouped = seen.groupBy("user_idx").agg(F.collect_list("movie_idx").alias("seen"))
    frame = users.join(grouped, "user_idx", "left").select(
        "user_idx", F.coalesce("seen", F.array().cast("array<int>")).alias("seen")
    )

    def rank(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield from _lists(_rebuild(name, config, params), k, batches)

    return frame.mapInArrow(rank, _LIST_SCHEMA)


def _predictions(model: Recommender[Any], test: DataFrame) -> DataFrame:
    """``rating, prediction`` of every test row by ``model.predict`` (clipped to the scale)."""
    name, config, params = model.name, model.config, model.parameters()

    def predict(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rebuilt = _rebuild(name, config, params)
        for batch in batches:
            users = batch.column("user_idx").to_numpy(zero_copy_only=False)
            movies = batch.column("movie_idx").to_numpy(zero_copy_only=False)
            predicted = rebuilt.predict(users, movies).astype(np.float64)
            yield pa.record_batch(
                {"rating": batch.column("rating").cast(pa.float64()), "prediction": predicted}
            )

    columns = test.select("user_idx", "movie_idx", "rating")
    return columns.mapInArrow(predict, "rating DOUBLE, prediction DOUBLE")


def spark_evaluate(
    model: Recommender[Any], split: SparkSplit, *, k: int = 10, relevance_threshold: float = 4.0
) -> dict[str, float]:
    """Rating metrics (rating models) and ranking metrics at ``k`` of ``model`` on ``split``.

    Keys as in :class:`matinee.evaluation.EvalResult`: ``rmse``, ``mae``, ``precision@k``,
    ``recall@k``, ``ndcg@k``, ``map@k``, ``mrr@k``, ``hit_rate@k``.
    """
    from pyspark.sql import functions as F

    test = split.test.frame
    values: dict[str, float] = {}
    if model.predicts_ratings:
        values.update(rating_metrics(_predictions(model, test)))
    relevant = test.filter(F.col("rating") >= relevance_threshold).select("user_idx", "movie_idx")
    seen = split.train.frame.select("user_idx", "movie_idx")
    if split.validation is not None:
        seen = seen.union(split.validation.frame.select("user_idx", "movie_idx"))
    users = relevant.select("user_idx").distinct()
    lists = spark_top_k(model, users, seen, k)
    ranked = ranking_metrics(lists, relevant, k)
    values.update({f"{name}@{k}": value for name, value in ranked.items()})
    return values
