"""CPU seconds of a saved model's evaluation steps at scale: load, split, evaluate.

Run it once with each source tree (``PYTHONPATH=.../src``) on the same saved model to compare
trees side by side on a shared machine, where CPU time (user + system, every thread, from
``getrusage``) says more than wall time. Prints one JSON line with the metrics.

    python benchmarks/scale_stages.py RUNS/bmf --dataset ml-25m --split random:0.1
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path
from typing import Any


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> dict[str, Any]:
    from matinee.data.loader import load_dataset
    from matinee.data.split_spec import split_from_spec
    from matinee.evaluation.evaluate import evaluate
    from matinee.settings import Settings
    from matinee.store.files import load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--dataset", default="ml-25m")
    parser.add_argument("--split", default="random:0.1")
    args = parser.parse_args(argv)
    settings = Settings.from_env(show_progress=False)
    started = time.perf_counter()
    row: dict[str, float] = {}
    mark = cpu_seconds()
    dataset = load_dataset(args.dataset, settings=settings)
    row["load"], mark = cpu_seconds() - mark, cpu_seconds()
    split = split_from_spec(dataset, args.split, settings=settings)[0]
    row["split"], mark = cpu_seconds() - mark, cpu_seconds()
    model = load_model(args.model_dir)
    result = evaluate(model, split, k=10, relevance_threshold=4.0)
    row["evaluate"] = cpu_seconds() - mark
    report = {**row, "wall": time.perf_counter() - started, "metrics": dict(result.metrics)}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
