"""What ``matinee tune`` writes: the trials table (CSV and JSON) and the best config file.

``best.json`` is a config file (:data:`CONFIG_FILE_KEYS`): the model's registry name and every
field of its best config, plus the search's figures for the record. ``matinee train --config``
and ``matinee compare --config`` read it through :func:`matinee.config_text.config_from_file`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from matinee.atomic import write_text_atomic
from matinee.evaluation.tuning import TuneResult

__all__ = ["BEST_NAME", "TRIALS_CSV", "TRIALS_JSON", "best_config_document", "write_tune_files"]

BEST_NAME = "best.json"
TRIALS_CSV = "trials.csv"
TRIALS_JSON = "trials.json"


def best_config_document(result: TuneResult) -> dict[str, Any]:
    """The content of ``best.json``: ``model`` and ``config`` (read back), ``tuning`` (a record)."""
    summary = result.to_dict()
    return {
        "model": result.model,
        "config": result.best_config.to_dict(),
        "tuning": {key: summary[key] for key in summary if key not in ("model", "best_config")},
    }


def _trials_csv(result: TuneResult) -> str:
    rows = [trial.to_dict() for trial in result.trials]
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_tune_files(result: TuneResult, out: Path) -> dict[str, Path]:
    """Write ``trials.csv``, ``trials.json`` and ``best.json`` under ``out``; return their paths."""
    out = Path(out)
    trials = {"metric": result.metric, "trials": [trial.to_dict() for trial in result.trials]}
    texts = {
        TRIALS_CSV: _trials_csv(result),
        TRIALS_JSON: json.dumps(trials, indent=2) + "\n",
        BEST_NAME: json.dumps(best_config_document(result), indent=2) + "\n",
    }
    return {name: write_text_atomic(out / name, text) for name, text in texts.items()}
