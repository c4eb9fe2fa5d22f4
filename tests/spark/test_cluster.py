"""One run on a real standalone cluster on localhost: a master and two workers.

``matinee spark train`` runs against ``spark://127.0.0.1:PORT`` in its own process (one process
holds one SparkContext, and the test session's is local). Its split, fit and metrics must equal
the single-machine baseline's on the same split.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from matinee.data.dataset import Dataset
from matinee.data.split_spec import split_from_spec
from matinee.evaluation.evaluate import evaluate
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig
from matinee.settings import Settings
from matinee.spark.local_cluster import local_cluster

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a master and two one-core workers, stopped afterwards."""
    with local_cluster(tmp_path_factory.mktemp("spark-work"), workers=2) as url:
        yield url


def test_train_on_a_standalone_cluster_equals_one_machine(
    cluster: str, ml100k: Dataset, settings: Settings, tmp_path: Path
) -> None:
    spec = "random:0.2,seed=4"
    env = {
        **os.environ,
        "MATINEE_DATA_MIRROR": str(settings.mirror),
        "MATINEE_CACHE_DIR": str(settings.cache_dir),
    }
    args = [
        "spark",
        "train",
        "baseline",
        "--split",
        spec,
        "--master",
        cluster,
        "--out",
        str(tmp_path / "model"),
        "--set",
        "epochs=3",
        "--json",
    ]
    done = subprocess.run(
        [sys.executable, "-c", "from matinee.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    remote = json.loads(done.stdout)
    assert remote["engine"].endswith(cluster)
    split = split_from_spec(ml100k, spec, settings=settings)[0]
    local = BiasBaseline(BiasBaselineConfig(epochs=3)).fit(split.train)
    expected = evaluate(local, split, metrics=["rmse", "mae"]).metrics
    assert remote["metrics"]["rmse"] == pytest.approx(expected["rmse"], abs=1e-5)
    assert remote["metrics"]["mae"] == pytest.approx(expected["mae"], abs=1e-5)
