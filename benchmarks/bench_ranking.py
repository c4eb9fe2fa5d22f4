"""Ranking benchmark: Matinee's rankers against implicit's ALS and LensKit, plus top-k latency.

Protocols (full ranking over every movie a user has not rated, no sampled negatives, top-10):

* ml-100k, stratified 75/25 per user, every test rating relevant.
* ml-latest-small, ratings >= 4 as positives, per-user 80/20.

Hyperparameters of every contender (Matinee's and the peers') are picked on an inner per-user
80/20 validation split of the training data, never on the test ratings. EASE's lambda is then
scaled by the ratio of training sizes (the Gram matrix grows with the data), for Matinee and
LensKit alike. ``matinee session-ease`` is Matinee's EASE with session rows (the movies each user
rated within a few places of each rating, in time order, join the Gram matrix). The blend adds
z-scored ials, item-knn and rp3beta scores to session-ease's with weights picked on the same inner
split. LensKit runs in a subprocess (``_lenskit_worker.py``)
with ``PYTHONPATH=.venv/lenskit-site`` (its pandas<3 pin cannot share the project venv).

Run: ``.venv/bin/python benchmarks/bench_ranking.py [--quick]``; writes
``benchmarks/results/ranking.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from _ranking_latency import latency
from matinee.atomic import write_text_atomic
from matinee.data.filters import RatingThreshold
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.splits import per_user_holdout
from matinee.evaluation.ranking_metrics import (
    accuracy_metrics,
    catalogue_coverage,
    novelty,
    relevance_matrix,
    top_k,
)
from matinee.models.baselines.popular import MostPopular
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.models.neighbours.knn import ItemKNN, ItemKNNConfig
from matinee.models.neighbours.rp3beta import RP3Beta, RP3BetaConfig
from matinee.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
LENSKIT_SITE = ROOT / ".venv" / "lenskit-site"
K = 10
Scorer = Callable[[np.ndarray], np.ndarray]
"""Scores of every movie for a batch of user indices."""


def zscore(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(axis=1, keepdims=True)) / (
        scores.std(axis=1, keepdims=True) + 1e-9
    )


def measure(score: Scorer, train: Ratings, test: Ratings) -> dict[str, float]:
    """Top-10 metrics over the users with a test rating, excluding their train movies."""
    users = np.unique(test.user_idx)
    seen = train.user_movie_matrix()
    tops = [
        top_k(score(block), K, seen[block])
        for block in np.array_split(users, max(1, users.size // 256))
    ]
    recommended = np.vstack(tops)
    row = np.full(train.n_users, -1)
    row[users] = np.arange(users.size)
    relevant = relevance_matrix(row[test.user_idx], test.movie_idx, users.size, train.n_movies)
    values = accuracy_metrics(recommended, relevant)
    values["coverage"] = catalogue_coverage(recommended, train.n_movies)
    values["novelty"] = novelty(
        recommended, train.movie_counts(), int((train.user_counts() > 0).sum())
    )
    return {name: round(float(value), 4) for name, value in values.items()}


def implicit_scorer(train: Ratings, factors: int, regularization: float, alpha: float) -> Scorer:
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(
        factors=factors,
        regularization=regularization,
        alpha=alpha,
        iterations=15,
        random_state=0,
        calculate_training_loss=False,
    )
    matrix = train.user_movie_matrix().copy()
    matrix.data[:] = 1.0
    model.fit(matrix, show_progress=False)
    return lambda users: np.asarray(model.user_factors[users] @ model.item_factors.T)


def pick(
    name: str, grid: list[Any], build: Callable[[Ratings, Any], Scorer], train: Ratings, seed: int
) -> tuple[Any, float]:
    """The grid point with the best validation NDCG@10 on an inner split of ``train``."""
    inner = per_user_holdout(train, fraction=0.2, seed=1000 + seed)
    scored = [
        (measure(build(inner.train, point), inner.train, inner.test)["ndcg"], i)
        for i, point in enumerate(grid)
    ]
    best_ndcg, best = max(scored)
    print(f"  {name}: picked {grid[best]} (validation NDCG@10 {best_ndcg:.4f})", flush=True)
    return grid[best], best_ndcg


def matinee_scorer(model: Any) -> Scorer:
    return lambda users: model.score_users(users)


def run_protocol(
    train: Ratings, test: Ratings, grids: dict[str, list[Any]], seed: int, lenskit: bool
) -> dict[str, Any]:
    """Tune on validation, fit on train, measure on test: one row per contender."""
    rows: dict[str, Any] = {}

    def record(name: str, score: Scorer, chosen: Any, seconds: float) -> None:
        rows[name] = {
            **measure(score, train, test),
            "params": str(chosen),
            "fit_s": round(seconds, 2),
        }
        print(f"  {name}: {rows[name]}", flush=True)

    started = time.perf_counter()
    record(
        "matinee popular",
        matinee_scorer(MostPopular().fit(train)),
        "-",
        time.perf_counter() - started,
    )
    builders: dict[str, Callable[[Ratings, Any], Scorer]] = {
        "matinee item-knn": lambda data, p: matinee_scorer(
            ItemKNN(ItemKNNConfig(neighbours=p[0], shrinkage=p[1])).fit(data)
        ),
        "matinee ials": lambda data, p: matinee_scorer(
            ImplicitALS(ImplicitALSConfig(n_factors=p[0], reg=p[1], alpha=p[2])).fit(data)
        ),
        "matinee ease": lambda data, p: matinee_scorer(EASE(EASEConfig(reg=p)).fit(data)),
        "matinee edlae": lambda data, p: matinee_scorer(
            EASE(EASEConfig(reg=p[0], dropout=p[1], activity_exponent=p[2])).fit(data)
        ),
        "matinee session-ease": lambda data, p: matinee_scorer(
            EASE(EASEConfig(reg=p[0], dropout=p[1], session_window=p[2], session_weight=p[3])).fit(
                data
            )
        ),
        "matinee rp3beta": lambda data, p: matinee_scorer(
            RP3Beta(RP3BetaConfig(alpha=p[0], beta=p[1], neighbours=p[2])).fit(data)
        ),
        "implicit als": lambda data, p: implicit_scorer(data, *p),
    }
    chosen: dict[str, Any] = {}
    inner_share = len(train) / len(per_user_holdout(train, fraction=0.2, seed=1000 + seed).train)
    for name, build in builders.items():
        chosen[name], _ = pick(name, grids[name], build, train, seed)
        if name == "matinee ease":
            chosen[name] = round(chosen[name] * inner_share, 1)
        if name in ("matinee edlae", "matinee session-ease"):
            chosen[name] = (round(chosen[name][0] * inner_share, 1), *chosen[name][1:])
        started = time.perf_counter()
        record(name, build(train, chosen[name]), chosen[name], time.perf_counter() - started)
    parts = ("matinee session-ease", "matinee ials", "matinee item-knn", "matinee rp3beta")
    steps = (0.0, 0.1, 0.2, 0.3)
    blend_grid = [(wi, wk, wr) for wi in steps for wk in steps for wr in steps]

    def mix(scorers: list[Scorer], weights: tuple[float, ...]) -> Scorer:
        return lambda users: (
            zscore(scorers[0](users))
            + sum(
                weight * zscore(scorer(users))
                for weight, scorer in zip(weights, scorers[1:], strict=True)
                if weight
            )
        )

    inner = per_user_holdout(train, fraction=0.2, seed=1000 + seed)
    cached = [matinee_scorer_cache(builders[name](inner.train, chosen[name])) for name in parts]
    val = [(measure(mix(cached, w), inner.train, inner.test)["ndcg"], w) for w in blend_grid]
    best_ndcg, weights = max(val)
    print(f"  blend: picked {weights} (validation NDCG@10 {best_ndcg:.4f})", flush=True)
    started = time.perf_counter()
    record(
        "matinee blend (session-ease + ials + knn + rp3beta)",
        mix([builders[name](train, chosen[name]) for name in parts], weights),
        f"weights ials={weights[0]}, knn={weights[1]}, rp3beta={weights[2]}",
        time.perf_counter() - started,
    )
    if lenskit:
        rows.update(run_lenskit(train, test, grids["lenskit ease"], seed, inner_share))
    return rows


def matinee_scorer_cache(score: Scorer) -> Scorer:
    memo: dict[bytes, np.ndarray] = {}

    def cached(users: np.ndarray) -> np.ndarray:
        key = np.asarray(users).tobytes()
        if key not in memo:
            memo[key] = score(users)
        return memo[key]

    return cached


def run_lenskit(
    train: Ratings, test: Ratings, grid: list[float], seed: int, inner_share: float
) -> dict[str, Any]:
    """LensKit EASE (tuned on the same inner split) and ImplicitMF, in a subprocess."""
    if not (LENSKIT_SITE / "lenskit").is_dir():
        print(f"  lenskit: skipped, not installed at {LENSKIT_SITE}", flush=True)
        return {}
    inner = per_user_holdout(train, fraction=0.2, seed=1000 + seed)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data.npz"
        np.savez(
            data,
            n_movies=train.n_movies,
            grid=np.asarray(grid, dtype=np.float64),
            inner_share=inner_share,
            **{
                f"{part}_{col}": getattr(r, col)
                for part, r in (
                    ("train", train),
                    ("test", test),
                    ("inner", inner.train),
                    ("val", inner.test),
                )
                for col in ("user_idx", "movie_idx")
            },
        )
        env = {**os.environ, "PYTHONPATH": str(LENSKIT_SITE)}
        done = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("_lenskit_worker.py")), str(data)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(f"  lenskit: failed:\n{done.stderr[-3000:]}", flush=True)
            return {"lenskit": {"error": done.stderr[-500:]}}
        rows = {}
        with np.load(Path(folder) / "scores.npz") as scores:
            for name in ("lenskit ease", "lenskit implicit-mf"):
                matrix = scores[name.replace(" ", "_")]
                rows[name] = {
                    **measure(lambda users, m=matrix: m[users], train, test),
                    "params": str(scores[name.replace(" ", "_") + "_params"]),
                    "fit_s": float(scores[name.replace(" ", "_") + "_seconds"]),
                }
                print(f"  {name}: {rows[name]}", flush=True)
        return rows


def grids(quick: bool, big_catalogue: bool) -> dict[str, list[Any]]:
    ease = [150.0, 500.0] if big_catalogue else [100.0, 200.0, 300.0, 500.0, 800.0]
    return {
        "matinee item-knn": [(50, 10.0), (100, 10.0), (200, 50.0)][: 1 if quick else 3],
        "matinee ials": [(64, 1.0, 2.0), (64, 0.1, 2.0), (128, 5.0, 5.0)][: 1 if quick else 3],
        "matinee ease": ease[:2] if quick else ease,
        "matinee edlae": [
            (lam, p, a)
            for lam in ([150.0, 500.0] if big_catalogue else [100.0, 150.0, 250.0, 400.0])
            for p in ((0.5,) if big_catalogue else (0.5, 0.6, 0.7))
            for a in (0.0, 0.25)
        ][:: 6 if quick and not big_catalogue else 1],
        "matinee session-ease": [
            (lam, p, window, weight)
            for lam in ([150.0, 300.0] if big_catalogue else [150.0, 300.0, 500.0])
            for p in ((0.0,) if big_catalogue else (0.0, 0.5))
            for window in (2, 3)
            for weight in (0.3, 0.6)
        ][:: 4 if quick else 1],
        "matinee rp3beta": [
            (alpha, beta, 200) for alpha in (0.6, 1.0) for beta in (0.2, 0.35, 0.5)
        ][:: 3 if quick else 1],
        "implicit als": [(64, 1.0, 3.0), (64, 0.1, 3.0), (128, 5.0, 6.0)][: 1 if quick else 3],
        "lenskit ease": ease[:2] if quick else ease,
    }


def averaged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name in runs[0]:
        if "error" in runs[0][name]:
            table[name] = runs[0][name]
            continue
        metrics = [
            key
            for key, value in runs[0][name].items()
            if isinstance(value, float) and key != "fit_s"
        ]
        table[name] = {
            key: round(float(np.mean([run[name][key] for run in runs])), 4) for key in metrics
        }
        table[name]["sd_ndcg"] = round(float(np.std([run[name]["ndcg"] for run in runs])), 4)
        table[name]["ndcg_per_seed"] = [run[name]["ndcg"] for run in runs]
        table[name]["fit_s"] = round(float(np.mean([run[name]["fit_s"] for run in runs])), 2)
        table[name]["params (seed 0)"] = runs[0][name]["params"]
    return table


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Ranking benchmark",
        "",
        f"Command: `{results['command']}`  ",
        f"Top-{K}, full ranking, metrics averaged over the seeds of each protocol; ± is the "
        "standard deviation of NDCG@10 over seeds (0 with one seed).",
        "",
    ]
    for protocol in ("ml-100k", "ml-latest-small"):
        table = results[protocol]
        seeds = results["protocol_seeds"][protocol]
        lines += [
            f"## {protocol}: {results['protocols'][protocol]}; seeds {seeds}",
            "",
            "| model | P@10 | R@10 | NDCG@10 | NDCG@10 per seed | MAP@10 | hit rate | coverage "
            "| novelty | fit s | params (seed 0) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, row in sorted(table.items(), key=lambda item: -item[1].get("ndcg", 0)):
            if "error" in row:
                lines.append(f"| {name} | error: {row['error'][:80]} ||||||||||")
                continue
            cells = [
                name,
                f"{row['precision']:.4f}",
                f"{row['recall']:.4f}",
                f"{row['ndcg']:.4f} ± {row['sd_ndcg']:.4f}",
                " / ".join(f"{value:.4f}" for value in row.get("ndcg_per_seed", [row["ndcg"]])),
                f"{row['map']:.4f}",
                f"{row['hit_rate']:.4f}",
                f"{row['coverage']:.4f}",
                f"{row['novelty']:.2f}",
                str(row["fit_s"]),
                str(row["params (seed 0)"]),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += [
        "## Latency (median of 55 calls, one BLAS thread, as a server worker would run)",
        "",
        "| model | movies | known user ms | new user (10 ratings) ms |",
        "|---|---|---|---|",
    ]
    for name, row in results["latency"].items():
        cells = [name, f"{row['movies']:,}", row["known_user_ms"], row["new_user_10_ratings_ms"]]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, small grids")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip-lenskit", action="store_true")
    parser.add_argument("--latest-seeds", type=int, default=3, help="seeds on ml-latest-small")
    parser.add_argument("--only", choices=["ml-100k", "ml-latest-small", "latency"])
    args = parser.parse_args()
    settings = Settings.from_env(show_progress=False)
    seeds = list(range(1 if args.quick else args.seeds))
    results: dict[str, Any] = {
        "command": " ".join(["benchmarks/bench_ranking.py", *sys.argv[1:]]),
        "seeds": seeds,
        "protocols": {
            "ml-100k": "stratified 75/25 per user, every test rating relevant",
            "ml-latest-small": "ratings >= 4 as positives, per-user 80/20",
        },
        "protocol_seeds": {},
    }
    if args.only in (None, "ml-100k"):
        ratings = load_dataset("ml-100k", settings=settings).ratings
        runs = []
        for seed in seeds:
            print(f"ml-100k seed {seed}", flush=True)
            split = per_user_holdout(ratings, fraction=0.25, seed=seed)
            runs.append(
                run_protocol(
                    split.train, split.test, grids(args.quick, False), seed, not args.skip_lenskit
                )
            )
        results["ml-100k"] = averaged(runs)
        results["protocol_seeds"]["ml-100k"] = seeds
    if args.only in (None, "ml-latest-small"):
        liked = (
            RatingThreshold(4.0)
            .apply(load_dataset("ml-latest-small", settings=settings).ratings)
            .ratings.compact()
        )
        runs = []
        for seed in seeds[: args.latest_seeds]:
            print(f"ml-latest-small seed {seed}", flush=True)
            split = per_user_holdout(liked, fraction=0.2, seed=seed)
            runs.append(
                run_protocol(
                    split.train, split.test, grids(args.quick, True), seed, not args.skip_lenskit
                )
            )
        results["ml-latest-small"] = averaged(runs)
        results["protocol_seeds"]["ml-latest-small"] = seeds[: args.latest_seeds]
    if args.only in (None, "latency"):
        results["latency"] = latency(args.quick)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.only is not None and not args.quick:
        results = merged_into_previous(results)
    suffix = "-quick" if args.quick else ""
    write_text_atomic(RESULTS / f"ranking{suffix}.json", json.dumps(results, indent=2) + "\n")
    if all(part in results for part in ("ml-100k", "ml-latest-small", "latency")):
        write_text_atomic(RESULTS / f"ranking{suffix}.md", markdown(results))
    print(json.dumps(results, indent=2))


def merged_into_previous(results: dict[str, Any]) -> dict[str, Any]:
    """An ``--only`` run replaces its own section of ``ranking.json``, keeping the others."""
    path = RESULTS / "ranking.json"
    if not path.is_file():
        return results
    previous: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for part in ("ml-100k", "ml-latest-small", "latency"):
        if part in results:
            previous[part] = results[part]
    previous["protocol_seeds"] = {**previous.get("protocol_seeds", {}), **results["protocol_seeds"]}
    previous["command"] = f"{previous.get('command', '?')}, then {results['command']}"
    return previous


if __name__ == "__main__":
    main()
