"""Start-up time: ``import matinee``, ``matinee --help``, ``matinee --version``, ``matinee models``.

Each is timed as a user meets it: a fresh Python process, wall time from start to exit, the
median of ``--repeats`` runs (after one warm-up run, so that the operating system's file cache
is warm as it is for a user's second command). An empty ``python -c pass`` is timed the same way,
so the table also shows Matinee's own share. Writes ``results/startup.json`` and
``results/startup.md``.

Targets (issue 15): ``import matinee`` and ``matinee --help`` under 0.5 s, ``matinee models``
under 1 s.

Run: ``python benchmarks/bench_startup.py [--repeats 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

CLI = "from matinee.cli import main; main()"

CASES: dict[str, tuple[list[str], float | None]] = {
    "python -c pass": (["-c", "pass"], None),
    "import matinee": (["-c", "import matinee"], 0.5),
    "matinee --help": (["-c", CLI, "--help"], 0.5),
    "matinee --version": (["-c", CLI, "--version"], 0.5),
    "matinee models": (["-c", CLI, "models"], 1.0),
    "matinee models --json": (["-c", CLI, "models", "--json"], 1.0),
}
"""Label -> (arguments to the interpreter, target seconds or None)."""


def time_once(args: list[str]) -> float:
    """Wall seconds of one fresh interpreter running ``args``; its output is discarded."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def run(repeats: int) -> dict[str, object]:
    """Median, min and max wall seconds per case, with the machine's load while measuring."""
    rows = []
    for label, (args, target) in CASES.items():
        time_once(args)
        times = [time_once(args) for _ in range(repeats)]
        median = statistics.median(times)
        rows.append(
            {
                "case": label,
                "median_s": median,
                "min_s": min(times),
                "max_s": max(times),
                "target_s": target,
                "met": None if target is None else median < target,
            }
        )
    return {
        "repeats": repeats,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "rows": rows,
    }


def markdown(result: dict[str, object]) -> str:
    """The results as a Markdown table."""
    lines = [
        f"Start-up, median of {result['repeats']} fresh processes "
        f"(Python {result['python']}, {result['cpus']} CPUs, "
        f"load average {result['load_average_1min']:.1f} while measuring).",
        "",
        "| case | median s | min s | max s | target s | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    rows = result["rows"]
    assert isinstance(rows, list)
    for row in rows:
        target = "-" if row["target_s"] is None else f"{row['target_s']:.1f}"
        met = "-" if row["met"] is None else ("yes" if row["met"] else "no")
        lines.append(
            f"| {row['case']} | {row['median_s']:.3f} | {row['min_s']:.3f} | "
            f"{row['max_s']:.3f} | {target} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    result = run(args.repeats)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    table = markdown(result)
    (RESULTS / "startup.md").write_text(table, encoding="utf-8")
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
