"""The accuracy lead (issue 14): the strongest rating models against the targets, with defaults.

Run ``MATINEE_DATA_MIRROR=/work/shared/data .venv/bin/python benchmarks/bench_accuracy.py
[--quick] [--rule]``:

1. ml-100k, the canonical folds ``u1``..``u5``: ``baseline``, ``biased-mf``, ``svdpp`` and
   ``bayes-mf``, mean RMSE against the target 0.895 (which the blend of the ``tune`` work is
   meant to reach; single models are reported as they are).
2. ml-latest-small, random 90/10 over seeds 0-4: the same models against the target 0.830.
3. ``--rule``: every registered rating model with its defaults on ml-100k ``u1`` and on
   ml-latest-small random 90/10 seed 0, against the bias baseline's RMSE (issue 14 item 4).

Every model runs with its defaults; nothing is tuned on the test ratings. ``--quick`` runs fold
``u1`` and seed 0 only. Results go to ``benchmarks/results/accuracy[-quick].json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from matinee.data.canonical import canonical_folds
from matinee.data.loader import load_dataset
from matinee.data.split import Split
from matinee.data.splits import random_split
from matinee.models.registry import available_models, model_class

MODELS = ("baseline", "biased-mf", "svdpp", "bayes-mf")
"""The models of the accuracy table."""

TARGETS = {"ml-100k": 0.895, "ml-latest-small": 0.830}
"""Issue 14's RMSE targets (for the best model or blend)."""

RESULTS = Path(__file__).resolve().parent / "results"


def run_model(name: str, split: Split) -> dict[str, float]:
    """Fit ``name`` with its defaults on the split's training part; its test RMSE and fit time."""
    model = model_class(name)()
    started = time.perf_counter()
    model.fit(split.train)
    seconds = time.perf_counter() - started
    predicted = model.predict(split.test.user_idx, split.test.movie_idx).astype(np.float64)
    rmse = float(np.sqrt(np.mean((predicted - split.test.rating) ** 2)))
    return {"rmse": rmse, "fit_s": seconds}


def section(name: str, splits: list[Split], models: tuple[str, ...]) -> dict[str, Any]:
    """Every model on every split: mean and per-split RMSE, mean fit seconds."""
    rows: dict[str, Any] = {}
    for model in models:
        runs = [run_model(model, split) for split in splits]
        rmses = [run["rmse"] for run in runs]
        rows[model] = {
            "rmse_mean": statistics.fmean(rmses),
            "rmse_per_split": rmses,
            "fit_s_mean": statistics.fmean(run["fit_s"] for run in runs),
        }
        print(f"{name} {model}: {rows[model]['rmse_mean']:.4f}", flush=True)
    return {"splits": [split.name for split in splits], "models": rows}


def rating_models() -> tuple[str, ...]:
    """Every registered model that predicts ratings."""
    return tuple(name for name in available_models() if model_class(name).predicts_ratings)


def rule_section(splits: dict[str, Split]) -> dict[str, Any]:
    """Each rating model's default RMSE against the bias baseline's, per data set."""
    rows: dict[str, Any] = {}
    for data, split in splits.items():
        floor = run_model("baseline", split)["rmse"]
        for model in rating_models():
            rmse = floor if model == "baseline" else run_model(model, split)["rmse"]
            rows.setdefault(model, {})[data] = {"rmse": rmse, "beats_baseline": rmse < floor}
            print(f"rule {data} {model}: {rmse:.4f} (baseline {floor:.4f})", flush=True)
    return rows


def markdown(report: dict[str, Any]) -> str:
    """The report as markdown tables."""
    lines = [
        "# Accuracy: the strongest rating models against issue 14's targets",
        "",
        f"Machine: {report['machine']}; command: `{report['command']}`",
    ]
    for data in ("ml-100k", "ml-latest-small"):
        part = report[data]
        lines += [
            "",
            f"## {data}: {', '.join(part['splits'])} (target {TARGETS[data]})",
            "",
            "| model | RMSE (mean) | RMSE per split | fit s (mean) |",
            "|---|---|---|---|",
        ]
        for model, row in part["models"].items():
            per = " ".join(f"{value:.4f}" for value in row["rmse_per_split"])
            lines.append(f"| {model} | {row['rmse_mean']:.4f} | {per} | {row['fit_s_mean']:.1f} |")
    if "rule" in report:
        lines += [
            "",
            "## Defaults against the bias baseline (ml-100k u1; ml-latest-small 90/10 seed 0)",
            "",
            "| model | ml-100k u1 | ml-latest-small | beats baseline on both |",
            "|---|---|---|---|",
        ]
        for model, row in report["rule"].items():
            both = all(cell["beats_baseline"] for cell in row.values()) or model == "baseline"
            cells = " | ".join(f"{cell['rmse']:.4f}" for cell in row.values())
            lines.append(f"| {model} | {cells} | {'yes' if both else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the sections and write JSON and markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fold u1 and seed 0 only")
    parser.add_argument("--rule", action="store_true", help="every rating model's defaults")
    args = parser.parse_args()
    folds = ["u1"] if args.quick else ["u1", "u2", "u3", "u4", "u5"]
    seeds = [0] if args.quick else [0, 1, 2, 3, 4]
    ml100k = canonical_folds(load_dataset("ml-100k"), folds)
    small = load_dataset("ml-latest-small").ratings
    small_splits = [random_split(small, test_fraction=0.1, seed=seed) for seed in seeds]
    load = os.getloadavg()[0]
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (load average {load:.1f})",
        "command": "benchmarks/bench_accuracy.py"
        + (" --quick" if args.quick else "")
        + (" --rule" if args.rule else ""),
        "ml-100k": section("ml-100k", ml100k, MODELS),
        "ml-latest-small": section("ml-latest-small", small_splits, MODELS),
    }
    if args.rule:
        report["rule"] = rule_section({"ml-100k u1": ml100k[0], "ml-latest-small": small_splits[0]})
    stem = "accuracy-quick" if args.quick else "accuracy"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(report))


if __name__ == "__main__":
    main()
