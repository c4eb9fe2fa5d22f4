"""The splits of :mod:`matinee.data.splits`, computed in Spark: the same rows for the same spec.

Both engines order by the same keys (:mod:`matinee.data.split_keys`: ``xxhash64`` of the seed
and raw ids, Spark's built-in), so each part holds exactly the rows the single-machine split
holds. Exact counts come from histogram order statistics (:mod:`matinee.spark._select`), per-user
ranks from a window partitioned by user. Kinds: ``random``, ``kfold``, ``user``, ``per-user``
(random and latest), ``temporal`` and the canonical ml-100k folds (``u1`` .. ``u5``, ``ua``,
``ub``, read by the single-machine reader). ``hidden-ratings`` is single-machine only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from matinee.data.split_spec import SPLIT_KINDS, KindReader, _SpecArgs, split_readers
from matinee.data.splits import _check_count, _check_fraction, _check_holdout, _share
from matinee.errors import SplitError
from matinee.settings import Settings
from matinee.spark._select import first_rows, kth_tuple
from matinee.spark.readers import SparkRatings, ratings_frame

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["SPARK_SPLIT_KINDS", "SparkSplit", "spark_split_from_spec"]


@dataclass(frozen=True, eq=False)
class SparkSplit:
    """Train and test (and optional validation) frames over one pair of id maps."""

    train: SparkRatings
    test: SparkRatings
    validation: SparkRatings | None = None
    name: str = ""


def _key(seed: int, *columns: str) -> Column:
    from pyspark.sql import functions as F

    return F.xxhash64(F.lit(seed).cast("long"), *(F.col(c).cast("long") for c in columns))


def _parts(data: SparkRatings, frame: DataFrame, part: Column, name: str, val: bool) -> SparkSplit:
    """Cut ``frame`` by ``part`` (0 train, 1 test, 2 validation)."""
    from pyspark.sql import functions as F

    labelled = frame.withColumn("_part", part)

    def take(value: int) -> SparkRatings:
        rows = labelled.filter(F.col("_part") == value)
        rows = rows.drop(*(c for c in rows.columns if c.startswith("_")))
        return data.with_frame(rows)

    return SparkSplit(take(0), take(1), take(2) if val else None, name)


def random_split(
    data: SparkRatings, *, test_fraction: float, validation_fraction: float, seed: int
) -> SparkSplit:
    """:func:`matinee.data.splits.random_split` in Spark."""
    from pyspark.sql import functions as F

    _check_fraction("test_fraction", test_fraction)
    _check_fraction("validation_fraction", validation_fraction, zero_ok=True)
    frame = data.frame.withColumn("_key", _key(seed, "user_id", "movie_id")).cache()
    n = frame.count()
    n_test = max(1, _share(test_fraction, n))
    n_val = max(1, _share(validation_fraction, n)) if validation_fraction > 0 else 0
    if n_test + n_val >= n:
        raise SplitError(f"test and validation fractions leave no training rating out of {n}")
    order = ("_key", "user_id", "movie_id")
    test = first_rows(frame, order, n_test, n)
    held = first_rows(frame, order, n_test + n_val, n)
    part = F.when(test, 1).when(held, 2).otherwise(0)
    name = f"random(test={test_fraction:g}, validation={validation_fraction:g}, seed={seed})"
    return _parts(data, frame, part, name, n_val > 0)


def kfold(data: SparkRatings, k: int, *, seed: int) -> list[SparkSplit]:
    """:func:`matinee.data.splits.kfold` in Spark: fold ``i`` is ``position * k // n == i``."""
    from pyspark.sql import functions as F

    _check_count("k", k, low=2)
    frame = data.frame.withColumn("_key", _key(seed, "user_id", "movie_id")).cache()
    n = frame.count()
    if n < k:
        raise SplitError(f"cannot make {k} folds from {n} rating(s)")
    order = ("_key", "user_id", "movie_id")
    bounds = [first_rows(frame, order, -(-i * n // k), n) for i in range(k + 1)]
    return [
        _parts(
            data,
            frame,
            F.when(bounds[i + 1] & ~bounds[i], 1).otherwise(0),
            f"kfold(k={k}, fold={i + 1}, seed={seed})",
            False,
        )
        for i in range(k)
    ]


def user_split(
    data: SparkRatings, *, test_fraction: float, validation_fraction: float, seed: int
) -> SparkSplit:
    """:func:`matinee.data.splits.user_split` in Spark (users ordered by their key)."""
    from pyspark.sql import functions as F

    _check_fraction("test_fraction", test_fraction)
    _check_fraction("validation_fraction", validation_fraction, zero_ok=True)
    users = data.frame.select("user_id").distinct().withColumn("_key", _key(seed, "user_id"))
    users = users.cache()
    n = users.count()
    n_test = max(1, _share(test_fraction, n))
    n_val = max(1, _share(validation_fraction, n)) if validation_fraction > 0 else 0
    if n_test + n_val >= n:
        raise SplitError(f"cannot hold out {n_test} test and {n_val} validation of {n} user(s)")
    order = ("_key", "user_id")
    test, held = first_rows(users, order, n_test, n), first_rows(users, order, n_test + n_val, n)
    groups = users.select("user_id", F.when(test, 1).when(held, 2).otherwise(0).alias("_group"))
    frame = data.frame.join(groups, "user_id")
    name = f"user(test={test_fraction:g}, validation={validation_fraction:g}, seed={seed})"
    return _parts(data, frame, F.col("_group"), name, n_val > 0)


def per_user_holdout(
    data: SparkRatings,
    *,
    n: int | None,
    fraction: float | None,
    strategy: str,
    min_train: int,
    validation: bool,
    seed: int,
) -> SparkSplit:
    """:func:`matinee.data.splits.per_user_holdout` in Spark (ranks from a per-user window)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    _check_holdout(n, fraction, strategy, min_train)
    key = F.col("timestamp") if strategy == "latest" else _key(seed, "user_id", "movie_id")
    by_user = Window.partitionBy("user_id")
    ranked = (
        data.frame.withColumn("_key", key)
        .withColumn("_rank", F.row_number().over(by_user.orderBy("_key", "movie_id")) - 1)
        .withColumn("_count", F.count("*").over(by_user))
    )
    spare = F.greatest(F.col("_count") - min_train, F.lit(0))
    wanted = (
        F.lit(n)
        if n is not None
        else F.floor(F.lit(float(fraction or 0.0)) * F.col("_count") + 0.5)
    )
    n_test = F.least(wanted.cast("long"), spare)
    n_val = F.least(n_test, spare - n_test) if validation else F.lit(0)
    from_end = F.col("_count") - F.col("_rank")
    part = F.when(from_end <= n_test, 1).when(from_end <= n_test + n_val, 2).otherwise(0)
    amount = f"n={n}" if n is not None else f"fraction={fraction:g}"
    name = f"per-user({amount}, {strategy}, min_train={min_train}, seed={seed})"
    return _parts(data, ranked, part, name, validation)


def temporal_split(
    data: SparkRatings, *, cutoff: int | None, test_fraction: float | None
) -> SparkSplit:
    """:func:`matinee.data.splits.temporal_split` in Spark (the cut-off by order statistics)."""
    from pyspark.sql import functions as F

    if (cutoff is None) == (test_fraction is None):
        raise SplitError(
            f"give exactly one of cutoff or test_fraction, got {cutoff=!r}, {test_fraction=!r}"
        )
    if test_fraction is not None:
        _check_fraction("test_fraction", test_fraction)
        total = data.frame.count()
        n_test = max(1, _share(test_fraction, total))
        cutoff = kth_tuple(data.frame, ("timestamp",), total - n_test + 1)[0]
    assert cutoff is not None
    part = F.when(F.col("timestamp") >= cutoff, 1).otherwise(0)
    return _parts(data, data.frame, part, f"temporal(cutoff={cutoff})", False)


SPARK_SPLIT_KINDS: dict[str, KindReader] = split_readers(
    random_split, kfold, user_split, per_user_holdout, temporal_split
)
"""Kinds of :data:`matinee.data.split_spec.SPLIT_KINDS` that Spark computes itself."""


def _canonical(
    spark: SparkSession, data: SparkRatings, spec: str, settings: Settings | None
) -> list[SparkSplit]:
    """The canonical ml-100k folds, read by the single-machine reader and staged for Spark."""
    from matinee.data.loader import load_dataset
    from matinee.data.split_spec import split_from_spec

    dataset = load_dataset("ml-100k", settings=settings)
    if data.users != dataset.ratings.users or data.movies != dataset.ratings.movies:
        raise SplitError(f"split {spec!r} exists only for ml-100k, not for {data.name!r}")
    return [
        SparkSplit(
            ratings_frame(spark, split.train, settings=settings, name=data.name),
            ratings_frame(spark, split.test, settings=settings, name=data.name),
            name=split.name,
        )
        for split in split_from_spec(dataset, spec, settings=settings)
    ]


def spark_split_from_spec(
    spark: SparkSession, data: SparkRatings, spec: str, *, settings: Settings | None = None
) -> list[SparkSplit]:
    """The Spark splits a ``--split`` spec names: the same grammar and rows as one machine's.

    Raises:
        SplitError: The spec is malformed, names a kind Spark does not compute, or cannot be
            made from this data.
    """
    from matinee.data.split_spec import _CANONICAL

    spec = spec.strip()
    if spec in _CANONICAL:
        return _canonical(spark, data, spec, settings)
    kind, _, text = spec.partition(":")
    if kind not in SPARK_SPLIT_KINDS:
        known = ", ".join([*SPARK_SPLIT_KINDS, "u1 .. u5, ua, ub, u1-u5, ua-ub"])
        raise SplitError(f"split {spec!r}: Spark computes only {known}")
    row, args = SPLIT_KINDS[kind], _SpecArgs(spec, kind, text)
    first, count = (args.integer("seed", 0), args.integer("seeds", 1)) if row.seeded else (0, 1)
    if count < 1:
        raise SplitError(f"bad split spec {spec!r}: seeds must be >= 1, got {count}")
    make = SPARK_SPLIT_KINDS[kind](args)
    args.finish()
    return [split for seed in range(first, first + count) for split in make(data, seed)]
