"""The Spark session Matinee works in: the active one, a given master, or local[2].

Under ``spark-submit`` the active session (or the one its settings make) is used as it is, so a
cluster's master, executors and memory come from the submit command. Otherwise a session is
built for ``master`` (``local[2]`` by default: two cores, the driver in this process), with
small, explicit memory settings and Spark's web UI off; on this machine the Python workers run
this interpreter.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from matinee.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_MASTER", "require_pyspark", "spark_session"]

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"
"""Master URL used when no session is active and none is given."""

_DEFAULTS: dict[str, str] = {
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
}
"""Settings of a session Matinee builds itself (anything in ``config`` overrides them)."""


def require_pyspark() -> None:
    """Raise :class:`ConfigError` with the install line when pyspark is not installed."""
    if importlib.util.find_spec("pyspark") is None:
        raise ConfigError("the Spark backend needs pyspark: pip install 'matinee[spark]'")


def _on_this_machine(master: str) -> bool:
    """Whether ``master`` runs here, so the driver can bind to the loopback address."""
    return master.startswith("local") or any(h in master for h in ("127.0.0.1", "localhost"))


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "matinee",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """The active session (``spark-submit``'s), else a new one on ``master``.

    Args:
        master: A master URL (``local[4]``, ``spark://host:7077``, ``yarn``, ``k8s://...``);
            None uses the active session or :data:`DEFAULT_MASTER`.
        app_name: Application name shown by the cluster manager.
        config: Extra Spark settings, applied over Matinee's defaults when building a session.

    Raises:
        ConfigError: pyspark is not installed.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and (master is None or active.sparkContext.master == master):
        return active
    if master is None and "PYSPARK_GATEWAY_PORT" in os.environ:
        # Started by spark-submit: its master, memory and executors rule; only add ``config``.
        submitted = SparkSession.builder.appName(app_name)
        for key, value in (config or {}).items():
            submitted = submitted.config(key, value)
        return submitted.getOrCreate()
    settings = {**_DEFAULTS, **(config or {})}
    if master is not None and not _on_this_machine(master):
        settings.pop("spark.driver.bindAddress", None)
        settings.pop("spark.driver.host", None)
    else:
        # pyspark passes PYSPARK_PYTHON (else "python3", maybe without Matinee) to the workers.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master or DEFAULT_MASTER).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    log.info("Spark %s session on %s", session.version, session.sparkContext.master)
    return session
