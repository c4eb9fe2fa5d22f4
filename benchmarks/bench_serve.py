"""``matinee serve`` under load: new-user recommendations over loopback HTTP.

Run ``.venv/bin/python benchmarks/bench_serve.py [--quick]``. The script:

1. trains EASE and biased MF on ml-latest-small (the whole release) and saves each as a bundle
   (``--cache DIR`` keeps them for the next run), and biased MF on 25M synthetic ratings with
   60,000 movies (:data:`SYNTHETIC_EPOCHS` epochs, trained once and kept in
   ``--synthetic-cache``, default ``/tmp/serve-25m``; about a minute and 2.7 GB);
2. for each model starts a real ``matinee serve DIR --workers N`` process on 127.0.0.1 and drives
   it at 1, 8 and 32 clients for a fixed time per level, closed loop (each client sends its next
   ``POST /api/v1/recommendations`` when the last one is answered), with ``wrk`` when it is
   installed (``apt-get install -y wrk``) and else a bounded asyncio + httpx client; each
   request rates 10 random popular movies by id, ``k=10``;
3. reports the client used, throughput, p50 and p99 latency and every failed request;
4. re-runs 8 clients on EASE (httpx client) while the model directory is replaced on disk (the
   watcher swaps it in), and checks that the swap happened and no request failed.

The load generator runs on the same machine as the server and takes CPU from it (wrk far less
than the Python client), so the figures are a floor. Results go to
``benchmarks/results/serve.json`` and ``serve.md`` (``serve-quick.*`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from _wrk import available as wrk_available
from _wrk import drive_wrk

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
RELEASE = "ml-latest-small"
N_RATED = 10
CLIENTS = {
    "wrk": "wrk (C, closed loop: each connection sends its next request when answered)",
    "httpx": "httpx.AsyncClient in one asyncio process (closed loop)",
}


def load_release() -> Any:
    from matinee.data.loader import load_dataset
    from matinee.settings import Settings

    return load_dataset(RELEASE, settings=Settings.from_env(show_progress=False))


def train_models(root: Path, data: Any) -> tuple[dict[str, tuple[Any, Path]], list[int]]:
    """Fit EASE and biased MF on the release, save both; return them, their dirs, popular ids."""
    from matinee.models import EASE, BiasedMF, BiasedMFConfig
    from matinee.service import save_bundle

    dirs = {}
    for name, model in (("ease", EASE()), ("biased-mf", BiasedMF(BiasedMFConfig(epochs=20)))):
        started = time.perf_counter()
        model.fit(data.ratings)
        saved = save_bundle(model, root / name, train=data.ratings, movies=data.movies)
        dirs[name] = (model, saved)
        print(f"trained {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    counts = data.ratings.to_polars().group_by("movie_id").len().sort("len", descending=True)
    return dirs, counts["movie_id"].head(500).to_list()


SYNTHETIC_RATINGS = 25_000_000
SYNTHETIC_MOVIES = 60_000
SYNTHETIC_EPOCHS = 5
"""Epochs for the 25M model: fewer than the ml-latest-small run's 20, to bound the training."""


