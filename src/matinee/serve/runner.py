"""Start uvicorn on a set of saved models: what ``matinee serve`` calls."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matinee.errors import ConfigError
from matinee.serve.limits import ServeLimits

__all__ = ["run_server"]

log = logging.getLogger(__name__)

WORKER_HEALTHCHECK_S = 120
"""How long uvicorn's supervisor waits for a worker to answer before killing it. Its default
(5 s) kills a worker that is loading a large model, at start or in a hot swap, and drops the
connections it holds."""


KEEP_ALIVE_S = 75
"""How long an idle keep-alive connection stays open. uvicorn's default (5 s) equals httpx's
pool expiry, so a client may reuse a connection just as the server closes it; and a worker
whose event loop stalls while it loads a model (up to a second measured under load, longer on
a busier machine) wakes to an expired keep-alive timer before it reads the request already
waiting on that connection (uvloop runs timers before I/O), closing it unanswered: the likely
cause of the one ``ReadError`` in 2,019 requests of an earlier swap run."""


BALANCED = (
    sys.platform.startswith("linux")
    and hasattr(socket, "send_fds")
    and hasattr(socket, "SOCK_SEQPACKET")
)
"""Whether the supervisor can hand connections to workers itself (Linux has what it needs)."""


BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Read by the BLAS libraries once, when they load."""


def _start_workers_with_blas_threads(threads: int) -> None:
    """Worker processes start their BLAS with ``threads`` threads (unless the user set them).

    The app also limits BLAS threads at start (``threadpoolctl``), but a pool started with two
    threads and limited to one afterwards still cost biased MF a quarter of its single-client
    throughput (``bench_serve.py --clients 1``, idle: 599 against 799 requests/s); spawned
    workers read these variables before numpy loads.
    """
    for name in BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))


def run_server(
    model_dirs: Sequence[Path],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    limits: ServeLimits | None = None,
    watch: bool = True,
    access_log: bool = False,
    log_level: str = "info",
) -> None:
    """Serve ``model_dirs`` until interrupted; returns when the server stops.

    With one worker the models are loaded here, before the port is bound, so a bad directory
    fails at once. With several, each worker process loads them (their manifests are checked
    here first) and each watches them; an admin reload reaches only the worker that takes it.

    Raises:
        ConfigError: a bad port or worker count, or an address that cannot be bound.
        ModelFormatError: a directory that is not a loadable saved model.
    """
    import uvicorn

    from matinee.serve.app import CONFIG_ENV, create_app, environment_config
    from matinee.store.files import read_manifest

    limits = limits or ServeLimits()
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be 0 to 65535, got {port}")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    options = {
        "host": host,
        "port": port,
        "access_log": access_log,
        "log_level": log_level,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "ws": "none",  # no websocket routes; and an upgraded connection would escape the count
    }
    if workers == 1:
        uvicorn.run(create_app(model_dirs, limits=limits, watch=watch), **options)  # type: ignore[arg-type]
        return
    for directory in model_dirs:
        read_manifest(Path(directory))
    os.environ[CONFIG_ENV] = environment_config(model_dirs, limits, watch=watch)
    _start_workers_with_blas_threads(limits.blas_threads)
    _run_workers(workers, options)


def _run_workers(workers: int, options: dict[str, Any]) -> None:
    """``workers`` processes behind one socket that the supervisor balances (Linux).

    Elsewhere (no ``socket.send_fds`` or no ``SOCK_SEQPACKET`` pairs) uvicorn's own supervisor
    runs them on its shared socket, where whichever worker wakes first takes the clients.

    Raises:
        ConfigError: the address cannot be bound.
    """
    import uvicorn

    from matinee.serve.balancer import listen
    from matinee.serve.supervisor import Supervisor

    app = "matinee.serve.app:app_from_environment"
    settings = {"factory": True, "workers": workers, **options}
    if not BALANCED:
        uvicorn.run(app, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S, **settings)
        return
    config = uvicorn.Config(app, timeout_worker_healthcheck=WORKER_HEALTHCHECK_S, **settings)
    listener = listen(str(options["host"]), int(options["port"]), config.backlog)
    host, port = listener.getsockname()[:2]
    logging.getLogger("uvicorn.error").info(  # where uvicorn itself says where it listens
        "Uvicorn running on http://%s:%d (Press CTRL+C to quit); %d workers, "
        "connections balanced by the supervisor",
        host,
        port,
        workers,
    )
    try:
        Supervisor(config, listener).run()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
