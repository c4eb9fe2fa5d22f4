"""Session-aware EASE with movie side information (genre and release-year rows) against itself.

Protocols of ``bench_ranking.py`` (ml-100k stratified 75/25 per user, every test rating
relevant; ml-latest-small ratings >= 4, per-user 80/20), seeds 0-2, full ranking over unrated
movies, top-10. Session-ease's own settings are ``bench_ranking.py``'s inner-validation picks of
seed 0 (``results/ranking.json``), or with ``--per-seed-picks`` picked per seed on its grid and
inner split as ``bench_ranking.py`` does (its session-ease row); the same for both rows of a seed.
``side_info_weight`` is picked per seed on the inner per-user 80/20 holdout of the training part
(0, i.e. off, is a candidate), never on the test part; the inner ``reg`` is the picked one divided
by the training-size ratio, as ``bench_ranking.py`` does. Both rows of a seed are fitted on the
same part in this one run.

Run: ``.venv/bin/python benchmarks/bench_side_info.py [--seeds N] [--per-seed-picks]``; writes
``benchmarks/results/side_info[-per-seed-picks].{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

from bench_ranking import RESULTS, grids, measure, pick
from matinee.atomic import write_text_atomic
from matinee.data.filters import RatingThreshold
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.splits import per_user_holdout
from matinee.models.neighbours.ease import EASE, EASEConfig
from matinee.models.side_info import MovieFeatures
from matinee.settings import Settings

SESSION_EASE = {
    "ml-100k": {"reg": 187.5, "dropout": 0.5, "session_window": 2, "session_weight": 0.3},
    "ml-latest-small": {"reg": 375.0, "dropout": 0.0, "session_window": 2, "session_weight": 0.6},
}
"""bench_ranking.py's inner-validation picks for session-ease (seed 0), at full training size."""
WEIGHTS = (0.0, 3.0, 10.0, 30.0, 100.0)
TARGETS = {"ml-100k": ("precision", 0.44), "ml-latest-small": ("ndcg", 0.285)}


def protocol(name: str, settings: Settings) -> tuple[Ratings, float, MovieFeatures]:
    dataset = load_dataset(name, settings=settings)
    features = MovieFeatures.from_movies(dataset.movies)
    if name == "ml-100k":
        return dataset.ratings, 0.25, features
    return RatingThreshold(4.0).apply(dataset.ratings).ratings.compact(), 0.2, features


def fitted(train: Ratings, settings: dict[str, Any], features: MovieFeatures) -> EASE:
    return EASE(EASEConfig(**settings)).use_movie_features(features).fit(train)


def picked_session_ease(name: str, train: Ratings, seed: int) -> dict[str, Any]:
    """Session-ease's settings picked as ``bench_ranking.py`` picks them, on this seed's grid."""
    grid = grids(quick=False, big_catalogue=name != "ml-100k")["matinee session-ease"]

    def build(data: Ratings, point: Any) -> Any:
        fields = dict(
            zip(("reg", "dropout", "session_window", "session_weight"), point, strict=True)
        )
        return EASE(EASEConfig(**fields)).fit(data).score_users

    point, _ = pick("session-ease", grid, build, train, seed)
    share = len(train) / len(per_user_holdout(train, fraction=0.2, seed=1000 + seed).train)
    reg, dropout, window, weight = point
    return {
        "reg": round(reg * share, 1),
        "dropout": dropout,
        "session_window": window,
        "session_weight": weight,
    }


