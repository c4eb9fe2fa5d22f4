"""A real ``matinee serve`` process on loopback: hot swaps under load, broken models refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from matinee.store.files import PARAMETERS_NAME, read_manifest

from .conftest import EASE_REG, REPO, LiveServer, Models, save_ease, start_server, stop_server

pytestmark = pytest.mark.slow

BODY = {"ratings": {"1": 5, "Aladdin (1992)": 4.5, "121": 2}, "k": 10}


@pytest.fixture
def swap_dirs(models: Models, tmp_path: Path) -> tuple[Path, Path]:
    """Private copies of the two models, free to be replaced by a test."""
    ease, bmf = tmp_path / "ease", tmp_path / "bmf"
    shutil.copytree(models.ease, ease)
    shutil.copytree(models.bmf, bmf)
    return ease, bmf


@pytest.fixture
def server(swap_dirs: tuple[Path, Path], tmp_path: Path) -> Iterator[LiveServer]:
    live = start_server(list(swap_dirs), tmp_path / "server.log")
    yield live
    stop_server(live)


class Hammer:
    """Client threads sending new-user requests until stopped, counting every outcome."""

    def __init__(self, url: str, threads: int = 4) -> None:
        self.url = url
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    response = client.post("/api/v1/recommendations", json=BODY)
                    good = response.status_code == 200 and len(response.json()["items"]) == 10
                    outcome = "" if good else f"{response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as error:
                    outcome = f"{type(error).__name__}: {error}"
                with self._lock:
                    if outcome:
                        self.failures.append(outcome)
                    else:
                        self.ok += 1


def ease_info(url: str) -> dict[str, Any]:
    models = httpx.get(url + "/api/v1/models", timeout=10).json()["models"]
    return dict(next(m for m in models if m["name"] == "ease"))


def wait_for(check: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def replace_with_broken(directory: Path) -> None:
    """Swap in, atomically, a copy of ``directory`` whose parameters file is truncated."""
    staging = directory.with_name(directory.name + ".new")
    shutil.copytree(directory, staging)
    parameters = staging / read_manifest(staging).stored(PARAMETERS_NAME)
    parameters.write_bytes(parameters.read_bytes()[:1000])
    aside = directory.with_name(directory.name + ".old")
    os.replace(directory, aside)
    os.replace(staging, directory)
    shutil.rmtree(aside)


def test_swap_under_load_then_broken_model_refused(
    server: LiveServer, swap_dirs: tuple[Path, Path], models: Models
) -> None:
    ease_dir = swap_dirs[0]
    before = ease_info(server.url)
    assert before["config"][EASE_REG] == 500.0
    with Hammer(server.url) as hammer:
        time.sleep(1.0)
        save_ease(models.data, ease_dir, regularization=50.0)
        wait_for(lambda: ease_info(server.url)["config"][EASE_REG] == 50.0)
        time.sleep(1.0)
    assert hammer.failures == []
    assert hammer.ok > 10
    swapped = ease_info(server.url)
    assert swapped["last_reload_error"] is None

    with Hammer(server.url, threads=2) as hammer:
        replace_with_broken(ease_dir)
        wait_for(lambda: ease_info(server.url)["last_reload_error"] is not None)
        time.sleep(0.5)
    assert hammer.failures == [] and hammer.ok > 0
    refused = ease_info(server.url)
    assert refused["config"][EASE_REG] == 50.0
    assert "parameters" in refused["last_reload_error"]
    reload = httpx.post(server.url + "/api/v1/admin/reload", json={"model": "ease"}, timeout=60)
    assert reload.status_code == 200
    assert reload.json()["reloaded"] == [] and "ease" in reload.json()["refused"]
    assert "refused new version of model ease" in server.output()

    save_ease(models.data, ease_dir, regularization=500.0)
    wait_for(lambda: ease_info(server.url)["config"][EASE_REG] == 500.0)
    assert ease_info(server.url)["last_reload_error"] is None


def test_admin_reload_swaps_without_watcher(
    swap_dirs: tuple[Path, Path], models: Models, tmp_path: Path
) -> None:
    live = start_server(list(swap_dirs), tmp_path / "nowatch.log", "--no-watch")
    try:
        save_ease(models.data, swap_dirs[0], regularization=80.0)
        time.sleep(2.5)
        assert ease_info(live.url)["config"][EASE_REG] == 500.0
        reload = httpx.post(live.url + "/api/v1/admin/reload", timeout=60).json()
        assert reload == {"reloaded": ["ease", "bmf"], "refused": {}}
        assert ease_info(live.url)["config"][EASE_REG] == 80.0
        answer = httpx.post(live.url + "/api/v1/recommendations", json=BODY, timeout=30)
        assert answer.status_code == 200 and len(answer.json()["items"]) == 10
    finally:
        stop_server(live)


def test_cli_refuses_a_bad_directory(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from matinee.cli import main; main()",
            "serve",
            str(tmp_path / "nope"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 6
    assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_cli_help_lists_the_options() -> None:
    from typer.testing import CliRunner

    from matinee.cli import app

    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--workers", "--max-k", "--max-ratings", "--no-watch"):
        assert option in result.output
