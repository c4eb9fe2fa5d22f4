"""Neural models (AutoRec, embedding net, movie autoencoder) beside biased MF and Surprise SVD.

Run ``MATINEE_DATA_MIRROR=/work/shared/data .venv/bin/python benchmarks/bench_neural.py
[--quick] [--only SECTION ...]``. Sections:

1. ``folds``: ml-100k canonical folds ``u1``..``u5``: RMSE of item AutoRec and the embedding net
   (defaults), beside Matinee's biased MF and Surprise's SVD on the very same folds.
2. ``speed``: seconds of one item-AutoRec epoch (defaults, 500 hidden units) with the output loss
   computed at observed entries only (``sparse``) and by a full decode then masked (``dense``),
   on ml-100k ``u1`` and on a 1M-rating synthetic set shaped like ml-1m (6,040 users x 3,706
   movies), with torch on ``--threads`` threads (default 1, see :data:`THREADS`). ``auto``
   picks by density (:data:`matinee.models.autorec.SPARSE_OUTPUT_MAX_DENSITY`).
3. ``hidden``: the AutoRec notebook's protocol (``hidden_ratings``: the 500 most active users,
   10% test users with 20% of their ratings hidden; the models fold the test users in from the
   rest) on ml-latest-small and ml-100k: RMSE, MAE and MAPE of each neural model and biased MF.

Wall seconds on a shared, busy machine include waiting for a core; CPU seconds
(``time.process_time``) are reported beside them. ``--quick`` runs fold ``u1`` only, a 200k
synthetic set and ml-100k only for the protocol. Results go to
``benchmarks/results/neural[-quick].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import surprise
import torch

from bench_neural_device import FIT_MODELS
from matinee.atomic import write_text_atomic
from matinee.data.canonical import canonical_folds
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.splits import hidden_ratings
from matinee.data.synthetic import generate_ratings
from matinee.evaluation.evaluate import evaluate
from matinee.evaluation.rating_metrics import rmse
from matinee.models.base import Recommender
from matinee.models.factorization.mf import BiasedMF
from matinee.models.neural.autorec import SPARSE_OUTPUT_MAX_DENSITY, AutoRec, AutoRecConfig
from matinee.models.neural.embedding_net import TUNED, EmbeddingNet
from matinee.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
THREADS = 1
"""Default torch threads. On a shared machine whose cores are busy, a second torch thread spends
its time spinning at OpenMP barriers: an AutoRec epoch on ml-100k took 0.35 s on one thread and
6-12 s on two while other jobs held the cores. Pass ``--threads 2`` on a quiet machine."""

FOLD_MODELS: dict[str, Callable[[], Recommender[Any]]] = {
    "autorec (item)": AutoRec,
    "embedding-net (notebook defaults)": EmbeddingNet,
    "embedding-net (tuned)": lambda: EmbeddingNet(TUNED),
    "biased-mf": BiasedMF,
}

PROTOCOL_MODELS: dict[str, Callable[[], Recommender[Any]]] = {**FIT_MODELS, "biased-mf": BiasedMF}


def pin_threads() -> None:
    """Set torch's threads again before each fit.

    Numba (biased MF) shares the OpenMP runtime and resets its thread count, which slowed every
    later torch epoch several times over.
    """
    torch.set_num_threads(int(os.environ["BENCH_NEURAL_THREADS"]))


def timed_fit(model: Recommender[Any], train: Ratings) -> tuple[Recommender[Any], float, float]:
    """Fit and return the model with its wall and CPU seconds."""
    pin_threads()
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(train)
    return model, time.perf_counter() - wall, time.process_time() - cpu


def surprise_svd_rmse(train: Ratings, test: Ratings) -> float:
    """Surprise SVD (defaults) trained and scored on the same fold, by raw ids."""
    frame = train.to_polars().to_pandas()[["user_id", "movie_id", "rating"]]
    reader = surprise.Reader(rating_scale=train.rating_scale)
    trainset = surprise.Dataset.load_from_df(frame, reader).build_full_trainset()
    algo = surprise.SVD(random_state=0)
    algo.fit(trainset)
    users = train.users.raw_ids[test.user_idx]
    movies = train.movies.raw_ids[test.movie_idx]
    predicted = [algo.predict(int(u), int(m)).est for u, m in zip(users, movies, strict=True)]
    return rmse(test.rating, np.asarray(predicted))


def bench_folds(settings: Settings, quick: bool) -> dict[str, Any]:
    """RMSE per canonical ml-100k fold for each model, and the mean."""
    names = ("u1",) if quick else ("u1", "u2", "u3", "u4", "u5")
    folds = canonical_folds(load_dataset("ml-100k", settings=settings), names, settings=settings)
    table: dict[str, dict[str, Any]] = {}
    for split in folds:
        for label, make in FOLD_MODELS.items():
            model, wall, cpu = timed_fit(make(), split.train)
            error = rmse(
                split.test.rating, model.predict(split.test.user_idx, split.test.movie_idx)
            )
            row = table.setdefault(label, {"rmse": {}, "fit_seconds": {}, "fit_cpu_seconds": {}})
            row["rmse"][split.name], row["fit_seconds"][split.name] = error, wall
            row["fit_cpu_seconds"][split.name] = cpu
            print(f"{split.name} {label}: RMSE {error:.4f} ({wall:.1f} s)", flush=True)
        error = surprise_svd_rmse(split.train, split.test)
        table.setdefault("surprise SVD", {"rmse": {}})["rmse"][split.name] = error
        print(f"{split.name} surprise SVD: RMSE {error:.4f}", flush=True)
    for row in table.values():
        row["mean_rmse"] = float(np.mean(list(row["rmse"].values())))
    return {"folds": list(names), "models": table}


def epoch_seconds(train: Ratings, output_loss: str) -> dict[str, float]:
    """Wall and CPU seconds of one item-AutoRec epoch (defaults) with ``output_loss``."""
    config = AutoRecConfig(epochs=1, output_loss=output_loss)  # type: ignore[arg-type]
    pin_threads()
    cpu = time.process_time()
    model = AutoRec(config).fit(train)
    return {
        "epoch_seconds": model.history_[0]["seconds"],
        "fit_cpu_seconds": time.process_time() - cpu,
    }


def bench_speed(settings: Settings, quick: bool) -> dict[str, Any]:
    """Dense- vs sparse-output epoch time on ml-100k u1 and a synthetic ml-1m-shaped set."""
    n_synthetic = 200_000 if quick else 1_000_000
    data = {
        "ml-100k u1": canonical_folds(
            load_dataset("ml-100k", settings=settings), ("u1",), settings=settings
        )[0].train,
        f"synthetic {n_synthetic:,} (6,040 x 3,706)": generate_ratings(
            n_synthetic, n_users=6040, n_movies=3706, seed=0
        ),
        f"synthetic {n_synthetic // 2:,} (20,000 x 8,000, sparse)": generate_ratings(
            n_synthetic // 2, n_users=20_000, n_movies=8_000, seed=0
        ),
    }
    rows = {}
    for name, train in data.items():
        auto = AutoRec(AutoRecConfig(epochs=1))
        auto.input_matrix_ = train.movie_user_matrix()
        row: dict[str, Any] = {
            "ratings": len(train),
            "density": train.density,
            "auto_picks": "sparse" if auto.uses_sparse_output() else "dense",
        }
        for output_loss in ("sparse", "dense"):
            row[output_loss] = epoch_seconds(train, output_loss)
            print(f"{name} {output_loss}: {row[output_loss]}", flush=True)
        rows[name] = row
    return {
        "threads": torch.get_num_threads(),
        "sparse_below_density": SPARSE_OUTPUT_MAX_DENSITY,
        "sets": rows,
    }


def bench_hidden(settings: Settings, quick: bool) -> dict[str, Any]:
    """The hidden-ratings protocol: fold in test users, predict their hidden ratings."""
    releases = ("ml-100k",) if quick else ("ml-latest-small", "ml-100k")
    out: dict[str, Any] = {}
    for release in releases:
        ratings = load_dataset(release, settings=settings).ratings
        split = hidden_ratings(ratings, top_users=500, test_users=0.1, hidden_fraction=0.2, seed=0)
        rows = {}
        for label, make in PROTOCOL_MODELS.items():
            model, wall, _ = timed_fit(make(), split.train)
            result = evaluate(model, split, metrics=["rmse", "mae", "mape"])
            rows[label] = {**dict(result.metrics), "fit_seconds": wall}
            print(f"{release} {label}: {rows[label]}", flush=True)
        out[release] = {
            "train": len(split.train),
            "fold_in": len(split.fold_in) if split.fold_in is not None else 0,
            "test": len(split.test),
            "models": rows,
        }
    return out


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = [f"# Neural models ({report['mode']})", "", f"Machine: {report['machine']}", ""]
    if "folds" in report:
        folds = report["folds"]["folds"]
        lines += ["## ml-100k canonical folds: RMSE", ""]
        lines += ["| model | " + " | ".join(folds) + " | mean |", "|---" * (len(folds) + 2) + "|"]
        for label, row in report["folds"]["models"].items():
            cells = " | ".join(f"{row['rmse'][f]:.4f}" for f in folds)
            lines.append(f"| {label} | {cells} | **{row['mean_rmse']:.4f}** |")
        lines.append("")
    if "speed" in report:
        speed = report["speed"]
        lines += [
            f"## Item AutoRec epoch, sparse vs dense output (torch on {speed['threads']} threads)",
            "",
            "| data | ratings | density | sparse s (cpu s) | dense s (cpu s) | auto picks |",
            "|---|---|---|---|---|---|",
        ]
        for name, row in speed["sets"].items():
            sparse, dense = row["sparse"], row["dense"]
            lines.append(
                f"| {name} | {row['ratings']:,} | {row['density']:.3f} | "
                f"{sparse['epoch_seconds']:.2f} ({sparse['fit_cpu_seconds']:.2f}) | "
                f"{dense['epoch_seconds']:.2f} ({dense['fit_cpu_seconds']:.2f}) | "
                f"{row['auto_picks']} |"
            )
        lines.append("")
    for release, block in report.get("hidden", {}).items():
        lines += [
            f"## Hidden-ratings protocol on {release} (train {block['train']:,}, "
            f"fold-in {block['fold_in']:,}, hidden {block['test']:,})",
            "",
            "| model | RMSE | MAE | MAPE | fit s |",
            "|---|---|---|---|---|",
        ]
        for label, row in block["models"].items():
            lines.append(
                f"| {label} | {row['rmse']:.4f} | {row['mae']:.4f} | {row['mape']:.4f} | "
                f"{row['fit_seconds']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run on small data")
    parser.add_argument("--only", nargs="+", choices=("speed", "hidden", "folds"), default=None)
    parser.add_argument("--threads", type=int, default=THREADS, help="torch threads")
    args = parser.parse_args()
    os.environ["BENCH_NEURAL_THREADS"] = str(args.threads)
    pin_threads()
    settings = Settings.from_env(show_progress=False)
    sections = {"speed": bench_speed, "hidden": bench_hidden, "folds": bench_folds}
    chosen = args.only or list(sections)
    stem = "neural-quick" if args.quick else "neural"
    path = RESULTS / f"{stem}.json"
    report: dict[str, Any] = json.loads(path.read_text()) if path.exists() and args.only else {}
    report |= {
        "mode": "quick" if args.quick else "full",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "configs": {
            "autorec": dataclasses.asdict(AutoRecConfig()),
            "embedding-net (tuned)": dataclasses.asdict(TUNED),
        },
    }
    for name in chosen:
        report[name] = sections[name](settings, args.quick)
        write_text_atomic(path, json.dumps(report, indent=2) + "\n")
    write_text_atomic(RESULTS / f"{stem}.md", markdown(report))


if __name__ == "__main__":
    main()
