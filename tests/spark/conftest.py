"""One local SparkSession for the whole test session (its start-up is paid once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("pyspark")

from pyspark.sql import SparkSession

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.settings import Settings
from matinee.spark.readers import SparkRatings, read_release
from matinee.spark.session import spark_session


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """A local[2] session with small memory settings, stopped at the end of the run."""
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def ml100k(settings: Settings) -> Dataset:
    """ml-100k from the mirror."""
    return load_dataset("ml-100k", settings=settings)


@pytest.fixture(scope="session")
def spark_ml100k(spark: SparkSession, settings: Settings) -> SparkRatings:
    """ml-100k as a Spark frame (through the single-machine reader)."""
    return read_release(spark, "ml-100k", settings=settings)
