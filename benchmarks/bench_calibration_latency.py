"""What calibrating one request's list costs (issue 17): the greedy on top of the plain top-k.

On ml-latest-small's catalogue (real genres), random score rows stand in for a model's
(the greedy's cost does not depend on the model), and a person who rated 20 films. Times
:func:`matinee.calibration.calibrate_row` against :func:`matinee.ranking.top_k_row` (what an
uncalibrated list costs) per call, median of many calls, in the calling thread.

Run ``.venv/bin/python benchmarks/bench_calibration_latency.py``; writes
``benchmarks/results/calibration-latency.{json,md}``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from matinee.atomic import write_text_atomic
from matinee.calibration import Calibration, calibrate_row, genre_weights
from matinee.data.loader import load_dataset
from matinee.ranking import top_k_row

RESULTS = Path(__file__).resolve().parent / "results"
CALLS = 2000
RATED = 20


def _median_us(call: Callable[[], Any]) -> float:
    """Median microseconds of one call, after warm-up (compilation) calls."""
    for _ in range(20):
        call()
    times = []
    for _ in range(CALLS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e6)


def main() -> None:
    """Time plain and calibrated lists for several pools and write the results."""
    data = load_dataset("ml-latest-small")
    genres = genre_weights(data.movies, data.ratings.movies)
    assert genres is not None
    rng = np.random.default_rng(0)
    scores = rng.normal(size=genres.shape[0])
    rated = rng.choice(genres.shape[0], RATED, replace=False)
    ratings = rng.integers(1, 6, RATED).astype(np.float32)
    masked = scores.copy()
    masked[rated] = -np.inf
    row: dict[str, Any] = {
        "movies": genres.shape[0],
        "genres": genres.shape[1],
        "rated": RATED,
        "k": 10,
        "load_average": os.getloadavg()[0],
        "plain_top_k_us": _median_us(lambda: top_k_row(masked, 10)),
    }
    for pool in (100, 200, 300):
        setting = Calibration(0.5, pool=pool)
        row[f"calibrated_pool_{pool}_us"] = _median_us(
            lambda setting=setting: calibrate_row(masked, rated, ratings, genres, 10, setting)
        )
    RESULTS.mkdir(exist_ok=True)
    write_text_atomic(RESULTS / "calibration-latency.json", json.dumps(row, indent=2) + "\n")
    lines = ["| measure | value |", "|---|---:|"]
    lines += [
        f"| {key} | {value:.1f} |" if isinstance(value, float) else f"| {key} | {value} |"
        for key, value in row.items()
    ]
    write_text_atomic(RESULTS / "calibration-latency.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
