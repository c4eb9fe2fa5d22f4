"""Saved models trained on the genuine ml-100k, an in-process client and a real uvicorn server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi")

with warnings.catch_warnings():
    # Starlette 1.x asks for the httpx2 fork, which is not on our package index; httpx works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.models import EASE, BiasedMF, BiasedMFConfig, EASEConfig
from matinee.serve import create_app
from matinee.service import save_bundle
from matinee.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Models:
    """Two saved models (a ranker and a rating model) on ml-100k, and the data they learned."""

    ease: Path
    bmf: Path
    data: Dataset


@pytest.fixture(scope="session")
def ml100k(settings: Settings) -> Dataset:
    return load_dataset("ml-100k", settings=settings)


def save_ease(data: Dataset, directory: Path, regularization: float = 500.0) -> Path:
    """Fit EASE on all of ``data`` and save it as a bundle at ``directory``."""
    model = EASE(EASEConfig(regularization=regularization))
    model.fit(data.ratings)
    return save_bundle(model, directory, train=data.ratings, movies=data.movies)


@pytest.fixture(scope="session")
def models(ml100k: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("served")
    bmf = BiasedMF(BiasedMFConfig(n_factors=8, epochs=3, seed=1))
    bmf.fit(ml100k.ratings)
    save_bundle(bmf, root / "bmf", train=ml100k.ratings, movies=ml100k.movies)
    return Models(save_ease(ml100k, root / "ease"), root / "bmf", ml100k)


@pytest.fixture(scope="session")
def make_client() -> Callable[[Any], TestClient]:
    """``TestClient`` for an app (tests cannot import it from here without the warning dance)."""
    return lambda app: TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def client(models: Models) -> Iterator[TestClient]:
    app = create_app([models.ease, models.bmf], watch=False)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A ``matinee serve`` process on loopback."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: Any

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(dirs: list[Path], log: Path, *extra: str, timeout_s: float = 120.0) -> LiveServer:
    """Start ``matinee serve`` on a free port and wait until ``/readyz`` answers."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "MATINEE_LOG_LEVEL": "INFO"}
    command = [sys.executable, "-c", "from matinee.cli import main; main()", "serve"]
    command += [*map(str, dirs), "--port", str(port), *extra]
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    server = LiveServer(f"http://127.0.0.1:{port}", process, log, handle)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(server.url + "/readyz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise AssertionError(f"server did not become ready: {log.read_text()}")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    server.handle.close()
