"""Exact order statistics in Spark without a global sort: the first ``count`` rows by a key.

Rows are ordered by a tuple of long columns (a split key, then tie-breaking ids). The ``count``-th
row is found by histograms: bucket the candidate rows by the first column, keep the bucket where
the running count reaches ``count``, and repeat inside it until few rows remain, which are
collected and sorted on the driver. Every pass is one aggregation over the data, so it scales
to billions of rows (a uniform hash key needs one or two passes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

__all__ = ["first_rows", "kth_tuple"]

BUCKETS = 1 << 16
"""Histogram buckets per pass."""

COLLECT_LIMIT = 50_000
"""Candidate rows few enough to sort on the driver."""


def kth_tuple(frame: DataFrame, columns: Sequence[str], k: int) -> tuple[int, ...]:
    """The values of ``columns`` of the ``k``-th row (1-based) in ascending tuple order."""
    from pyspark.sql import functions as F

    key, ties = columns[0], list(columns[1:])
    candidates, need = frame, k
    while True:
        stats = candidates.agg(F.count("*"), F.min(key), F.max(key)).first()
        assert stats is not None
        size, low, high = int(stats[0]), int(stats[1]), int(stats[2])
        if size <= COLLECT_LIMIT:
            rows = sorted(
                tuple(int(v) for v in row) for row in candidates.select(*columns).collect()
            )
            return rows[need - 1]
        if low == high:
            if not ties:
                return (low,)
            return (low, *kth_tuple(candidates, ties, need))
        width = (float(high) - float(low)) / BUCKETS
        bucket = F.least(
            F.floor((F.col(key).cast("double") - float(low)) / width), F.lit(BUCKETS - 1)
        )
        counts = sorted(
            (int(row[0]), int(row[1]))
            for row in candidates.groupBy(bucket.alias("b")).count().collect()
        )
        before = 0
        for index, n in counts:
            if before + n >= need:
                candidates = candidates.filter(bucket == index)
                need -= before
                break
            before += n


def _at_most(columns: Sequence[str], values: Sequence[int]) -> Column:
    """``tuple(columns) <= tuple(values)``, lexicographically."""
    from pyspark.sql import functions as F

    head, rest = F.col(columns[0]), columns[1:]
    if not rest:
        return head <= values[0]
    return (head < values[0]) | ((head == values[0]) & _at_most(rest, values[1:]))


def first_rows(frame: DataFrame, columns: Sequence[str], count: int, total: int) -> Column:
    """A predicate true on the first ``count`` of ``total`` rows of ``frame`` by ``columns``."""
    from pyspark.sql import functions as F

    if count <= 0:
        return F.lit(False)
    if count >= total:
        return F.lit(True)
    return _at_most(columns, kth_tuple(frame, columns, count))
