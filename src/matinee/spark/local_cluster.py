"""A Spark standalone cluster on this machine (a master and workers) for tests and benchmarks.

It runs pyspark's own ``spark-class`` daemons (no separate Spark install), bound to 127.0.0.1,
and stops them on exit. Each worker offers more than an executor's default 1 GiB: a worker that
offers less takes no executor, and a job then waits for resources for ever.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matinee.errors import ConfigError
from matinee.spark.session import require_pyspark

__all__ = ["free_port", "local_cluster"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
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
    raise ConfigError(f"the Spark master did not open port {port} in {seconds:.0f} s")


def _daemon(spark_class: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = [spark_class, *args, "--host", "127.0.0.1", "--webui-port", str(free_port())]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def local_cluster(
    work_dir: Path, workers: int = 2, *, cores: int = 1, memory: str = "1536m"
) -> Iterator[str]:
    """Start a master and ``workers`` workers (``cores`` and ``memory`` each); yield its URL.

    Raises:
        ConfigError: pyspark is missing, or the master did not start within two minutes.
    """
    require_pyspark()
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    spark_class = str(home / "bin" / "spark-class")
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_DAEMON_MEMORY": "256m",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(work_dir),
        "PYSPARK_PYTHON": sys.executable,
    }
    port = free_port()
    url = f"spark://127.0.0.1:{port}"
    master = ["org.apache.spark.deploy.master.Master", "--port", str(port)]
    daemons = [_daemon(spark_class, master, env)]
    try:
        _wait_for_port(port, 120)
        worker = ["org.apache.spark.deploy.worker.Worker", url, "--cores", str(cores)]
        for _ in range(workers):
            daemons.append(_daemon(spark_class, [*worker, "--memory", memory], env))
        yield url
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
        for daemon in daemons:
            daemon.wait(timeout=60)
