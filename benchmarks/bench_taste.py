"""Adaptive calibration (issue 17): NDCG@10 on held-out users and one-taste lists, side by side.

Each model is fitted once per split and judged at every setting: fixed strengths and the
adaptive ``"auto"`` (:class:`matinee.calibration.AutoStrength`) at several onsets and spans.
Per setting: NDCG@10 of held-out users (relevance >= 4, full ranking, top-10) and, on ml-100k,
the share of the kind in the lists of the one-taste people of :mod:`matinee.testing.tastes`.

Two stages, never mixed:

* ``--stage validation``: seeds 10-11 (never reported elsewhere) and the six
  :data:`~matinee.testing.tastes.VALIDATION_TASTES`; the adaptive setting is chosen here.
* ``--stage test``: the reported seeds 0-2 of ``bench_new_users.py`` with the tested
  :data:`~matinee.testing.tastes.TASTES`, at strength 0 (today) and the chosen setting.

Run ``.venv/bin/python benchmarks/bench_taste.py --stage validation [--models a,b]``; writes
``benchmarks/results/taste-{stage}[-TAG].{json,md}`` after each model (``--tag``: runs of
several datasets side by side). The committed test results came from ``--stage test
--datasets ml-100k --tag ml-100k`` and ``--stage test --datasets ml-latest-small --tag
ml-latest-small``, run at the same time on a busy two-core machine (load 10-24).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from matinee.atomic import write_text_atomic
from matinee.calibration import (
    AUTO,
    AutoStrength,
    Calibration,
    ListCalibration,
    calibrate_row,
    genre_weights,
)
from matinee.data.dataset import Dataset
from matinee.data.loader import load_dataset
from matinee.data.split_spec import split_from_spec
from matinee.evaluation.evaluate import evaluate
from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.recommend.topk import fitted_movies
from matinee.testing.tastes import TASTES, VALIDATION_TASTES, kind_of, one_taste_person

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MODELS = "popular,baseline,mf,biased-mf,svdpp,nmf,nmf-matrix,ials,item-knn,rp3beta,ease"
SPLITS = {
    "validation": "hidden-ratings:users=0.2,hidden=0.5,seed=10,seeds=2",
    "test": "hidden-ratings:users=0.2,hidden=0.5,seeds=3",
}
DATASETS = ("ml-latest-small", "ml-100k")
TASTES_OF = {"validation": VALIDATION_TASTES, "test": TASTES}


def _auto(onset: float, span: float, most: float = 0.9) -> Calibration:
    return Calibration(AUTO, auto=AutoStrength(onset=onset, span=span, most=most))


GRID: dict[str, Calibration] = {
    "0": Calibration(0.0),
    "0.1": Calibration(0.1),
    "0.9": Calibration(0.9),
    "auto 0/1": _auto(0.0, 1.0),
    "auto 0/2": _auto(0.0, 2.0),
    "auto 0.3/0.5": _auto(0.3, 0.5),
    "auto 0.5/0.5": _auto(0.5, 0.5),
    "auto 0.7/0.5": _auto(0.7, 0.5),
    "auto 0.5/1": _auto(0.5, 1.0),
    "auto 0.5/0.5/0.7": _auto(0.5, 0.5, 0.7),
}
"""Validation grid: fixed strengths, then ``auto onset/span[/most]`` (most 0.9 unless said)."""

CHOSEN = "auto 0.5/0.5"
"""The setting made the default, from the validation results: the highest mean share of the
kind among those whose validation NDCG@10 is within 0.005 of strength 0 for every model."""

RUNNER_UP = "auto 0.7/0.5"
"""The other setting within that bound, also taken to the test stage to show the trade."""


def _settings(stage: str) -> dict[str, Calibration]:
    if stage == "validation":
        return GRID
    return {label: GRID[label] for label in ("0", CHOSEN, RUNNER_UP)}


def _shares(
    model: Recommender[Any], data: Dataset, stage: str, setting: Calibration
) -> dict[str, float]:
    """Share of the kind in each one-taste person's list under ``setting``.

    The list is made as ``recommend_new_user`` makes it (the model's fold-in scores, rated
    films masked, :func:`~matinee.calibration.calibrate_row`), with the grid's own setting.
    """
    genres = genre_weights(data.movies, fitted_movies(model))
    assert genres is not None
    shares = {}
    for taste, family in TASTES_OF[stage].items():
        rated = one_taste_person(data, family)
        movies = fitted_movies(model).indices(list(rated))
        values = np.asarray(list(rated.values()), dtype=np.float32)
        masked = np.asarray(model.rank_new_user(movies, values), dtype=np.float64).copy()
        masked[movies] = -np.inf
        chosen = calibrate_row(masked, movies, values, genres, 10, setting)
        listed = set(fitted_movies(model).raw(chosen).tolist())
        shares[taste] = len(listed & kind_of(data.movies, family)) / 10
    return shares


def run_model(dataset: str, stage: str, name: str) -> dict[str, Any]:
    """NDCG@10 per setting over the stage's splits and, on ml-100k, the taste shares."""
    data = load_dataset(dataset)
    settings = _settings(stage)
    folds: dict[str, list[float]] = {label: [] for label in settings}
    shares: dict[str, list[dict[str, float]]] = {label: [] for label in settings}
    started = time.perf_counter()
    for split in split_from_spec(data, SPLITS[stage]):
        model = model_class(name)().fit(split.train, split.validation)
        for label, setting in settings.items():
            lists = ListCalibration(setting, setting)
            result = evaluate(model, split, metrics=["ndcg"], movies=data.movies, calibration=lists)
            folds[label].append(result.metrics["ndcg@10"])
            if dataset == "ml-100k":
                shares[label].append(_shares(model, data, stage, setting))
    row: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1)}
    for label, values in folds.items():
        row[label] = {"ndcg@10": float(np.mean(values)), "folds": values}
        if shares[label]:
            row[label]["shares"] = {
                taste: float(np.mean([fold[taste] for fold in shares[label]]))
                for taste in shares[label][0]
            }
    return row


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """NDCG@10 per model and setting, then (ml-100k) the mean taste share per setting."""
    lines = []
    for dataset, table in results.items():
        labels = [label for label in next(iter(table.values())) if label != "seconds"]
        header = "| model | " + " | ".join(labels) + " |"
        lines += [f"### {dataset}: NDCG@10", "", header, "|---|" + "---:|" * len(labels)]
        for name, row in table.items():
            cells = [f"{row[label]['ndcg@10']:.4f}" for label in labels]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
        with_shares = [label for label in labels if "shares" in next(iter(table.values()))[label]]
        if with_shares:
            lines += [f"### {dataset}: mean share of the kind, one-taste people", ""]
            lines += ["| model | " + " | ".join(with_shares) + " |"]
            lines += ["|---|" + "---:|" * len(with_shares)]
            for name, row in table.items():
                cells = [_share_cell(row[label]["shares"]) for label in with_shares]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def _share_cell(shares: dict[str, float]) -> str:
    """Mean share, and how many tastes got a majority (> 0.5) of their kind."""
    majority = sum(value > 0.5 for value in shares.values())
    return f"{np.mean(list(shares.values())):.2f} ({majority}/{len(shares)})"


def main() -> None:
    """Measure every (dataset, model) of a stage; write JSON and Markdown after each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stage", choices=list(SPLITS), required=True)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--update", action="store_true", help="keep the other rows")
    parser.add_argument("--tag", default="", help="write taste-STAGE-TAG.{json,md}")
    args = parser.parse_args()
    path = RESULTS / f"taste-{args.stage}{'-' + args.tag if args.tag else ''}.json"
    results = _kept(path) if args.update else {}
    for dataset in [part for part in args.datasets.split(",") if part]:
        for name in [part.strip() for part in args.models.split(",") if part.strip()]:
            results.setdefault(dataset, {})[name] = run_model(dataset, args.stage, name)
            _write(results, path)
    print(markdown(results))


def _kept(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of an earlier run at ``path`` (none when there is no file)."""
    kept: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}
    return kept


def _write(results: dict[str, dict[str, Any]], path: Path) -> None:
    """The JSON and its Markdown table, both replaced atomically."""
    write_text_atomic(path, json.dumps(results, indent=2) + "\n")
    write_text_atomic(path.with_suffix(".md"), markdown(results))
    print(f"{path.stem}: {sum(len(table) for table in results.values())} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
