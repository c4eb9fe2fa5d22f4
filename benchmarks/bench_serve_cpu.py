"""CPU per new-user request through the whole app, EASE and biased MF side by side.

Run ``python benchmarks/bench_serve_cpu.py --cache DIR`` (``DIR`` as ``bench_serve.py --cache``:
the models are trained there once). One process builds the app of ``matinee serve`` over both
models, starts its lifespan (one BLAS thread, warm-up, scoring threads) and sends it new-user
requests through plain ASGI messages (``_asgi.py``), one at a time, the models taking turns
round by round. Each round reports CPU seconds per request (``time.process_time``: every thread
of the process) and wall time. CPU time is far less sensitive to other work on the machine
than throughput, and both models are measured under the same conditions, so their ratio holds.

For a count no load changes, run one model under callgrind with ``--callgrind``: only the
measured requests are instrumented (``_callgrind.py``), so valgrind's closing ``Collected :``
line divided by ``--requests`` is the instructions per request, all threads included::

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/dev/null \
        python benchmarks/bench_serve_cpu.py --cache DIR --models biased-mf --callgrind

Results go to ``benchmarks/results/serve_cpu.json`` and ``serve_cpu.md`` (not with ``--no-save``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = ("ease", "biased-mf")
WARM_UP = 20
"""Requests per model before the rounds (other bodies than the measured ones)."""


def bodies_for(name: str, popular: list[int], n: int) -> list[bytes]:
    """``bench_serve.py``'s new-user bodies (10 ratings, k=10), addressed to model ``name``."""
    from bench_serve import request_bodies

    return [
        json.dumps({**json.loads(body), "model": name}).encode()
        for body in request_bodies(popular, n)
    ]


def run_round(app: Any, bodies: list[bytes], count: bool = False) -> dict[str, float]:
    """CPU and wall microseconds per request over ``bodies``, each answered 200.

    ``count``: callgrind instruments exactly these requests.
    """
    import _callgrind

    cpu, wall = time.process_time(), time.perf_counter()
    if count:
        _callgrind.start()
    for body in bodies:
        status, answer = app.request("POST", "/api/v1/recommendations", body)
        if status != 200:
            raise SystemExit(f"request failed with {status}: {answer[:300]!r}")
    if count:
        _callgrind.stop()
    return {
        "cpu_us": (time.process_time() - cpu) / len(bodies) * 1e6,
        "wall_us": (time.perf_counter() - wall) / len(bodies) * 1e6,
    }


def measure(
    cache: Path, models: list[str], requests: int, rounds: int, count: bool = False
) -> dict[str, Any]:
    """Per model: each round's CPU and wall time per request, and their medians."""
    from _asgi import InProcessApp
    from bench_serve import cached_models, load_release
    from matinee.serve import create_app

    _, popular = cached_models(cache, load_release())
    bodies = {name: bodies_for(name, popular, requests + WARM_UP) for name in models}
    app = create_app([cache / name for name in models], watch=False)
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in models}
    with InProcessApp(app) as running:
        for name in models:
            run_round(running, bodies[name][requests:])
        for _ in range(rounds):
            for name in models:
                rows[name].append(run_round(running, bodies[name][:requests], count))
    return {
        name: {
            "rounds": [{k: round(v, 1) for k, v in row.items()} for row in rows[name]],
            "median_cpu_us": round(statistics.median(r["cpu_us"] for r in rows[name]), 1),
            "median_wall_us": round(statistics.median(r["wall_us"] for r in rows[name]), 1),
        }
        for name in models
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# CPU per new-user request through the app (in-process ASGI, one at a time)",
        "",
        f"{report['requests']} requests per round, {report['rounds']} rounds, models taking turns; "
        f"{report['note']}",
        "",
        "| model | median CPU us/request | median wall us/request | CPU us per round |",
        "|---|---:|---:|---|",
    ]
    for name, row in report["models"].items():
        each = ", ".join(f"{r['cpu_us']:.0f}" for r in row["rounds"])
        lines.append(f"| {name} | {row['median_cpu_us']} | {row['median_wall_us']} | {each} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="bench_serve.py's model cache.")
    parser.add_argument("--models", default=",".join(MODELS), help="Comma-separated models.")
    parser.add_argument("--requests", type=int, default=300, help="Requests per model per round.")
    parser.add_argument("--rounds", type=int, default=5, help="Rounds (models take turns).")
    parser.add_argument("--no-save", action="store_true", help="Print only; write no results.")
    parser.add_argument(
        "--callgrind", action="store_true", help="Count one round of one model (see above)."
    )
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `matinee serve` starts its workers
    models = [name for name in args.models.split(",") if name]
    if not set(models) <= set(MODELS) or args.requests < 1 or args.rounds < 1:
        raise SystemExit(f"--models must name some of {MODELS}; --requests, --rounds >= 1")
    if args.callgrind:
        import _callgrind

        if len(models) != 1 or not _callgrind.on_valgrind():
            raise SystemExit("--callgrind: one model, run under valgrind --instr-atstart=no")
        args.rounds, args.no_save = 1, True
    load_before = os.getloadavg()[0]
    results = measure(args.cache, models, args.requests, args.rounds, args.callgrind)
    report = {
        "requests": args.requests,
        "rounds": args.rounds,
        "note": f"load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}.",
        "models": results,
    }
    print(json.dumps(report), file=sys.stderr)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "serve_cpu.json").write_text(json.dumps(report, indent=2) + "\n")
        (RESULTS / "serve_cpu.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
