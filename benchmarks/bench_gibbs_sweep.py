"""One Gibbs sweep of ``bayes-mf`` on ml-25m-shaped data, and what 25M would take.

Run ``python benchmarks/bench_gibbs_sweep.py [--ratings 1000000 2000000 5000000]``. For each size
``generate_ratings(N)`` (ml-25m's users and movies per rating) is fitted for 4 sweeps with the
default 32 factors (burn-in past the end, so no posterior compression runs); each sweep's wall
and CPU seconds (all threads) come from an epoch callback. The posterior compression, which
runs every 4 sweeps after burn-in, is timed once at ml-25m's shape (162,541 x 59,047, width
``posterior_rank + 4 * n_factors``). The table extrapolates a sweep's CPU per million ratings
to 22.5M (a 90% training share of 25M) and the default 200 sweeps. Writes
``results/gibbs_sweep.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from _measure import write_results

TRAIN_25M = 22_500_086
SWEEPS = 4


def sweeps(n_ratings: int) -> dict[str, Any]:
    """CPU and wall seconds of each of the first sweeps at ``n_ratings``."""
    from matinee.data.synthetic import generate_ratings
    from matinee.models import BayesianMF, BayesianMFConfig
    from matinee.training.loop import EpochRecord, FitOptions

    ratings = generate_ratings(n_ratings, seed=0)
    marks = [time.process_time()]

    def mark(record: EpochRecord) -> bool:
        marks.append(time.process_time())
        return False

    load = os.getloadavg()[0]
    config = BayesianMFConfig(epochs=SWEEPS, burn_in=SWEEPS + 1)
    model = BayesianMF(config).fit(ratings, options=FitOptions(callbacks=[mark]))
    cpu = np.diff(marks).tolist()
    return {
        "ratings": n_ratings,
        "users": ratings.n_users,
        "movies": ratings.n_movies,
        "cpu_seconds": cpu,
        "wall_seconds": [record["seconds"] for record in model.history_],
        "cpu_per_million": float(np.median(cpu[1:]) / n_ratings * 1e6),
        "load_average_1m_before_after": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def compression() -> dict[str, float]:
    """One posterior compression at ml-25m's shape."""
    from matinee.models.factorization.bayes_mf import compress_product

    rng = np.random.default_rng(0)
    width = 64 + 4 * 32
    left, right = rng.standard_normal((162_541, width)), rng.standard_normal((59_047, width))
    wall, cpu = time.perf_counter(), time.process_time()
    compress_product(left, right, 64)
    return {"wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}


def markdown(report: dict[str, Any]) -> str:
    """Measured sweeps, then the 25M projection from the largest size's CPU per million."""
    lines = [
        "| ratings | users x movies | sweep CPU s (2-4) | sweep wall s (2-4) | CPU s per 1M "
        "| load |",
        "|---:|---|---|---|---:|---|",
    ]
    for row in report["sizes"]:
        cpu = " / ".join(f"{x:.2f}" for x in row["cpu_seconds"][1:])
        wall = " / ".join(f"{x:.2f}" for x in row["wall_seconds"][1:])
        before, after = row["load_average_1m_before_after"]
        lines.append(
            f"| {row['ratings']:,} | {row['users']:,} x {row['movies']:,} | {cpu} | {wall} "
            f"| {row['cpu_per_million']:.3f} | {before}-{after} |"
        )
    per_million = report["sizes"][-1]["cpu_per_million"]
    sweep = per_million * TRAIN_25M / 1e6
    squeeze = report["compression"]["cpu_seconds"]
    total = 200 * sweep + (200 - 20) / 4 * squeeze
    lines += [
        "",
        f"Projection (CPU per 1M of the largest size, which grows with the catalogue, so a "
        f"floor): a sweep over {TRAIN_25M:,} ratings {sweep:.0f} CPU s; a compression at "
        f"ml-25m's shape {squeeze:.1f} CPU s (measured); 200 sweeps (20 burn-in, 45 "
        f"compressions) about {total:,.0f} CPU s, {total / 2 / 60:.0f} min on 2 cores "
        "if both stay busy.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Measure every size and the compression, and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, nargs="+", default=[1_000_000, 2_000_000, 5_000_000])
    args = parser.parse_args()
    report = {"sizes": [sweeps(n) for n in args.ratings], "compression": compression()}
    write_results("gibbs_sweep", report, markdown(report))


if __name__ == "__main__":
    main()
