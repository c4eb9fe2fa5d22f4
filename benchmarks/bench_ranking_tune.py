"""The ranking targets of issue 14: ``matinee tune`` over session-aware EASE, and rankers' defaults.

Protocols (the same as ``bench_ranking.py``, full ranking, top-10):

* ml-100k, stratified 75/25 per user, every test rating relevant (relevance threshold 1).
* ml-latest-small, ratings >= 4 as positives, per-user 80/20.

``tuned``: for every outer seed, :func:`matinee.evaluation.tuning.tune` (what ``matinee tune``
runs: TPE, seed 0) searches EASE's default space (reg, dropout, session window and weight) on
one random 10% validation share of that seed's training part, never its test; the best config
is refitted on the training part and scored once on the test part. The search is per seed, as a
config tuned on one seed's training part has seen the other seeds' test ratings.

``defaults``: every ranker with its default config against ``popular``, NDCG@10 on the same
splits (issue 14 item 4).

Run: ``.venv/bin/python benchmarks/bench_ranking_tune.py [--quick] [--trials N]``; writes
``benchmarks/results/ranking_tune.{json,md}`` (``-quick`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_ranking import matinee_scorer, measure
from matinee.atomic import write_text_atomic
from matinee.data.filters import RatingThreshold
from matinee.data.loader import load_dataset
from matinee.data.split import Split
from matinee.data.splits import per_user_holdout
from matinee.evaluation.tuning import TuneSettings, tune
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.models.registry import model_class
from matinee.models.search import Dimension, FloatRange, IntRange, search_space
from matinee.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
RANKERS = ("popular", "ease", "ials", "item-knn", "rp3beta")

SPACE: dict[str, Dimension] = {
    **search_space(EASEConfig),
    "low_pass_factors": IntRange(0, 64),
    "low_pass_weight": FloatRange(0.05, 1.0, log=True),
}
"""EASE's default space (plain EASE at window 0, EDLAE's dropout, session rows) and the GF-CF
low-pass filter (0 factors: off) in one."""

PROTOCOLS = {
    "ml-100k": ("stratified 75/25 per user, every test rating relevant", 0.25, 1.0),
    "ml-latest-small": ("ratings >= 4 as positives, per-user 80/20", 0.2, 4.0),
}
"""Protocol -> (description, test fraction per user, relevance threshold)."""

TARGETS = {"ml-100k": ("precision", 0.44), "ml-latest-small": ("ndcg", 0.285)}
"""Issue 14's Show targets: the metric and the value to reach."""


def splits(name: str, seeds: list[int]) -> list[Split]:
    """The outer splits of a protocol, one per seed, as ``bench_ranking.py`` cuts them."""
    settings = Settings.from_env(show_progress=False)
    ratings = load_dataset(name, settings=settings).ratings
    if name == "ml-latest-small":
        ratings = RatingThreshold(4.0).apply(ratings).ratings.compact()
    fraction = PROTOCOLS[name][1]
    return [per_user_holdout(ratings, fraction=fraction, seed=seed) for seed in seeds]


def tuned_run(split: Split, relevance: float, trials: int) -> dict[str, Any]:
    """One search on ``split``'s training part; the best refitted and measured on its test."""
    settings = TuneSettings(trials=trials, metric="ndcg@10", seed=0, relevance_threshold=relevance)
    load = os.getloadavg()[0]
    result = tune(EASE, split, settings=settings, space=SPACE)
    model = EASE(result.best_config).fit(split.train)
    chosen = dataclasses.asdict(result.best_config)
    return {
        **measure(matinee_scorer(model), split.train, split.test),
        "inner_ndcg": round(result.best_value, 4),
        "best": {key: _rounded(chosen[key]) for key in SPACE},
        "search_s": round(result.search_seconds, 1),
        "load_at_start": round(load, 1),
        "protocol": result.protocol,
    }