def synthetic_model(cache: Path) -> tuple[Path, list[int]]:
    """Biased MF on 25M synthetic ratings (60,000 movies), trained once and kept at ``cache``.

    A later run reuses the saved model when ``cache`` holds one; the popular ids are kept beside
    it (``popular-vN.json``, N the generator version).
    """
    import polars as pl

    from matinee.data.synthetic import GENERATOR_VERSION, generate_ratings
    from matinee.models import BiasedMF, BiasedMFConfig
    from matinee.service import save_bundle

    directory = cache / f"biased-mf-25m-v{GENERATOR_VERSION}"
    popular_file = directory.with_name(f"popular-v{GENERATOR_VERSION}.json")
    if (directory / "manifest.json").is_file() and popular_file.is_file():
        return directory, json.loads(popular_file.read_text())
    started = time.perf_counter()
    ratings = generate_ratings(SYNTHETIC_RATINGS, n_movies=SYNTHETIC_MOVIES, seed=0)
    ids = ratings.movies.raw_ids
    movies = pl.DataFrame(
        {
            "movie_id": pl.Series(ids, dtype=pl.Int64),
            "title": [f"Synthetic Movie {i}" for i in ids.tolist()],
            "year": pl.Series([None] * ids.size, dtype=pl.Int64),
            "genres": pl.Series([[] for _ in range(ids.size)], dtype=pl.List(pl.String)),
        }
    )
    model = BiasedMF(BiasedMFConfig(epochs=SYNTHETIC_EPOCHS))
    model.fit(ratings)
    save_bundle(model, directory, train=ratings, movies=movies)
    order = np.argsort(-ratings.movie_counts(), kind="stable")[:500]
    popular = [int(ids[i]) for i in order]
    popular_file.write_text(json.dumps(popular))
    print(f"trained biased-mf-25m in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return directory, popular


def request_bodies(popular: list[int], n: int, seed: int = 0) -> list[bytes]:
    """``n`` new-user bodies, each rating ``N_RATED`` popular movies on half stars."""
    rng = np.random.default_rng(seed)
    bodies = []
    for _ in range(n):
        movies = rng.choice(popular, size=N_RATED, replace=False)
        stars = rng.integers(1, 11, size=N_RATED) / 2
        ratings = {str(int(m)): float(s) for m, s in zip(movies, stars, strict=True)}
        bodies.append(json.dumps({"ratings": ratings, "k": 10}).encode())
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(directory: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``matinee serve`` on a free loopback port and wait until it is ready."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [
        sys.executable,
        "-c",
        "from matinee.cli import main; main()",
        "serve",
        str(directory),
    ]
    command += ["--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                wait_for_listeners(port, workers, process.pid, deadline)
                return process, url
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(
        f"server did not start: {process.stderr.read().decode() if process.stderr else ''}"
    )


def listeners(port: int) -> set[str] | None:
    """The pids with a listening socket on ``port`` (``ss``), or None where ``ss`` is missing."""
    if shutil.which("ss") is None:
        return None
    command = ["ss", "-Hltnp", f"( sport = :{port} )"]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return set(re.findall(r"pid=(\d+)", out))


def connection_split(port: int) -> list[int]:
    """Open client connections per server process on ``port``, most first (``ss``; [] without)."""
    if shutil.which("ss") is None:
        return []
    command = ["ss", "-Htnp", "state", "established", f"( sport = :{port} )"]
    out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    return sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)


def _sample_split(port: int, into: list[list[int]]) -> None:
    into.append(connection_split(port))


def wait_for_listeners(port: int, workers: int, server: int, deadline: float) -> None:
    """Wait until every worker can take clients, so no level starts on one worker alone.

    A tree whose supervisor (pid ``server``) listens and balances is ready once it answers; an
    older one (``SO_REUSEPORT``, Linux) once every worker listens on its own socket.
    """
    if not sys.platform.startswith("linux") or workers < 2:
        return
    while time.monotonic() < deadline:
        pids = listeners(port)
        if pids is None or str(server) in pids or len(pids) >= workers:
            return
        time.sleep(0.3)


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def drive(
    url: str,
    bodies: list[bytes],
    clients: int,
    seconds: float,
    until: asyncio.Event | None = None,
) -> dict[str, Any]:
    """Closed-loop load: ``clients`` tasks posting bodies; latencies and errors.

    The clients stop after ``seconds`` and, given ``until``, not before it is set.
    """
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        stop_at = time.perf_counter() + seconds

        async def one(worker: int) -> None:
            i = worker
            while time.perf_counter() < stop_at or (until is not None and not until.is_set()):
                body = bodies[i % len(bodies)]
                i += clients
                started = time.perf_counter()
                try:
                    response = await client.post(
                        "/api/v1/recommendations", content=body, headers=headers
                    )
                    if response.status_code != 200:
                        errors.append(f"{response.status_code}: {response.text[:200]}")
                        continue
                except httpx.HTTPError as error:
                    errors.append(f"{type(error).__name__}: {error}")
                    continue
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(w) for w in range(clients)))
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2) if ms.size else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 2) if ms.size else None,
    }


