"""New-user benchmark (issue 17): do the rating models' lists follow taste?

Protocols (full ranking over every unrated movie, top-10, relevance = rating >= 4):

* New users (strong generalization, Liang et al. 2018): ``hidden-ratings:users=0.2,hidden=0.5``
  on ml-latest-small and ml-100k, seeds 0-2. A fifth of the users are held out of training;
  half of each one's ratings are folded in (``rank_new_user``), the other half ranked. RMSE is
  that of ``predict``-style ratings of the hidden half (``score_new_user`` clipped).
* Known users: ml-100k u1-u5 (``rank_users``).

Every model is compared with ``popular``, the floor. Run
``.venv/bin/python benchmarks/bench_new_users.py [--models a,b] [--tag NAME]``; writes
``benchmarks/results/new_users[-TAG].{json,md}``. With ``--update`` only the listed models are
measured again; the other rows are kept from the existing JSON (one table for every model);
the files are written after each protocol. With ``PYTHONPATH`` pointing at an older source
tree (one without ``rank_users``) the same script measures that code's lists.
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
from matinee.data.loader import load_dataset
from matinee.data.split_spec import split_from_spec
from matinee.evaluation.evaluate import fit_and_evaluate
from matinee.models.registry import model_class

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_MODELS = "popular,baseline,mf,biased-mf,svdpp,nmf"
PROTOCOLS = {
    "new users, ml-latest-small": (
        "ml-latest-small",
        "hidden-ratings:users=0.2,hidden=0.5,seeds=3",
    ),
    "new users, ml-100k": ("ml-100k", "hidden-ratings:users=0.2,hidden=0.5,seeds=3"),
    "known users, ml-100k u1-u5": ("ml-100k", "u1-u5"),
}


def run_protocol(dataset: str, spec: str, models: list[str]) -> dict[str, Any]:
    """Mean and std of NDCG@10 and RMSE per model over the protocol's splits."""
    splits = split_from_spec(load_dataset(dataset), spec)
    table: dict[str, Any] = {}
    for name in models:
        started = time.perf_counter()
        folds = [
            fit_and_evaluate(model_class(name)(), split, metrics=["rmse", "ndcg"]).metrics
            for split in splits
        ]
        row: dict[str, Any] = {"seconds": round(time.perf_counter() - started, 1)}
        for metric in ("ndcg@10", "rmse"):
            values = [fold[metric] for fold in folds if metric in fold]
            if values:
                row[metric] = float(np.mean(values))
                row[f"{metric}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
                row[f"{metric}_folds"] = values
        table[name] = row
        print(f"{dataset} {spec} {name}: {row}", file=sys.stderr, flush=True)
    return table


def markdown(results: dict[str, dict[str, Any]]) -> str:
    """One table per protocol: NDCG@10 and RMSE (mean ± std), and whether it beats popular."""
    lines = []
    for protocol, table in results.items():
        floor = table.get("popular", {}).get("ndcg@10", float("nan"))
        lines += [
            f"### {protocol}",
            "",
            "| model | NDCG@10 | RMSE | beats popular |",
            "|---|---:|---:|:---:|",
        ]
        for name, row in table.items():
            ndcg = f"{row['ndcg@10']:.4f} ± {row['ndcg@10_std']:.4f}"
            rmse = f"{row['rmse']:.4f} ± {row['rmse_std']:.4f}" if "rmse" in row else "-"
            beats = "-" if name == "popular" else ("yes" if row["ndcg@10"] > floor else "no")
            lines.append(f"| {name} | {ndcg} | {rmse} | {beats} |")
        lines.append("")
    return "\n".join(lines)


def _kept_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of an earlier run (none when there is no file)."""
    if not path.exists():
        return {}
    kept: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return kept


def main() -> None:
    """Run every protocol and write the JSON and Markdown results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--tag", default="")
    parser.add_argument("--update", action="store_true", help="keep the other models' rows")
    parser.add_argument("--protocols", default="", help="only protocols naming this text")
    args = parser.parse_args()
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    stem = "new_users" + (f"-{args.tag}" if args.tag else "")
    kept = _kept_rows(RESULTS / f"{stem}.json") if args.update else {}
    results = dict(kept)
    RESULTS.mkdir(exist_ok=True)
    for protocol, (dataset, spec) in PROTOCOLS.items():
        if args.protocols not in protocol:
            continue
        results[protocol] = kept.get(protocol, {}) | run_protocol(dataset, spec, models)
        write_text_atomic(RESULTS / f"{stem}.json", json.dumps(results, indent=2) + "\n")
        write_text_atomic(RESULTS / f"{stem}.md", markdown(results))
    print(markdown(results))


if __name__ == "__main__":
    main()
