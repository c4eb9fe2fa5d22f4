"""Two source trees of ``matinee serve`` under the same load, taking turns: a fair comparison.

Run ``python benchmarks/bench_serve_ab.py --cache DIR --trees old=/work/main/src,new=src``
(``DIR`` as ``bench_serve.py --cache``: the models are trained there once). For each round and
model, each tree in turn starts a real ``matinee serve DIR --workers N`` from its own ``src``
and takes ``wrk`` at one concurrency level for ``--seconds``, with ``bench_serve.py``'s bodies.
On a machine other work also loads, absolute figures move from minute to minute; trees that
alternate within each round meet the same load, so their ratio is what to read. One JSON line
per run on stdout, then the median requests/s and p99 of each tree and model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
from pathlib import Path
from typing import Any

import bench_serve
from _wrk import available, drive_wrk


def one_run(src: Path, directory: Path, bodies: list[bytes], args: Any) -> dict[str, Any]:
    """``wrk`` against a server started from ``src`` (its ``matinee`` package) on ``directory``."""
    bench_serve.REPO = src.resolve().parent  # start_server puts REPO/src on the PYTHONPATH
    process, url = bench_serve.start_server(directory, args.workers)
    try:
        drive_wrk(url, bodies, 4, 1)  # warm up: compiled kernels loaded, connections made
        sampled: list[list[int]] = []
        port = int(url.rsplit(":", 1)[1])
        timer = threading.Timer(args.seconds / 2, bench_serve._sample_split, (port, sampled))
        timer.start()
        cpu_before = tree_cpu_s(process.pid)
        row = drive_wrk(url, bodies, args.clients, args.seconds)
        cpu = tree_cpu_s(process.pid) - cpu_before
        timer.join()
    finally:
        bench_serve.stop_server(process)
    cpu_ms = round(1000 * cpu / row["requests"], 3) if row["requests"] and cpu >= 0 else None
    split = sampled[0] if sampled else []
    return {**row, "cpu_ms": cpu_ms, "split": split, "load": round(os.getloadavg()[0], 1)}


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its descendants (Linux).

    Unlike requests/s this hardly moves with other work on the machine: the server's cost per
    request, parent and workers included. -1 where ``/proc`` is missing.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return -1.0
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        pid = int(stat.parent.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="bench_serve.py's model cache.")
    parser.add_argument("--trees", required=True, help="name=path/to/src,name=path/to/src")
    parser.add_argument("--models", default="ease,biased-mf", help="Comma-separated models.")
    parser.add_argument("--clients", type=int, default=32, help="Concurrent connections.")
    parser.add_argument("--seconds", type=float, default=5.0, help="Time per run.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds (trees take turns).")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes.")
    args = parser.parse_args()
    if not available():
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    named = (tree.partition("=") for tree in args.trees.split(","))
    trees = [(name, Path(src)) for name, _, src in named]
    _, popular = bench_serve.cached_models(args.cache, bench_serve.load_release())
    bodies = bench_serve.request_bodies(popular, 2000)
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for round_ in range(args.rounds):
        for model in args.models.split(","):
            for name, src in trees if round_ % 2 == 0 else trees[::-1]:  # neither always first
                row = one_run(src, args.cache / model, bodies, args)
                results.setdefault((name, model), []).append(row)
                line = {"round": round_, "tree": name, "model": model, **row}
                print(json.dumps(line), flush=True)
    for (name, model), rows in results.items():
        rps = statistics.median(r["rps"] for r in rows)
        p99 = statistics.median(r["p99_ms"] for r in rows)
        cpu = [r["cpu_ms"] for r in rows if r["cpu_ms"] is not None]
        cpu_ms = statistics.median(cpu) if cpu else None
        errors = sum(r["errors"] for r in rows)
        print(
            f"{name} {model}: median {rps} req/s, median p99 {p99} ms, "
            f"median CPU {cpu_ms} ms/request, {errors} errors"
        )
    if any(r["errors"] for rows in results.values() for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