def run_seed(
    name: str,
    ratings: Ratings,
    fraction: float,
    features: MovieFeatures,
    seed: int,
    per_seed_picks: bool,
) -> Any:
    split = per_user_holdout(ratings, fraction=fraction, seed=seed)
    inner = per_user_holdout(split.train, fraction=0.2, seed=1000 + seed)
    base = picked_session_ease(name, split.train, seed) if per_seed_picks else SESSION_EASE[name]
    inner_base = {**base, "reg": base["reg"] * len(inner.train) / len(split.train)}
    validation = {}
    for weight in WEIGHTS:
        model = fitted(inner.train, {**inner_base, "side_info_weight": weight}, features)
        validation[weight] = measure(model.score_users, inner.train, inner.test)["ndcg"]
        print(f"  seed {seed} side_info_weight={weight}: validation NDCG@10 "
              f"{validation[weight]:.4f}", flush=True)  # fmt: skip
    picked = max(WEIGHTS, key=lambda weight: (validation[weight], -weight))
    rows = {}
    for label, weight in (("session-ease", 0.0), ("session-ease + side info", picked)):
        started = time.perf_counter()
        model = fitted(split.train, {**base, "side_info_weight": weight}, features)
        seconds = time.perf_counter() - started
        rows[label] = {
            **measure(model.score_users, split.train, split.test),
            "side_info_weight": weight,
            "validation_ndcg": validation[weight],
            "fit_s": round(seconds, 2),
            "session_ease": base,
        }
        print(f"  seed {seed} {label}: {rows[label]}", flush=True)
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The side-by-side table of each protocol, with its target."""
    header = (
        "# Session-aware EASE with movie side information (issue 14's ranking targets)\n\n"
        f"Command: `{results['command']}`; load average {results['load']} at start.  \n"
        f"Session-ease settings: {results.get('session_ease_settings', 'seed 0s picks')} "
        "(bench_ranking.py's inner validation), the same for both rows of a seed; "
        "`side_info_weight` (genre + 5-year release-span rows, `beta F^T F` in the "
        f"Gram matrix) picked per seed on the inner 80/20 holdout from {list(WEIGHTS)}.\n"
    )
    lines = [header]
    for name, block in results["protocols"].items():
        metric, target = TARGETS[name]
        side, plain = (
            block["mean"][label][metric] for label in ("session-ease + side info", "session-ease")
        )
        lines += [
            f"## {name}: {block['protocol']}; seeds {block['seeds']}",
            "",
            f"Target {metric}@10 >= {target}: mean {side:.4f} with side info, {plain:.4f} without.",
            "",
            "| model | P@10 | R@10 | NDCG@10 | NDCG@10 per seed | MAP@10 | weight per seed "
            "| validation NDCG@10 per seed |",
            "|---|---:|---:|---:|---|---:|---|---|",
        ]
        for label, mean in block["mean"].items():
            per_seed = [run[label] for run in block["runs"]]
            cells = [
                label,
                f"{mean['precision']:.4f}",
                f"{mean['recall']:.4f}",
                f"{mean['ndcg']:.4f}",
                " / ".join(f"{row['ndcg']:.4f}" for row in per_seed),
                f"{mean['map']:.4f}",
                " / ".join(str(row["side_info_weight"]) for row in per_seed),
                " / ".join(f"{row['validation_ndcg']:.4f}" for row in per_seed),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--per-seed-picks",
        action="store_true",
        help="pick session-ease's settings per seed on bench_ranking.py's grid (its protocol)",
    )
    args = parser.parse_args()
    settings = Settings.from_env(show_progress=False)
    results: dict[str, Any] = {
        "command": " ".join(["benchmarks/bench_side_info.py", *sys.argv[1:]]),
        "load": round(os.getloadavg()[0], 1),
        "protocols": {},
    }
    described = {
        "ml-100k": "stratified 75/25 per user, every test rating relevant",
        "ml-latest-small": "ratings >= 4 as positives, per-user 80/20",
    }
    for name, text in described.items():
        ratings, fraction, features = protocol(name, settings)
        print(f"{name}: {len(features.names)} movie features", flush=True)
        runs = [
            run_seed(name, ratings, fraction, features, seed, args.per_seed_picks)
            for seed in range(args.seeds)
        ]
        mean = {
            label: {
                key: round(float(np.mean([run[label][key] for run in runs])), 4)
                for key in ("precision", "recall", "ndcg", "map", "hit_rate")
            }
            for label in runs[0]
        }
        results["protocols"][name] = {
            "protocol": text,
            "seeds": list(range(args.seeds)),
            "runs": runs,
            "mean": mean,
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "side_info-per-seed-picks" if args.per_seed_picks else "side_info"
    results["session_ease_settings"] = (
        "picked per seed on bench_ranking.py's grid" if args.per_seed_picks else "seed 0's picks"
    )
    write_text_atomic(RESULTS / f"{stem}.json", json.dumps(results, indent=2) + "\n")
    write_text_atomic(RESULTS / f"{stem}.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
