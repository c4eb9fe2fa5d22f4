"""MovieLens 25M (and 32M) end to end through the command line a user runs (issue 16).

Synthetic ratings in the layout of ``--release`` (ml-25m: 162,541 users, 59,047 movies per
25,000,095 ratings; ml-32m: 200,948 users, 87,585 movies per 32,000,204 ratings; scaled with
``--ratings``) are written once as a release folder under ``--data-dir`` and read
through ``MATINEE_DATA_MIRROR``, so the reader, the parsed-copy cache, the split, the fit, the
evaluation and the save are all measured. Each command runs as its own process; its wall time
and peak resident memory come from ``os.wait4`` on that process alone.

Parts (``--part``, repeatable):

* ``e2e``: ``matinee train biased-mf ... --split random:0.1 --set n_factors=64 --set
  epochs=20`` (RMSE and full-ranking metrics), then ``matinee evaluate`` on the saved model;
  targets 60 s and 3 GB for train, 30 s for the evaluation;
* ``models``: ``matinee train NAME`` for every model (``--epochs`` caps iterative ones; EASE and
  item-kNN also with ``--min-movie-ratings``): fits or not, time, peak memory, the reason;
* ``peers``: epoch and iteration times beside Surprise, implicit and Spark, from
  ``benchmarks/_scale_peers.py`` on the same number of generated ratings.

    python benchmarks/bench_scale.py --part e2e
    python benchmarks/bench_scale.py --part e2e --release ml-32m --name scale-32m
    python benchmarks/bench_scale.py --part models --epochs 2 --timeout 900
    python benchmarks/bench_scale.py --part models --models autorec,blend --update --epochs 1

``--models`` runs a subset; ``--update`` keeps the other models' rows of the results file
``--name`` (rows measured on another generator version or data size are dropped). The models
run with ``MATINEE_LOG_LEVEL=INFO``: a model stopped at the time limit gets the plan it logged
before its long part (``NAME: ...``) as its reason, so the row says what to do.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TRAIN_TARGET_SECONDS, TRAIN_TARGET_GB, EVALUATE_TARGET_SECONDS = 60.0, 3.0, 30.0
ML25M_RATINGS, ML25M_USERS, ML25M_MOVIES = 25_000_095, 162_541, 59_047
SIZES = {
    "ml-25m": (ML25M_RATINGS, ML25M_USERS, ML25M_MOVIES),
    "ml-32m": (32_000_204, 200_948, 87_585),
}
"""Ratings, users and movies (in movies.csv) of each release the synthetic data imitates."""
ITERATIVE = {"mf", "biased-mf", "svdpp", "nmf", "ials", "baseline", "autorec", "embedding-net"}
ITERATIVE |= {"movie-autoencoder"}  # its 100 epochs (patience 5) ran past the limit at 25M
FILTERED = {"ease": 200, "item-knn": 500}
"""Models also run on a filtered catalogue, with the --min-movie-ratings they get at 25M
(scaled with the number of ratings): 11,382 and 5,648 movies of the synthetic 59,047."""


def release(data_dir: Path, n_ratings: int, name: str = "ml-25m") -> Path:
    """The mirror folder holding a ``name``-layout release of ``n_ratings`` (written once)."""
    from matinee.data.synthetic import GENERATOR_VERSION, write_synthetic_release

    mirror = data_dir / f"mirror-{n_ratings}-v{GENERATOR_VERSION}"
    folder = mirror / name
    if not (folder / "ratings.csv").is_file():
        full, users, movies = SIZES[name]
        scale = n_ratings / full
        write_synthetic_release(
            folder,
            n_ratings,
            n_users=max(1, round(users * scale)),
            n_movies=max(1, round(movies * scale)),
        )
    return mirror


def run_cli(args: list[str], env: dict[str, str], timeout: float, plan: str = "") -> dict[str, Any]:
    """Run ``matinee ARGS --json`` as its own process: wall, peak memory, JSON or error line.

    A run stopped at ``timeout`` gets the last log line starting with ``plan`` (``"NAME: "``)
    that names a ``--set`` (what the model said it would do and what to change) in its reason.
    """
    command = [sys.executable, "-m", "matinee", *args, "--json"]
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, text=True)
        status, usage, late = _wait(process, started + timeout)
        seconds = time.perf_counter() - started
        stdout.seek(0)
        stderr.seek(0)
        out, err = stdout.read(), stderr.read()
    code = os.waitstatus_to_exitcode(status)
    row: dict[str, Any] = {"command": "matinee " + " ".join(args), "seconds": seconds}
    row["started"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(time.time() - seconds))
    row["peak_gb"] = usage.ru_maxrss / 1024**2
    row["exit_code"] = code
    if code == 0:
        row["output"] = json.loads(out)
    elif late:
        row["error"] = f"over the {timeout:.0f} s limit of this run"
        logged = [line.partition(" INFO ")[2].strip() for line in err.splitlines()]
        said = [line for line in logged if plan and line.startswith(plan) and "--set" in line]
        if said:
            row["error"] += "; its plan: " + said[-1].removeprefix(plan)
    else:
        lines = [line for line in err.splitlines() if line.startswith("error:")]
        row["error"] = lines[-1] if lines else (err.strip().splitlines() or ["killed"])[-1]
    return row


def _wait(process: subprocess.Popen[str], deadline: float) -> tuple[int, Any, bool]:
    """Reap ``process`` by ``os.wait4`` (its own peak memory), killing it at ``deadline``."""
    late = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return status, usage, late
        if not late and time.perf_counter() > deadline:
            process.kill()
            late = True
        time.sleep(0.2)


def e2e(env: dict[str, str], work: Path, timeout: float, name: str) -> list[dict[str, Any]]:
    """Train biased MF as the issue does, then re-evaluate the saved model."""
    out = work / "bmf"
    train = [
        "train", "biased-mf", "--dataset", name, "--split", "random:0.1",
        "--set", "n_factors=64", "--set", "epochs=20", "--out", str(out),
    ]  # fmt: skip
    rows = [run_cli(train, env, timeout)]
    rows[0]["target"] = f"{TRAIN_TARGET_SECONDS:.0f} s, {TRAIN_TARGET_GB:.0f} GB"
    if rows[0]["exit_code"] == 0:
        rows.append(run_cli(["evaluate", str(out)], env, timeout))
        rows[1]["target"] = f"{EVALUATE_TARGET_SECONDS:.0f} s"
    return rows


def models(
    env: dict[str, str],
    work: Path,
    epochs: int,
    timeout: float,
    n_ratings: int,
    release: str,
    names: list[str],
) -> list[dict[str, Any]]:
    """The models ``names`` trained on the release, one process each."""
    env = {**env, "MATINEE_LOG_LEVEL": "INFO", "COLUMNS": "100000"}  # one log record a line
    rows = []
    for name in names:
        base = ["train", name, "--dataset", release, "--split", "random:0.1"]
        base += ["--out", str(work / name)]
        if name in ITERATIVE:
            base += ["--set", f"epochs={epochs}"]
        variants = [base]
        if name in FILTERED:
            variants.append([*base[:-2], "--out", str(work / f"{name}-filtered")])
            least = max(1, round(FILTERED[name] * n_ratings / ML25M_RATINGS))
            variants[-1] += ["--min-movie-ratings", str(least)]
        for args in variants:
            row = run_cli(args, env, timeout, plan=f"{name}: ")
            row["model"], row["load"] = name, os.getloadavg()[0]
            rows.append(row)
            print(_model_line(row), file=sys.stderr)
    return rows


def selected(text: str | None) -> list[str]:
    """The registry names of ``--models`` (comma-separated; every model when not given)."""
    from matinee.models.registry import available_models

    known = available_models()
    names = known if text is None else [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"unknown models {', '.join(unknown)}; known: {', '.join(known)}")
    return [name for name in known if name in names]


def merged(path: Path, report: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The new model rows of ``report`` with the other models' rows kept from ``path``.

    Rows kept come from the same data (ratings, release, generator version); the result is in
    registry order, each model's unfiltered row before its filtered one.
    """
    from matinee.models.registry import available_models

    rows = list(report["models"])
    if path.is_file():
        old = json.loads(path.read_text())
        same = all(old.get(key) == report[key] for key in ("ratings", "release", "generator"))
        if same:
            rows += [row for row in old.get("models", []) if row["model"] not in names]
        else:
            print(f"{path.name}: other data, its rows are not kept", file=sys.stderr)
    order = {name: place for place, name in enumerate(available_models())}
    rows.sort(
        key=lambda row: (order.get(row["model"], len(order)), "--min-movie" in row["command"])
    )
    return rows


