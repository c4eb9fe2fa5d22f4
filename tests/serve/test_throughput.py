"""What the server does for throughput: one BLAS thread while serving, long keep-alive, and
fast paths that give the answers of the code they replaced."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest

from matinee.errors import ConfigError
from matinee.models._ranker_common import fold_in_row, known_movie_counts, weighted_fold_in_row
from matinee.serve.limits import ServeLimits
from matinee.serve.routes import ScoringPool
from matinee.service import ModelBundle

from .conftest import Models

_BLAS_CHECK = """
import gc, json, sys
import numpy, scipy.linalg
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info
from matinee.serve import create_app

def blas():
    return {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

before, frozen_before = blas(), gc.get_freeze_count()
with TestClient(create_app([sys.argv[1]], watch=False)) as client:
    during = blas()
    frozen = gc.get_freeze_count()
    answer = client.post("/api/v1/recommendations", json={"ratings": {"1": 5}, "k": 3})
print(json.dumps({
    "before": before, "during": during, "after": blas(), "status": answer.status_code,
    "frozen_before": frozen_before, "frozen": frozen,
    "type": answer.headers["content-type"], "items": len(answer.json()["items"]),
}))
"""


def test_serving_uses_one_blas_thread_and_restores_it(models: Models) -> None:
    # In a process of its own, as `matinee serve` runs: the suite's other tests load and limit
    # thread pools of their own.
    run = subprocess.run(
        [sys.executable, "-c", _BLAS_CHECK, str(models.bmf)],
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(run.stdout)
    assert seen["before"] and set(seen["before"].values()) != {1}
    assert set(seen["during"].values()) == {1}
    assert seen["after"] == seen["before"]
    assert (seen["status"], seen["type"], seen["items"]) == (200, "application/json", 3)
    # the loaded models are out of the cyclic collector's passes once the app serves
    assert seen["frozen_before"] == 0 < seen["frozen"]


@pytest.mark.parametrize("field", ["blas_threads", "scoring_threads"])
@pytest.mark.parametrize("value", [0, 1.5])
def test_thread_counts_are_positive_integers(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        ServeLimits(**{field: value})


def test_server_keeps_idle_connections_longer_than_clients_do(
    models: Models, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from matinee.serve.runner import run_server

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    run_server([models.ease], watch=False)
    assert seen["timeout_keep_alive"] > 5.0  # httpx's pool keeps idle connections 5 s


def test_ease_fold_in_equals_the_sparse_row_product(models: Models) -> None:
    model = ModelBundle.load(models.ease).model
    rng = np.random.default_rng(3)
    for _ in range(20):
        movies = rng.choice(model.n_movies, size=int(rng.integers(1, 40)), replace=False)
        ratings = rng.integers(1, 6, size=movies.size).astype(np.float32)
        row = fold_in_row(model.n_movies, movies, ratings, model.config.positive_threshold)
        expected = np.asarray(row @ model.weights_).ravel()
        np.testing.assert_array_equal(model.score_new_user(movies, ratings), expected)


def test_ease_new_user_list_scores_equal_the_row_by_row_sum(models: Models) -> None:
    model = ModelBundle.load(models.ease).model
    counts = known_movie_counts(model.user_items_)
    rng = np.random.default_rng(5)
    for _ in range(20):
        movies = rng.choice(model.n_movies, size=int(rng.integers(1, 40)), replace=False)
        ratings = rng.integers(1, 6, size=movies.size).astype(np.float32)
        row = weighted_fold_in_row(model.n_movies, movies, ratings, model.config)
        expected = np.zeros(model.n_movies)
        for column, value in zip(row.indices.tolist(), row.data.tolist(), strict=True):
            expected += value * model.weights_[column]
        expected /= (counts + 1.0) ** model.config.rank_popularity_exponent
        scores = model.rank_new_user(movies, ratings)  # float32, as every model's list scores
        np.testing.assert_array_equal(scores, expected.astype(np.float32))


def test_scoring_runs_in_the_pools_threads_off_the_event_loop() -> None:
    pool = ScoringPool(2)

    async def main() -> tuple[str, str]:
        answer = await pool(lambda: {"thread": threading.current_thread().name})
        return threading.current_thread().name, json.loads(answer.body)["thread"]

    try:
        loop_thread, scoring_thread = asyncio.run(main())
    finally:
        pool.close()
    assert scoring_thread.startswith("matinee-scoring") and scoring_thread != loop_thread
