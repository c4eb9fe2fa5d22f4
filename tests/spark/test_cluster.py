"""One run on a real standalone cluster on localhost: a master and two workers.

``matinee spark train`` runs against ``spark://127.0.0.1:PORT`` in its own process (one process
holds one SparkContext, and the test session's is local). Its split, fit and metrics must equal
the single-machine baseline's on the same split.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from matinee.data.dataset import Dataset
from matinee.data.split_spec import split_from_spec
from matinee.evaluation.evaluate import evaluate
from matinee.models.baselines.baseline import BiasBaseline, BiasBaselineConfig
from matinee.settings import Settings

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the Spark master did not open port {port} in {seconds:.0f} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a master and two one-core workers, stopped afterwards.

    Each worker offers more than an executor's default 1 GiB: a worker offering less takes no
    executor, and the job then waits for resources for ever.
    """
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    spark_class = str(home / "bin" / "spark-class")
    work = tmp_path_factory.mktemp("spark-work")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(work),
        "PYSPARK_PYTHON": sys.executable,
    }
    port = _free_port()
    master_url = f"spark://127.0.0.1:{port}"
    daemons = [
        subprocess.Popen(
            [
                spark_class,
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                str(_free_port()),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        _wait_for_port(port, 120)
        for _ in range(2):
            daemons.append(
                subprocess.Popen(
                    [
                        spark_class,
                        "org.apache.spark.deploy.worker.Worker",
                        master_url,
                        "--host",
                        "127.0.0.1",
                        "--cores",
                        "1",
                        "--memory",
                        "1536m",
                        "--webui-port",
                        str(_free_port()),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield master_url
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=60)


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