def swap_run(
    url: str, saved: tuple[Any, Path], data: Any, bodies: list[bytes], clients: int, seconds: float
) -> dict[str, Any]:
    """Drive the server while the model directory is replaced; the watcher must swap it in.

    The clients keep going until every worker answers with the new model, and a second more.
    """
    from matinee.service import save_bundle

    model, directory = saved
    before = httpx.get(url + "/api/v1/models", timeout=10).json()["models"][0]

    async def run() -> dict[str, Any]:
        swapped = asyncio.Event()
        load = asyncio.create_task(drive(url, bodies, clients, seconds, until=swapped))
        await asyncio.sleep(seconds / 3)
        await asyncio.to_thread(
            save_bundle, model, directory, train=data.ratings, movies=data.movies
        )
        done = await asyncio.to_thread(wait_for_swap, url, before["loaded_at"])
        await asyncio.sleep(1.0)
        swapped.set()
        return {**(await load), "swapped": done}

    result = asyncio.run(run())
    after = httpx.get(url + "/api/v1/models", timeout=10).json()["models"][0]
    result["last_reload_error"] = after["last_reload_error"]
    return result


def wait_for_swap(url: str, loaded_at: str, reads: int = 30, timeout_s: float = 180) -> bool:
    """Whether ``reads`` answers in a row show a model loaded after ``loaded_at``.

    Each worker process swaps on its own, and any of them may answer, so one new answer is not
    enough: a long run of them (over several seconds) means every worker has swapped.
    """
    deadline = time.monotonic() + timeout_s
    streak = 0
    while streak < reads and time.monotonic() < deadline:
        try:
            models = httpx.get(url + "/api/v1/models", timeout=30).json()["models"]
        except httpx.TimeoutException:
            streak = 0
            continue
        streak = streak + 1 if models[0]["loaded_at"] != loaded_at else 0
        time.sleep(0.2)
    return streak >= reads


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# matinee serve under load ({RELEASE}, {report['workers']} uvicorn workers, loopback)",
        "",
        f"Machine: {report['machine']}. {report['note']}",
        "",
        f"Load generator: {report['client']}; the swap run uses the httpx client.",
        "",
        "| model | clients | requests | errors | req/s | p50 ms | p99 ms | connections/worker |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in report["runs"]:
        lines.append(
            f"| {row['model']} | {row['clients']} | {row['requests']} | {row['errors']} | "
            f"{row['rps']} | {row['p50_ms']} | {row['p99_ms']} | "
            f"{'/'.join(map(str, row.get('split', []))) or '-'} |"
        )
    swap = report["swap"]
    lines += [
        "",
        f"Model swap during a run ({swap['model']}, {swap['clients']} clients, "
        f"{swap['seconds']} s): "
        f"swapped in: {swap['swapped']}; {swap['requests']} requests, {swap['errors']} failed; "
        f"p99 {swap['p99_ms']} ms.",
        "",
        f"biased-mf-25m: {report['synthetic'] or 'left out (--no-synthetic)'}.",
        "",
    ]
    return "\n".join(lines)


def cached_models(cache: Path, data: Any) -> tuple[dict[str, tuple[Any, Path]], list[int]]:
    """:func:`train_models` once into ``cache``; later runs load the saved models from there."""
    from matinee.service import ModelBundle

    popular_file = cache / "popular-small.json"
    names = ("ease", "biased-mf")
    if popular_file.is_file() and all((cache / n / "manifest.json").is_file() for n in names):
        dirs = {n: (ModelBundle.load(cache / n).model, cache / n) for n in names}
        return dirs, json.loads(popular_file.read_text())
    dirs, popular = train_models(cache, data)
    popular_file.write_text(json.dumps(popular))
    return dirs, popular