def _rounded(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def default_runs(split: Split) -> dict[str, dict[str, float]]:
    """Every ranker with its default config, measured on ``split``."""
    rows = {}
    for name in RANKERS:
        model = model_class(name)().fit(split.train)
        rows[name] = measure(matinee_scorer(model), split.train, split.test)
        print(f"  default {name}: {rows[name]}", flush=True)
    return rows


def mean_of(runs: list[dict[str, Any]], key: str) -> float:
    return round(float(np.mean([run[key] for run in runs])), 4)


def protocol_results(name: str, seeds: list[int], trials: int) -> dict[str, Any]:
    """Tuned session-aware EASE and the rankers' defaults on every seed of one protocol."""
    tuned, defaults = [], []
    for seed, split in zip(seeds, splits(name, seeds), strict=True):
        print(f"{name} seed {seed}", flush=True)
        tuned.append(tuned_run(split, PROTOCOLS[name][2], trials))
        print(f"  tuned: {tuned[-1]}", flush=True)
        defaults.append(default_runs(split))
    metric, target = TARGETS[name]
    return {
        "protocol": PROTOCOLS[name][0],
        "seeds": seeds,
        "trials_per_seed": trials,
        "tuned": {
            "per_seed": tuned,
            **{key: mean_of(tuned, key) for key in ("precision", "ndcg", "map", "recall")},
            "search_s_total": round(sum(run["search_s"] for run in tuned), 1),
        },
        "target": {"metric": metric, "value": target, "met": mean_of(tuned, metric) >= target},
        "defaults": {
            model: {
                key: mean_of([run[model] for run in defaults], key) for key in ("precision", "ndcg")
            }
            for model in RANKERS
        },
    }


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Ranking targets (issue 14): tuned session-aware EASE and the rankers' defaults",
        "",
        f"Command: `{results['command']}`; {results['machine']}.  ",
        "Search: `matinee.evaluation.tuning.tune` (TPE seed 0, metric NDCG@10) over "
        + ", ".join(f"{key} {dim}" for key, dim in results["space"].items())
        + ", on one random 10% validation share of each seed's training part; the best config "
        "refitted on that training part and scored once on its test part.",
        "",
    ]
    for name in PROTOCOLS:
        if name not in results:
            continue
        part = results[name]
        tuned, target = part["tuned"], part["target"]
        lines += [
            f"## {name}: {part['protocol']}; seeds {part['seeds']}",
            "",
            f"Target: {target['metric']}@10 >= {target['value']}: "
            f"{'met' if target['met'] else 'not met'} ({tuned[target['metric']]:.4f}).",
            "",
            "| seed | P@10 | NDCG@10 | inner NDCG@10 | best config | trials | search s | load |",
            "|---|---:|---:|---:|---|---:|---:|---:|",
        ]
        for seed, run in zip(part["seeds"], tuned["per_seed"], strict=True):
            config = ", ".join(f"{key}={value}" for key, value in run["best"].items())
            lines.append(
                f"| {seed} | {run['precision']:.4f} | {run['ndcg']:.4f} | {run['inner_ndcg']:.4f}"
                f" | {config} | {part['trials_per_seed']} | {run['search_s']} "
                f"| {run['load_at_start']} |"
            )
        lines += [
            f"| mean | {tuned['precision']:.4f} | {tuned['ndcg']:.4f} | | | | "
            f"{tuned['search_s_total']} | |",
            "",
            "Defaults (every ranker's default config on the same splits, mean over seeds):",
            "",
            "| model | P@10 | NDCG@10 | beats popular's NDCG@10 |",
            "|---|---:|---:|---|",
        ]
        popular = part["defaults"]["popular"]["ndcg"]
        for model, row in part["defaults"].items():
            verdict = "-" if model == "popular" else ("yes" if row["ndcg"] > popular else "NO")
            lines.append(f"| {model} | {row['precision']:.4f} | {row['ndcg']:.4f} | {verdict} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, 4 trials")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds from this one on")
    parser.add_argument("--trials", type=int, default=30, help="TPE trials per seed")
    parser.add_argument("--latest-seeds", type=int, default=3, help="seeds on ml-latest-small")
    parser.add_argument("--only", choices=list(PROTOCOLS))
    parser.add_argument("--tag", default="", help="appended to the results' file names")
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + (1 if args.quick else args.seeds)))
    trials = 4 if args.quick else args.trials
    started = time.perf_counter()
    results: dict[str, Any] = {
        "command": " ".join(["benchmarks/bench_ranking_tune.py", *sys.argv[1:]]),
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start",
        "space": {key: str(dim) for key, dim in SPACE.items()},
    }
    for name in PROTOCOLS:
        if args.only in (None, name):
            chosen = seeds[: args.latest_seeds] if name == "ml-latest-small" else seeds
            results[name] = protocol_results(name, chosen, trials)
    results["wall_s"] = round(time.perf_counter() - started, 1)
    suffix = (
        ("-quick" if args.quick else "")
        + (f"-from-seed-{args.first_seed}" * bool(args.first_seed))
        + (f"-{args.tag}" if args.tag else "")
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    write_text_atomic(RESULTS / f"ranking_tune{suffix}.json", json.dumps(results, indent=2) + "\n")
    write_text_atomic(RESULTS / f"ranking_tune{suffix}.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
