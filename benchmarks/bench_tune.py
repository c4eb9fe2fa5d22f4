"""``matinee tune biased-mf`` against Surprise's ``GridSearchCV(SVD)``: same budget, same test.

Run ``.venv/bin/python benchmarks/bench_tune.py [--quick] [--blend]``. Both searches see only
the training part of ml-100k ``u1`` and get the same budget: ``configs`` configs scored on 3
inner folds each (Surprise: a grid of that many points with ``cv=3``; Matinee: that many TPE
trials with ``inner_folds=3``, pruning on). Each refits its best config on all of ``u1.base``
and is scored once on ``u1.test``; wall time covers the search and the refit, side by side in
this one run. ``--blend`` adds ``matinee compare --dataset ml-100k --split u1-u5 --models blend``
(the mean RMSE over the five canonical folds). Results go to ``benchmarks/results/tune.json``
(``tune-quick.json`` with ``--quick``) and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import surprise

from bench_rating_models import surprise_rmse, surprise_trainset
from matinee.atomic import write_text_atomic
from matinee.data.canonical import canonical_folds
from matinee.data.loader import load_dataset
from matinee.data.split import Split
from matinee.evaluation.compare import compare
from matinee.evaluation.tuning import TuneSettings, tune
from matinee.models.factorization.mf import BiasedMF
from matinee.models.registry import model_class
from matinee.models.search import FloatRange, IntRange

RESULTS = Path(__file__).resolve().parent / "results"
FOLDS = 3

GRID = {"n_factors": [50, 100], "lr_all": [0.005, 0.01], "reg_all": [0.02, 0.05]}
"""Surprise's grid: 8 configs (the quick run takes the first 4)."""

SPACE = {
    "n_factors": IntRange(50, 100),
    "learning_rate": FloatRange(0.005, 0.01, log=True),
    "reg": FloatRange(0.02, 0.1, log=True),
}
"""Matinee's space over the same family (biased MF) and about the same ranges."""


def grid(configs: int) -> dict[str, list[Any]]:
    """:data:`GRID` cut to ``configs`` points (4: the 50-factor half)."""
    return GRID if configs == 8 else {**GRID, "n_factors": GRID["n_factors"][:1]}


def run_surprise(split: Split, configs: int) -> dict[str, Any]:
    """GridSearchCV(SVD) on u1.base, refit on it, one score on u1.test."""
    started = time.perf_counter()
    frame = split.train.to_polars(raw_ids=True).select("user_id", "movie_id", "rating")
    data = surprise.Dataset.load_from_df(
        frame.to_pandas(), surprise.Reader(rating_scale=split.train.rating_scale)
    )
    search = surprise.model_selection.GridSearchCV(
        surprise.SVD, {**grid(configs), "random_state": [0]}, measures=["rmse"],
        cv=surprise.model_selection.KFold(FOLDS, random_state=0),
    )  # fmt: skip
    search.fit(data)
    best = {key: search.best_params["rmse"][key] for key in GRID}
    algorithm = surprise.SVD(**best, random_state=0)
    algorithm.fit(surprise_trainset(split.train))
    return {
        "best_config": best,
        "inner_rmse": float(search.best_score["rmse"]),
        "test_rmse": surprise_rmse(algorithm, split.test),
        "wall_s": time.perf_counter() - started,
    }


def run_matinee(split: Split, configs: int) -> dict[str, Any]:
    """Run ``matinee tune biased-mf`` with as many trials x inner folds."""
    started = time.perf_counter()
    settings = TuneSettings(trials=configs, inner_folds=FOLDS, seed=0)
    result = tune(BiasedMF, split, settings=settings, space=SPACE)
    states = result.to_dict()["states"]
    return {
        "best_config": {key: getattr(result.best_config, key) for key in (*SPACE, "epochs")},
        "inner_rmse": result.best_value,
        "test_rmse": result.test_metrics["rmse"],
        "wall_s": time.perf_counter() - started,
        "states": states,
    }


def run_blend(dataset: Any) -> dict[str, Any]:
    """Run ``compare --models blend`` on the five canonical folds."""
    started = time.perf_counter()
    table = compare({"blend": model_class("blend")}, canonical_folds(dataset), floor=False)
    result = table.rows[0].result
    return {
        "rmse_mean": result.mean["rmse"],
        "rmse_std": result.std["rmse"],
        "folds": [fold.metrics["rmse"] for fold in result.folds],
        "wall_s": time.perf_counter() - started,
    }


def markdown(report: dict[str, Any]) -> str:
    """The side-by-side table."""
    lines = [
        f"`{report['command']}`; {report['machine']}, load average {report['load_average']:.1f} "
        f"at start (a shared machine). Budget: {report['configs']} configs x {FOLDS} inner "
        "folds on ml-100k u1.base; best refitted and scored once on u1.test.",
        "",
        "| search | best config | inner RMSE | u1.test RMSE | wall s |",
        "|---|---|---:|---:|---:|",
    ]
    for name in ("matinee tune biased-mf", "Surprise GridSearchCV(SVD)"):
        row = report[name]
        config = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in row["best_config"].items()
        )
        lines.append(
            f"| {name} | {config} | {row['inner_rmse']:.4f} | {row['test_rmse']:.4f} | "
            f"{row['wall_s']:.0f} |"
        )
    if "blend" in report:
        blend = report["blend"]
        lines += [
            "",
            "`matinee compare --dataset ml-100k --split u1-u5 --models blend`: RMSE "
            f"{blend['rmse_mean']:.4f} ± {blend['rmse_std']:.4f} "
            f"(folds {', '.join(f'{v:.4f}' for v in blend['folds'])}; {blend['wall_s']:.0f} s)",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run both searches (and the blend with ``--blend``), write JSON and Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 configs instead of 8")
    parser.add_argument("--blend", action="store_true", help="also compare the blend on u1-u5")
    args = parser.parse_args()
    configs = 4 if args.quick else 8
    dataset = load_dataset("ml-100k")
    split = canonical_folds(dataset)[0]
    report: dict[str, Any] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "load_average": os.getloadavg()[0],
        "surprise_version": surprise.__version__,
        "configs": configs,
        "command": "benchmarks/bench_tune.py" + (" --quick" if args.quick else "")
        + (" --blend" if args.blend else ""),
    }  # fmt: skip
    report["matinee tune biased-mf"] = run_matinee(split, configs)
    report["Surprise GridSearchCV(SVD)"] = run_surprise(split, configs)
    if args.blend:
        report["blend"] = run_blend(dataset)
    stem = "tune-quick" if args.quick else "tune"
    write_text_atomic(RESULTS / f"{stem}.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(RESULTS / f"{stem}.md", markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
