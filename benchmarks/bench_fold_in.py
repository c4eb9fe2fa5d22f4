"""Held-out users' rating predictions: one batched fold-in against a Python loop per person.

Run ``python benchmarks/bench_fold_in.py [--ratings 1000000 5000000] [--factors 64]``. For each
size: ``generate_ratings(N)``, ``hidden_ratings(test_users=0.1)`` (the protocol of
``--split hidden-ratings:users=0.1``), biased MF fitted for 2 epochs, then the test ratings of
the held-out users predicted twice in the same process, side by side: ``predict_new_users``
(one compiled ridge solve per person, in parallel) and ``score_new_user`` one person at a time
(what evaluation did before). Wall and CPU seconds (all threads) of each, the largest gap
between them, and the load average. Writes ``results/fold_in.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _measure import write_results


def per_person(model: Any, rows: Any, people: np.ndarray, movies: np.ndarray) -> np.ndarray:
    """Each person's fold-in scores over the catalogue, clipped, then their pairs picked."""
    low, high = model.rating_scale_
    out = np.empty(people.size, dtype=np.float32)
    order = np.argsort(people, kind="stable")
    bounds = np.searchsorted(people[order], np.arange(rows.shape[0] + 1))
    for person in range(rows.shape[0]):
        mine = order[bounds[person] : bounds[person + 1]]
        scores = model.score_new_user(rows[person].indices, rows[person].data)
        out[mine] = np.clip(scores[movies[mine]], low, high)
    return out


def timed(call: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """The call's result, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def measure(n_ratings: int, factors: int) -> dict[str, Any]:
    """Both paths on one generated data set; the batched one twice (the first compiles)."""
    from matinee.data.splits import hidden_ratings
    from matinee.data.synthetic import generate_ratings
    from matinee.models import BiasedMF, BiasedMFConfig

    split = hidden_ratings(generate_ratings(n_ratings, seed=0), test_users=0.1)
    model = BiasedMF(BiasedMFConfig(n_factors=factors, epochs=2)).fit(split.train)
    test = split.test
    users = np.unique(test.user_idx)
    rows = split.fold_in.user_movie_matrix()[users] if split.fold_in is not None else None
    people, movies = np.searchsorted(users, test.user_idx), test.movie_idx
    load = os.getloadavg()[0]
    model.predict_new_users(rows, people[:10], movies[:10])
    batched, batched_wall, batched_cpu = timed(
        lambda: model.predict_new_users(rows, people, movies)
    )
    loop, loop_wall, loop_cpu = timed(lambda: per_person(model, rows, people, movies))
    return {
        "ratings": n_ratings,
        "movies": model.n_movies,
        "held_out_users": int(users.size),
        "test_ratings": len(test),
        "factors": factors,
        "batched_seconds": batched_wall,
        "batched_cpu_seconds": batched_cpu,
        "loop_seconds": loop_wall,
        "loop_cpu_seconds": loop_cpu,
        "max_abs_difference": float(np.abs(batched - loop).max()),
        "load_average_1m_before_after": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per size: both paths' wall and CPU seconds, the speed-up and the gap."""
    lines = [
        "| ratings | held-out users | test ratings | loop s (CPU) | batched s (CPU) | CPU ratio "
        "| max gap | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = r["loop_cpu_seconds"] / max(r["batched_cpu_seconds"], 1e-9)
        before, after = r["load_average_1m_before_after"]
        lines.append(
            f"| {r['ratings']:,} | {r['held_out_users']:,} | {r['test_ratings']:,} "
            f"| {r['loop_seconds']:.2f} ({r['loop_cpu_seconds']:.2f}) "
            f"| {r['batched_seconds']:.3f} ({r['batched_cpu_seconds']:.3f}) | {ratio:.0f}x "
            f"| {r['max_abs_difference']:.1e} | {before}-{after} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure every size and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--factors", type=int, default=64)
    args = parser.parse_args()
    rows = [measure(n, args.factors) for n in args.ratings]
    write_results("fold_in", rows, markdown(rows))


if __name__ == "__main__":
    main()
