"""The neural models on one torch device (CPU or CUDA): ml-100k RMSE and seconds per epoch.

Run ``MATINEE_DATA_MIRROR=/work/shared/data .venv/bin/python benchmarks/bench_neural_device.py
--device cuda`` (or ``--device cpu [--threads N]``) once per device and compare the two reports.
Sections:

1. ``fit``: each neural model fitted on ml-100k ``u1`` with its defaults (the embedding net also
   with :data:`matinee.models.embedding_net.TUNED`, the movie autoencoder also with the masked
   loss): RMSE on ``u1.test``, fit seconds and the median epoch.
2. ``epochs``: seconds of an item-AutoRec epoch (defaults, 500 hidden units) and of an
   embedding-net epoch (``TUNED``: batches of 256 ratings) on ml-100k ``u1`` and on 1,000,000
   synthetic ratings shaped like ml-1m (6,040 users x 3,706 movies). Each fit runs
   :data:`TIMED_EPOCHS` epochs; the first (CUDA start-up, kernel loading) is reported apart and
   the median of the others is the epoch time.

Epoch seconds are the training loop's own (``history_[i]["seconds"]``, the validation loss
included); every epoch ends by reading its loss back from the device, so GPU work is finished when
the clock stops. ``--quick`` uses 200,000 synthetic ratings. Results go to
``benchmarks/results/neural-<device>[-quick].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from matinee.atomic import write_text_atomic
from matinee.data.canonical import canonical_split
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.synthetic import generate_ratings
from matinee.evaluation.rating_metrics import rmse
from matinee.models.base import Recommender
from matinee.models.neural.autorec import AutoRec, AutoRecConfig
from matinee.models.neural.embedding_net import TUNED, EmbeddingNet
from matinee.models.neural.movie_autoencoder import MovieAutoencoder, MovieAutoencoderConfig
from matinee.settings import Settings
from matinee.training.loop import FitOptions

RESULTS = Path(__file__).resolve().parent / "results"

TIMED_EPOCHS = 4
"""Epochs per timing fit: one start-up epoch, then three timed."""

FIT_MODELS: dict[str, Callable[[], Recommender[Any]]] = {
    "autorec (item)": AutoRec,
    "autorec (user)": lambda: AutoRec(AutoRecConfig(kind="user")),
    "embedding-net (notebook defaults)": EmbeddingNet,
    "embedding-net (tuned)": lambda: EmbeddingNet(TUNED),
    "movie-autoencoder (zero-filled, notebook)": MovieAutoencoder,
    "movie-autoencoder (masked)": lambda: MovieAutoencoder(
        MovieAutoencoderConfig(masked_loss=True, reg=1e-4)
    ),
}

EPOCH_MODELS: dict[str, Callable[[], Recommender[Any]]] = {
    "autorec (item)": lambda: AutoRec(AutoRecConfig(epochs=TIMED_EPOCHS)),
    "embedding-net (tuned)": lambda: EmbeddingNet(dataclasses.replace(TUNED, epochs=TIMED_EPOCHS)),
}


def bench_fit(train: Ratings, test: Ratings, options: FitOptions) -> dict[str, Any]:
    """RMSE on ``test``, fit seconds and the median epoch of each model of :data:`FIT_MODELS`."""
    rows = {}
    for label, make in FIT_MODELS.items():
        started = time.perf_counter()
        model = make().fit(train, options=options)
        seconds = time.perf_counter() - started
        epochs = [record["seconds"] for record in model.history_]
        rows[label] = {
            "rmse": rmse(test.rating, model.predict(test.user_idx, test.movie_idx)),
            "epochs": len(epochs),
            "fit_seconds": seconds,
            "median_epoch_seconds": statistics.median(epochs),
        }
        print(f"fit {label}: {rows[label]}", flush=True)
    return rows


def bench_epochs(sets: dict[str, Ratings], options: FitOptions) -> dict[str, Any]:
    """First-epoch and median later-epoch seconds of each model of :data:`EPOCH_MODELS`."""
    rows: dict[str, Any] = {}
    for name, train in sets.items():
        for label, make in EPOCH_MODELS.items():
            seconds = [record["seconds"] for record in make().fit(train, options=options).history_]
            rows.setdefault(name, {"ratings": len(train)})[label] = {
                "first_epoch_seconds": seconds[0],
                "epoch_seconds": statistics.median(seconds[1:]),
            }
            print(f"epochs {name} {label}: {rows[name][label]}", flush=True)
    return rows


def device_name(device: torch.device) -> str:
    """The GPU's name, or the processor and core count."""
    if device.type == "cuda":
        return str(torch.cuda.get_device_name(device))
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = [
        f"# Neural models on {report['device']} ({report['mode']})",
        "",
        f"Device: {report['device_name']}; torch {report['torch']}, "
        f"{report['threads']} CPU threads.",
        "",
        "## ml-100k u1: fitted with defaults",
        "",
        "| model | RMSE | epochs | fit s | median epoch s |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, row in report["fit"].items():
        lines.append(
            f"| {label} | {row['rmse']:.4f} | {row['epochs']} | {row['fit_seconds']:.2f} | "
            f"{row['median_epoch_seconds']:.3f} |"
        )
    labels = list(EPOCH_MODELS)
    lines += [
        "",
        f"## Seconds per epoch (median of epochs 2-{TIMED_EPOCHS}; first epoch in brackets)",
        "",
        "| data | ratings | " + " | ".join(labels) + " |",
        "|---|---:|" + "---:|" * len(labels),
    ]
    for name, row in report["epochs"].items():
        cells = " | ".join(
            f"{row[label]['epoch_seconds']:.3f} ({row[label]['first_epoch_seconds']:.3f})"
            for label in labels
        )
        lines.append(f"| {name} | {row['ratings']:,} | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="torch device: cpu or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--quick", action="store_true", help="200,000 synthetic ratings")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the results")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = FitOptions(device=args.device)
    device = torch.device(args.device)
    settings = Settings.from_env(show_progress=False)
    split = canonical_split(load_dataset("ml-100k", settings=settings), "u1", settings=settings)
    n_synthetic = 200_000 if args.quick else 1_000_000
    synthetic = generate_ratings(n_synthetic, n_users=6040, n_movies=3706, seed=0)
    report: dict[str, Any] = {
        "device": device.type,
        "device_name": device_name(device),
        "mode": "quick" if args.quick else "full",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "threads": torch.get_num_threads(),
        "fit": bench_fit(split.train, split.test, options),
        "epochs": bench_epochs(
            {"ml-100k u1": split.train, f"synthetic {n_synthetic:,} (6,040 x 3,706)": synthetic},
            options,
        ),
    }
    stem = f"neural-{device.type}" + ("-quick" if args.quick else "")
    args.out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.out / f"{stem}.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(args.out / f"{stem}.md", markdown(report))
    print(markdown(report), flush=True)


if __name__ == "__main__":
    main()