def peers(n_ratings: int) -> dict[str, Any]:
    """Epoch and iteration times beside the peers (``benchmarks/_scale_peers.py``), same data."""
    path = Path(__file__).resolve().parent / "_scale_peers.py"
    spec = importlib.util.spec_from_file_location("_scale_peers", path)
    if spec is None or spec.loader is None:
        return {"skipped": f"{path.name} could not be loaded"}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: dict[str, Any] = module.run_peers(module.cached_ratings(n_ratings))
    return result


def _metric(row: dict[str, Any], name: str) -> str:
    value = row.get("output", {}).get("metrics", {}).get(name)
    return "" if value is None else f"{value:.4f}"


def _model_line(row: dict[str, Any]) -> str:
    peak = "" if row["peak_gb"] is None else f"{row['peak_gb']:.2f}"
    fits = "yes" if row["exit_code"] == 0 else "no"
    reason = row.get("error", "").removeprefix("error: ")
    filtered = " (filtered)" if "--min-movie-ratings" in row["command"] else ""
    return (
        f"| `{row['model']}`{filtered} | {fits} | {row['seconds']:.0f} | {peak} | "
        f"{_metric(row, 'rmse')} | {_metric(row, 'ndcg@10')} | {reason} |"
    )


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    title = f"{report['ratings']:,} ratings in the {report.get('release', 'ml-25m')} layout"
    generator = report.get("generator")
    title += "" if generator is None else f", generator v{generator}"
    lines = [f"# bench_scale: {title} ({report['note']})", ""]
    if "e2e" in report:
        lines += [
            "| step | wall s | peak GB | target | RMSE | NDCG@10 |",
            "|---|---:|---:|---|---:|---:|",
        ]
        for row in report["e2e"]:
            peak = "" if row["peak_gb"] is None else f"{row['peak_gb']:.2f}"
            lines.append(
                f"| `{row['command']}` | {row['seconds']:.1f} | {peak} | {row.get('target', '')} "
                f"| {_metric(row, 'rmse')} | {_metric(row, 'ndcg@10')} |"
            )
        lines.append("")
    if "models" in report:
        lines += [
            f"Every model (iterative ones at {report['epochs']} epochs):",
            "",
            "| model | fits | wall s | peak GB | RMSE | NDCG@10 | reason |",
            "|---|---|---:|---:|---:|---:|---|",
            *(_model_line(row) for row in report["models"]),
            "",
        ]
    if "peers" in report:
        lines += ["Peers: " + json.dumps(report["peers"]), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", action="append", choices=["e2e", "models", "peers"])
    parser.add_argument("--release", choices=sorted(SIZES), default="ml-25m")
    parser.add_argument("--ratings", type=int, help="Default: the release's own count.")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/scale-data"))
    parser.add_argument(
        "--epochs", type=int, default=2, help="Epochs of iterative models (models)."
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds per command.")
    parser.add_argument("--note", default="2 cores shared with other jobs")
    parser.add_argument("--name", default="scale")
    parser.add_argument("--models", help="Comma-separated registry names (models); default all.")
    parser.add_argument(
        "--update", action="store_true", help="Keep the other models' rows of --name (models)."
    )
    args = parser.parse_args(argv)
    parts = args.part or ["e2e"]
    args.ratings = args.ratings or SIZES[args.release][0]
    mirror = release(args.data_dir, args.ratings, args.release)
    env = {
        **os.environ,
        "MATINEE_DATA_MIRROR": str(mirror),
        "MATINEE_CACHE_DIR": str(args.data_dir / f"cache-{args.ratings}"),
    }
    work = args.data_dir / f"runs-{args.ratings}-{os.getpid()}"
    report: dict[str, Any] = {"ratings": args.ratings, "note": args.note, "epochs": args.epochs}
    from matinee.data.synthetic import GENERATOR_VERSION

    report["release"], report["generator"] = args.release, GENERATOR_VERSION
    names = selected(args.models)
    if "e2e" in parts:
        report["e2e"] = e2e(env, work, args.timeout, args.release)
    if "models" in parts:
        report["models"] = models(
            env, work, args.epochs, args.timeout, args.ratings, args.release, names
        )
        if args.update:
            report["models"] = merged(RESULTS / f"{args.name}.json", report, names)
    if "peers" in parts:
        report["peers"] = peers(args.ratings)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