def run_levels(
    name: str, bodies: list[bytes], levels: list[int], args: Any
) -> list[dict[str, Any]]:
    """Every concurrency level against the started server at ``args.url``, one row each."""
    rows = []
    port = int(args.url.rsplit(":", 1)[1])
    for clients in levels:
        sampled: list[list[int]] = []
        timer = threading.Timer(args.seconds / 2, _sample_split, (port, sampled))
        timer.start()
        if args.client == "wrk":
            row = drive_wrk(args.url, bodies, clients, args.seconds)
        else:
            row = asyncio.run(drive(args.url, bodies, clients, args.seconds))
        timer.join()
        rows.append({"model": name, **row, "split": sampled[0] if sampled else []})
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Short levels (proves it works).")
    parser.add_argument("--seconds", type=float, default=None, help="Time per level.")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes.")
    parser.add_argument("--clients", default="1,8,32", help="Concurrency levels.")
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if wrk_available() else "httpx",
        help="Load generator (default: wrk when installed).",
    )
    parser.add_argument("--cache", type=Path, default=None, help="Keep trained models here.")
    parser.add_argument(
        "--synthetic-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "serve-25m",
        help="Where the 25M-rating biased MF is trained once and kept.",
    )
    parser.add_argument("--no-synthetic", action="store_true", help="Skip the 25M model.")
    args = parser.parse_args()
    args.seconds = args.seconds or (3.0 if args.quick else 15.0)
    levels = [int(c) for c in args.clients.split(",")]
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="matinee-bench-serve-") as tmp:
        data = load_release()
        cache = args.cache or Path(tmp)
        cache.mkdir(parents=True, exist_ok=True)
        dirs, popular = cached_models(cache, data)
        served = [(name, saved[1], popular) for name, saved in dirs.items()]
        if not args.no_synthetic:
            directory, synthetic_popular = synthetic_model(args.synthetic_cache)
            served.append(("biased-mf-25m", directory, synthetic_popular))
        runs, swap = [], None
        for name, directory, ids in served:
            bodies = request_bodies(ids, 2000)
            process, args.url = start_server(directory, args.workers)
            try:
                asyncio.run(drive(args.url, bodies, 4, 1.0))
                runs += run_levels(name, bodies, levels, args)
                if name == "ease":
                    swap = {
                        "model": name,
                        **swap_run(args.url, dirs[name], data, bodies, 8, max(args.seconds, 6.0)),
                    }
                    print(json.dumps(swap), file=sys.stderr)
            finally:
                stop_server(process)
    report = {
        "release": RELEASE,
        "workers": args.workers,
        "client": CLIENTS[args.client],
        "seconds_per_level": args.seconds,
        "synthetic": None
        if args.no_synthetic
        else f"biased MF ({SYNTHETIC_EPOCHS} epochs) on {SYNTHETIC_RATINGS:,} synthetic ratings, "
        f"{SYNTHETIC_MOVIES:,} movies",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "note": "The load generator shares the server's CPUs; load average before the run: "
        f"{load_before:.1f}, after: {os.getloadavg()[0]:.1f}.",
        "runs": runs,
        "swap": swap,
    }
    RESULTS.mkdir(exist_ok=True)
    stem = "serve-quick" if args.quick else "serve"
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(report))
    print(markdown(report))
    failed = sum(row["errors"] for row in runs) + (swap["errors"] if swap else 0)
    if failed or (swap and not swap["swapped"]):
        raise SystemExit(f"{failed} failed requests; swapped: {swap and swap['swapped']}")


if __name__ == "__main__":
    main()
