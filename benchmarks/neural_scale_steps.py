"""Where a neural model's training step goes at ml-25m size (issue 16): loss, L2 term, optimizer.

Builds each network at the shapes ml-25m gives it (162,541 users, 59,047 movies; AutoRec and the
movie autoencoder encode movies' rows of 162,541 users, with a ml-25m movie's mean of 423
ratings a row) and times the three parts of a step on random batches of those shapes, for two
batch sizes: the default and a larger one. The models' own networks, losses and optimizers are
used; only the batches are random (the cost of each part depends on shapes, not on values).

    python benchmarks/neural_scale_steps.py --steps 5
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from matinee.models.neural._autorec_net import AutoRecNet
from matinee.models.neural._torch import make_optimizer, sparse_rows
from matinee.models.neural.embedding_net import EmbeddingNetConfig, EmbeddingNetModule

RESULTS = Path(__file__).resolve().parent / "results"
USERS, MOVIES, RATINGS = 162_541, 59_047, 25_000_095
PER_MOVIE = RATINGS // MOVIES


def _timed(parts: dict[str, Callable[[], Any]], steps: int) -> dict[str, float]:
    """Mean seconds of each named part over ``steps`` steps (after one warm-up step)."""
    totals = dict.fromkeys(parts, 0.0)
    for step in range(steps + 1):
        for name, part in parts.items():
            started = time.perf_counter()
            part()
            if step:
                totals[name] += time.perf_counter() - started
    return {name: total / steps for name, total in totals.items()}


def autoencoder(hidden: int, optimizer: str, batch: int, steps: int, dense: bool) -> dict[str, Any]:
    """AutoRec (``dense=False``: loss at observed cells) or the movie autoencoder (zero-filled)."""
    rng = np.random.default_rng(0)
    net = AutoRecNet(
        n_inputs=USERS, hidden=(hidden,), hidden_activation="sigmoid",
        output_activation="identity", dropout=0.0,
    )  # fmt: skip
    opt = make_optimizer(optimizer, list(net.parameters()), 1e-3)
    columns = rng.integers(0, USERS, size=batch * PER_MOVIE).astype(np.int32)
    indptr = np.arange(0, batch * PER_MOVIE + 1, PER_MOVIE)
    values = rng.integers(1, 11, size=columns.size).astype(np.float32) / 2
    matrix = sp.csr_matrix((values, columns, indptr), shape=(batch, USERS))
    rows = sparse_rows(matrix, np.arange(batch), torch.device("cpu"))
    state: dict[str, torch.Tensor] = {}

    def loss() -> None:
        codes = net.encode(rows)
        if dense:
            flat = rows.row_of_entry * USERS + rows.columns
            output = net.decode_dense(codes)
            target = torch.zeros_like(output).reshape(-1).index_put((flat,), rows.values)
            state["loss"] = torch.mean((output.reshape(-1) - target) ** 2)
        else:
            predicted = net.decode_at(codes, rows.row_of_entry, rows.columns)
            state["loss"] = torch.mean((predicted - rows.values) ** 2)
        opt.zero_grad(set_to_none=True)
        state["loss"].backward()  # type: ignore[no-untyped-call]

    def penalty() -> None:
        term = net.penalty(1e-3, 0.0) if not dense else 0.2 * torch.sum(net.encoder.weight**2)
        term.backward()  # type: ignore[no-untyped-call]

    times = _timed({"loss": loss, "l2_term": penalty, "optimizer": opt.step}, steps)
    epoch_steps = -(-MOVIES // batch)
    return {"batch": batch, **times, "epoch_steps": epoch_steps,
            "epoch_s": sum(times.values()) * epoch_steps}  # fmt: skip


def embedding_net(batch: int, steps: int) -> dict[str, Any]:
    """The embedding net's step on ``batch`` random (user, movie, rating) triples."""
    config = EmbeddingNetConfig(batch_size=batch)
    net = EmbeddingNetModule(config, USERS, MOVIES, (0.5, 5.0))
    opt = make_optimizer("adam", list(net.parameters()), config.learning_rate)
    rng = np.random.default_rng(0)
    users = torch.from_numpy(rng.integers(0, USERS, size=batch))
    movies = torch.from_numpy(rng.integers(0, MOVIES, size=batch))
    ratings = torch.from_numpy(rng.integers(1, 11, size=batch).astype(np.float32) / 2)

    def loss() -> None:
        opt.zero_grad(set_to_none=True)
        torch.mean((net.pairs(users, movies) - ratings) ** 2).backward()  # type: ignore[no-untyped-call]

    def penalty() -> None:
        net.penalty(config.reg).backward()  # type: ignore[no-untyped-call]

    times = _timed({"loss": loss, "l2_term": penalty, "optimizer": opt.step}, steps)
    epoch_steps = -(-int(RATINGS * 0.9) // batch)
    return {"batch": batch, **times, "epoch_steps": epoch_steps,
            "epoch_s": sum(times.values()) * epoch_steps}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    report = {
        "autorec": [autoencoder(500, "adam", b, args.steps, dense=False) for b in (64, 1024)],
        "movie-autoencoder": [autoencoder(50, "sgd", b, args.steps, dense=True) for b in (32, 512)],
        "embedding-net": [embedding_net(b, args.steps) for b in (64, 8192)],
        "threads": 1,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "neural_scale_steps.json").write_text(json.dumps(report, indent=2) + "\n")
    for name, rows in report.items():
        if isinstance(rows, list):
            for row in rows:
                print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})


if __name__ == "__main__":
    main()
