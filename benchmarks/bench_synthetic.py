"""Time the synthetic MovieLens generator at ml-25m size and check what it wrote.

Run ``.venv/bin/python benchmarks/bench_synthetic.py [--quick]``. Each measurement runs in a fresh
process (see ``_measure.py``) for honest peak memory:

* ``generate_ratings``: 25,000,095 ratings (1,000,209 with ``--quick``) in memory;
* ``write_synthetic_release``: the same generation plus ``ratings.csv`` and ``movies.csv``
  written in the ml-25m layout (the whole job the brief times);
* first call with an empty Numba cache: what compiling the kernels costs once per install.

The written ``ratings.csv`` is then read back with polars and checked: row count, header, no
repeated (user, movie) pair, ratings on the half-star scale, and the shape of the data beside
ml-25m's published counts. Results go to ``benchmarks/results/synthetic.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from _measure import Measurement, measure

RESULTS = Path(__file__).resolve().parent / "results"
FULL_RATINGS = 25_000_095
QUICK_RATINGS = 1_000_209
ML25M = {"ratings": 25_000_095, "users": 162_541, "movies": 59_047}


def generate(n_ratings: int) -> dict[str, int]:
    """``generate_ratings`` only; returns its sizes."""
    from matinee.data.synthetic import generate_ratings

    ratings = generate_ratings(n_ratings, seed=0)
    return {"ratings": len(ratings), "users": ratings.n_users, "movies": ratings.n_movies}


def write(n_ratings: int, directory: str) -> str:
    """``write_synthetic_release``: generate and write the CSV files."""
    from matinee.data.synthetic import write_synthetic_release

    return str(write_synthetic_release(Path(directory), n_ratings, seed=0))


def check(directory: str) -> dict[str, Any]:
    """Read ``ratings.csv`` back and describe it."""
    import numpy as np
    import polars as pl

    frame = pl.read_csv(Path(directory) / "ratings.csv")
    rating = frame["rating"].to_numpy()
    times = frame["timestamp"].to_numpy()
    per_user = frame.group_by("userId").len()["len"].to_numpy()
    per_movie = frame.group_by("movieId").len()["len"].to_numpy()
    pairs = frame.select(pl.struct("userId", "movieId").n_unique()).item()
    on_scale = (rating * 2 == np.round(rating * 2)) & (rating >= 0.5) & (rating <= 5)
    return {
        "header": frame.columns,
        "ratings": frame.height,
        "users": frame["userId"].n_unique(),
        "movies_rated": frame["movieId"].n_unique(),
        "movies_listed": pl.read_csv(Path(directory) / "movies.csv").height,
        "repeated_pairs": frame.height - pairs,
        "off_scale": int(np.count_nonzero(~on_scale)),
        "rating_mean": round(float(rating.mean()), 3),
        "rating_std": round(float(rating.std()), 3),
        "half_star_share": round(float(np.mean(rating % 1 != 0)), 3),
        "ratings_per_user": {
            "min": int(per_user.min()),
            "median": float(np.median(per_user)),
            "max": int(per_user.max()),
        },
        "ratings_per_movie": {"median": float(np.median(per_movie)), "max": int(per_movie.max())},
        "years": [int(times.min()) // 31_557_600 + 1970, int(times.max()) // 31_557_600 + 1970],
        "csv_bytes": (Path(directory) / "ratings.csv").stat().st_size,
    }


def _table(rows: list[Measurement]) -> str:
    lines = ["| step | time (s) | peak RSS (MiB) | process (s) |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r.label} | {r.seconds:.2f} | {r.peak_rss_mb:,.0f} | {r.process_seconds:.2f} |"
        for r in rows
    ]
    return "\n".join(lines)


def _shape(stats: dict[str, Any], n_ratings: int) -> str:
    scale = n_ratings / ML25M["ratings"]
    lines = [
        "| | synthetic | ml-25m (scaled to this size) |",
        "|---|---:|---:|",
        f"| ratings | {stats['ratings']:,} | {round(ML25M['ratings'] * scale):,} |",
        f"| users | {stats['users']:,} | {round(ML25M['users'] * scale):,} |",
        f"| movies rated | {stats['movies_rated']:,} | {round(ML25M['movies'] * scale):,} |",
        f"| repeated (user, movie) pairs | {stats['repeated_pairs']} | 0 |",
        f"| ratings off the half-star scale | {stats['off_scale']} | 0 |",
        f"| min ratings per user | {stats['ratings_per_user']['min']} | 20 |",
    ]
    for key in ("rating_mean", "rating_std", "half_star_share"):
        lines.append(f"| {key.replace('_', ' ')} | {stats[key]} | |")
    lines.append(f"| median / max ratings per user | {stats['ratings_per_user']['median']:g} / "
                 f"{stats['ratings_per_user']['max']:,} | |")  # fmt: skip
    lines.append(f"| median / max ratings per movie | {stats['ratings_per_movie']['median']:g} / "
                 f"{stats['ratings_per_movie']['max']:,} | |")  # fmt: skip
    lines.append(f"| years | {stats['years'][0]}-{stats['years'][1]} | 1995-2019 |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M ratings instead of 25M")
    options = parser.parse_args()
    n_ratings = QUICK_RATINGS if options.quick else FULL_RATINGS
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="matinee-synthetic-") as temp:
        release, numba_cache = Path(temp) / "release", Path(temp) / "numba-cache"
        measure("bench_synthetic:generate", 1_000, label="warm-up (fills the Numba cache)")
        rows = [
            measure("bench_synthetic:generate", 10_000, label="first call, empty Numba cache "
                    "(compiles kernels; 10,000 ratings)", env={"NUMBA_CACHE_DIR": str(numba_cache)},
                    preload=["matinee.data.synthetic"]),
            measure("bench_synthetic:generate", n_ratings,
                    label=f"generate_ratings({n_ratings:,})", preload=["matinee.data.synthetic"]),
            measure("bench_synthetic:write", n_ratings, str(release),
                    label=f"write_synthetic_release({n_ratings:,}): generate + write CSV",
                    preload=["matinee.data.synthetic"]),
        ]  # fmt: skip
        stats = check(str(release))
    report: dict[str, Any] = {
        "benchmark": "synthetic",
        "n_ratings": n_ratings,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        },
        "measurements": [row.as_dict() for row in rows],
        "written": stats,
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "-quick" if options.quick else ""
    (RESULTS / f"synthetic{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    title = f"Synthetic MovieLens-like ratings: {n_ratings:,} ({stats['csv_bytes'] / 1e6:,.0f} MB)"
    before, after = report["machine"]["load_average_1m_before_after"]
    note = (
        f"{os.cpu_count()} CPUs, 1-minute load average {before} before and {after} after "
        "(a shared machine: figures are as measured, not corrected for load)."
    )
    body = (
        f"# {title}\n\n{_table(rows)}\n\n{note}\n\n"
        f"## What was written\n\n{_shape(stats, n_ratings)}\n"
    )
    (RESULTS / f"synthetic{suffix}.md").write_text(body)
    print(body)


if __name__ == "__main__":
    main()
