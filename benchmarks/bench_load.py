"""Load a synthetic ml-25m-sized ``ratings.csv``: Matinee's loader against a bare pandas parse.

Run ``.venv/bin/python benchmarks/bench_load.py [--quick]``. Each measurement runs in a fresh
process (see ``_measure.py``) for honest peak memory:

* ``pandas.read_csv``: the bare parse of ``ratings.csv`` (default dtypes, no id mapping);
* ``polars.read_csv``: the same bare parse by polars, for reference;
* Matinee first load: ``load_dataset`` on an empty cache, reading the synthetic release from a
  mirror folder: parse and map ids to contiguous indices; the columnar cache is written on a
  background thread, which the process waits for before it exits (the "process" column);
* Matinee second load: ``load_dataset`` again, served from that cache.

The synthetic release (``matinee.data.synthetic``) is written once under
``$MATINEE_BENCH_DIR`` (default: the system temp folder) and reused. Results go to
``benchmarks/results/load.json`` and ``load.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _measure import Measurement, measure

RESULTS = Path(__file__).resolve().parent / "results"
FULL_RATINGS = 25_000_000
QUICK_RATINGS = 1_000_000
RELEASE = "ml-25m"
"""The synthetic data stands in for this release (same layout) inside a private mirror."""


def pandas_parse(csv_path: str) -> int:
    """Bare ``pandas.read_csv`` of the ratings file; returns the row count."""
    import pandas as pd

    return len(pd.read_csv(csv_path))


def polars_parse(csv_path: str) -> int:
    """Bare ``polars.read_csv`` of the ratings file; returns the row count."""
    import polars as pl

    return pl.read_csv(csv_path).height


def matinee_load(mirror: str, cache: str) -> dict[str, int]:
    """``load_dataset`` of the synthetic release through a mirror; returns its counts."""
    from matinee.data.loader import load_dataset
    from matinee.settings import Settings

    settings = Settings(cache_dir=Path(cache), mirror=Path(mirror), show_progress=False)
    ratings = load_dataset(RELEASE, settings=settings).ratings
    return {"ratings": len(ratings), "users": ratings.n_users, "movies": ratings.n_movies}


def _prepare(n_ratings: int, root: Path) -> Path:
    """The mirror folder holding the synthetic release (written once, then reused)."""
    mirror = root / f"mirror-{n_ratings}"
    release = mirror / RELEASE
    if not (release / "ratings.csv").is_file():
        from matinee.data.synthetic import write_synthetic_release

        start = time.perf_counter()
        write_synthetic_release(release, n_ratings, seed=0)
        print(f"wrote {n_ratings:,} synthetic ratings in {time.perf_counter() - start:.1f} s")
    return mirror


def _table(rows: list[Measurement], baseline: float) -> str:
    lines = [
        "| step | wall (s) | vs pandas parse (wall) | CPU (s) | peak RSS (MiB) | process (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row.label} | {row.seconds:.2f} | {baseline / row.seconds:.2f}x "
            f"| {row.cpu_seconds:.2f} | {row.peak_rss_mb:,.0f} | {row.process_seconds:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M ratings instead of 25M")
    options = parser.parse_args()
    n_ratings = QUICK_RATINGS if options.quick else FULL_RATINGS
    root = Path(tempfile.gettempdir()) / "matinee-bench"
    mirror = _prepare(n_ratings, root)
    csv_path = str(mirror / RELEASE / "ratings.csv")
    cache = root / f"cache-{n_ratings}"
    shutil.rmtree(cache, ignore_errors=True)
    load_before = os.getloadavg()[0]

    rows = [
        measure("bench_load:pandas_parse", csv_path, label="pandas.read_csv (bare parse)",
                preload=["pandas"]),
        measure("bench_load:polars_parse", csv_path, label="polars.read_csv (bare parse)",
                preload=["polars"]),
        measure("bench_load:matinee_load", str(mirror), str(cache),
                label="matinee first load (parse, map ids; cache written in the background)",
                preload=["matinee.data.loader"]),
        measure("bench_load:matinee_load", str(mirror), str(cache),
                label="matinee second load (columnar cache)", preload=["matinee.data.loader"]),
    ]  # fmt: skip
    baseline = rows[0].seconds
    report: dict[str, Any] = {
        "benchmark": "load",
        "n_ratings": n_ratings,
        "csv_bytes": Path(csv_path).stat().st_size,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_1m_before": load_before,
            "load_average_1m_after": os.getloadavg()[0],
        },
        "measurements": [row.as_dict() for row in rows],
    }
    RESULTS.mkdir(exist_ok=True)
    suffix = "-quick" if options.quick else ""
    (RESULTS / f"load{suffix}.json").write_text(json.dumps(report, indent=2) + "\n")
    title = f"Loading {n_ratings:,} synthetic ratings ({report['csv_bytes'] / 1e6:,.0f} MB CSV)"
    table = _table(rows, baseline)
    note = (
        f"Each step in a fresh process; wall and CPU time of the call, imports excluded; peak RSS "
        f"of the process, imports included. {os.cpu_count()} CPUs, 1-minute load average "
        f"{load_before:.1f} before and {report['machine']['load_average_1m_after']:.1f} after "
        "(other jobs share this machine, so wall times vary between runs)."
    )
    (RESULTS / f"load{suffix}.md").write_text(f"# {title}\n\n{table}\n\n{note}\n")
    print(title)
    print(table)


if __name__ == "__main__":
    main()
