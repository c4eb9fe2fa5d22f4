"""Calibrated lists (issue 17): NDCG@10 of every model at several calibration settings.

The protocols of ``bench_new_users.py`` (new users on ml-latest-small and ml-100k, seeds 0-2;
known users ml-100k u1-u5; relevance >= 4, full ranking, top-10). Each model is fitted once
per split and its lists are judged at every setting of the grid (strength ``lambda``, the
relevance normalisation, the taste weighting), so the settings are compared on the same fits.
Strength 0 is the model's own list.

Run ``.venv/bin/python benchmarks/bench_calibration.py [--models a,b] [--protocols TEXT]
[--update]``; writes ``benchmarks/results/new_users-calibrated.{json,md}`` after each model.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_new_users import PROTOCOLS
from matinee.atomic import write_text_atomic
from matinee.calibration import Calibration, ListCalibration
from matinee.data.loader import load_dataset
from matinee.data.split_spec import split_from_spec
from matinee.evaluation.evaluate import evaluate
from matinee.models.registry import model_class

RESULTS = Path(__file__).resolve().parent / "results"
STEM = "new_users-calibrated"
DEFAULT_MODELS = "popular,baseline,mf,biased-mf,svdpp,nmf,nmf-matrix,ials,item-knn,rp3beta,ease"
STRENGTHS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
VARIANTS: dict[str, Calibration] = {
    **{f"{value:g}": Calibration(value) for value in STRENGTHS},
    **{f"{value:g} rank": Calibration(value, relevance="rank") for value in (0.3, 0.5)},
    **{f"{value:g} liked": Calibration(value, taste="liked") for value in (0.3, 0.5)},
    **{f"{value:g} pool 100": Calibration(value, pool=100) for value in (0.3, 0.5)},
}
"""Grid: strength alone (min-max relevance, taste from every rated film, pool 200), then the
rank-based relevance, the liked-only taste and a 100-film pool at two strengths."""


def run_model(dataset: str, spec: str, name: str) -> dict[str, Any]:
    """NDCG@10 (mean, std, folds) of one model at every setting, one fit per split."""
    data = load_dataset(dataset)
    folds: dict[str, list[float]] = {label: [] for label in VARIANTS}
    started = time.perf_counter()
    for split in split_from_spec(data, spec):
        model = model_class(name)().fit(split.train, split.validation)
        for label, setting in VARIANTS.items():
            result = evaluate(
                model,
                split,
                metrics=["ndcg"],
                movies=data.movies,
                calibration=ListCalibration(setting, setting),
            )
            folds[label].append(result.metrics["ndcg@10"])
    row: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1)}
    for label, values in folds.items():
        row[label] = {
            "mean": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "folds": values,
        }
    return row


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """One table per protocol: NDCG@10 of each model at each setting."""
    lines = []
    for protocol, table in results.items():
        labels = list(VARIANTS)
        lines += [
            f"### {protocol}: NDCG@10 by calibration setting",
            "",
            "| model | " + " | ".join(labels) + " |",
            "|---|" + "---:|" * len(labels),
        ]
        for name, row in table.items():
            cells = [f"{row[label]['mean']:.4f}" if label in row else "-" for label in labels]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Measure every (protocol, model) and write the JSON and Markdown after each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--protocols", default="", help="only protocols naming this text")
    parser.add_argument("--update", action="store_true", help="keep the other models' rows")
    args = parser.parse_args()
    path = RESULTS / f"{STEM}.json"
    results: dict[str, dict[str, Any]] = (
        json.loads(path.read_text()) if args.update and path.exists() else {}
    )
    for protocol, (dataset, spec) in PROTOCOLS.items():
        if args.protocols not in protocol:
            continue
        for name in [part.strip() for part in args.models.split(",") if part.strip()]:
            row = run_model(dataset, spec, name)
            results.setdefault(protocol, {})[name] = row
            print(f"{protocol} {name}: {row['seconds']} s", file=sys.stderr, flush=True)
            write_text_atomic(path, json.dumps(results, indent=2) + "\n")
            write_text_atomic(RESULTS / f"{STEM}.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
