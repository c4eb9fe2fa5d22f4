"""Spark splits hold exactly the rows of the single-machine splits, for the same spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from matinee.data.dataset import Dataset
from matinee.data.ratings import Ratings
from matinee.data.split_keys import hash_longs
from matinee.data.split_spec import split_from_spec
from matinee.errors import SplitError
from matinee.settings import Settings
from matinee.spark.readers import SparkRatings, collect_ratings, read_ratings_text
from matinee.spark.splits import spark_split_from_spec

pytestmark = pytest.mark.spark


def _rows(ratings: Ratings) -> set[tuple[int, int]]:
    return set(zip(ratings.user_idx.tolist(), ratings.movie_idx.tolist(), strict=True))


@pytest.mark.parametrize(
    "spec",
    [
        "random:0.2,validation=0.1,seed=3",
        "kfold:3",
        "user:0.1,0.1,seed=1",
        "per-user:n=5,random,seed=2",
        "per-user:fraction=0.3,latest,validation",
        "temporal:0.1",
        "u1",
    ],
)
def test_spark_split_rows_equal_single_machine(
    spark: SparkSession, ml100k: Dataset, spark_ml100k: SparkRatings, settings: Settings, spec: str
) -> None:
    local = split_from_spec(ml100k, spec, settings=settings)
    remote = spark_split_from_spec(spark, spark_ml100k, spec, settings=settings)
    assert [s.name for s in remote] == [s.name for s in local]
    for ours, theirs in zip(remote, local, strict=True):
        assert _rows(collect_ratings(ours.test)) == _rows(theirs.test)
        assert _rows(collect_ratings(ours.train)) == _rows(theirs.train)
        if theirs.validation is not None:
            assert ours.validation is not None
            assert _rows(collect_ratings(ours.validation)) == _rows(theirs.validation)


def test_hash_matches_spark_xxhash64(spark: SparkSession) -> None:
    from pyspark.sql import functions as F

    rng = np.random.default_rng(5)
    values = rng.integers(-(2**62), 2**62, (300, 2))
    frame = spark.createDataFrame([(int(a), int(b)) for a, b in values], "a long, b long")
    got = frame.select(F.xxhash64(F.lit(9).cast("long"), "a", "b")).collect()
    assert [row[0] for row in got] == hash_longs(9, values[:, 0], values[:, 1]).tolist()


@hypothesis_settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20), st.integers(0, 99))
def test_hash_is_order_free(values: list[int], seed: int) -> None:
    keys = hash_longs(seed, np.array(values))
    reversed_keys = hash_longs(seed, np.array(values[::-1]))
    assert keys.tolist() == reversed_keys[::-1].tolist()


def test_text_reader_gives_the_same_ratings(
    spark: SparkSession, ml100k: Dataset, mirror: object
) -> None:
    data = read_ratings_text(
        spark, f"{mirror}/ml-100k/u.data", separator="\t", header=False, rating_scale=(1.0, 5.0)
    )
    assert data.users == ml100k.ratings.users and data.movies == ml100k.ratings.movies
    ratings = collect_ratings(data)
    assert _rows(ratings) == _rows(ml100k.ratings)


def test_unknown_kind_is_refused(spark: SparkSession, spark_ml100k: SparkRatings) -> None:
    with pytest.raises(SplitError, match="Spark computes only"):
        spark_split_from_spec(spark, spark_ml100k, "hidden-ratings:0.1,0.2")
