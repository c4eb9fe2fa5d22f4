"""What a search found (:class:`TrialRecord`, :class:`TuneResult`) and the files it writes.

``matinee tune`` writes the trials table (CSV and JSON) and the best config file.
``best.json`` is a config file (:data:`CONFIG_FILE_KEYS`): the model's registry name and every
field of its best config, plus the search's figures for the record. ``matinee train --config``
and ``matinee compare --config`` read it through
:func:`matinee.models.config_text.config_from_file`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matinee.atomic import write_text_atomic
from matinee.models.config import Config
from matinee.models.search import Dimension

__all__ = [
    "BEST_NAME",
    "TRIALS_CSV",
    "TRIALS_JSON",
    "TrialRecord",
    "TuneResult",
    "best_config_document",
    "write_tune_files",
]

BEST_NAME = "best.json"
TRIALS_CSV = "trials.csv"
TRIALS_JSON = "trials.json"


@dataclass(frozen=True)
class TrialRecord:
    """One trial: the values tried, how it ended and what it scored on the inner splits."""

    number: int
    params: Mapping[str, Any]
    state: str
    """``complete``, ``pruned`` or ``failed``."""
    value: float | None
    seconds: float
    epochs: int | None
    """The epoch count that scored (best validation epoch), for models trained by epochs."""

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready row of the trials table."""
        row: dict[str, Any] = {"trial": self.number, "state": self.state, "value": self.value}
        row.update({f"param_{key}": value for key, value in self.params.items()})
        row.update({"epochs_scored": self.epochs, "seconds": self.seconds})
        return row


@dataclass(frozen=True)
class TuneResult:
    """The search and its one outer test score."""

    model: str
    metric: str
    best_config: Config
    best_value: float
    best_trial: int
    trials: tuple[TrialRecord, ...]
    space: Mapping[str, Dimension]
    test_metrics: Mapping[str, float]
    search_seconds: float
    refit_seconds: float
    protocol: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: best config, test score, budget and protocol."""
        return {
            "model": self.model,
            "metric": self.metric,
            "best_value": self.best_value,
            "best_trial": self.best_trial,
            "best_config": self.best_config.to_dict(),
            "test_metrics": dict(self.test_metrics),
            "space": {key: dim.describe() for key, dim in self.space.items()},
            "trials": len(self.trials),
            "states": {s: sum(t.state == s for t in self.trials) for s in _STATES},
            "search_seconds": self.search_seconds,
            "refit_seconds": self.refit_seconds,
            "protocol": self.protocol,
        }


_STATES = ("complete", "pruned", "failed")


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
