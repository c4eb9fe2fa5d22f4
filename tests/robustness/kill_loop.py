"""Kill -9 a saving process at random moments and check that a whole model is always there.

Run by ``tests/robustness/test_kill_saves.py`` as a subprocess: it imports Matinee once, then
forks one saver per round (a child saving two models over one folder in turn, forever), kills it
with SIGKILL after a random delay, and loads the folder. It prints one JSON line: the kills, the
loads that failed (with their messages) and how many rounds found each of the two models.

Usage: python kill_loop.py FOLDER KILLS SEED
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np

from matinee.data.ratings import Ratings
from matinee.errors import MatineeError
from matinee.models.base import Recommender
from matinee.models.registry import model_class
from matinee.store.files import listed_files, load_model, save_model


def _models(seed: int) -> list[Recommender[object]]:
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 3000, 40_000)
    movies = rng.integers(1, 1500, 40_000)
    ratings = Ratings.from_raw(users, movies, rng.integers(1, 6, 40_000), rating_scale=(1.0, 5.0))
    return [model_class("baseline")().fit(ratings), model_class("global-mean")().fit(ratings)]


def _saver(folder: Path, models: list[Recommender[object]]) -> None:
    """The child: save the models in turn until killed."""
    turn = 0
    while True:
        save_model(models[turn % 2], folder)
        turn += 1


def main(folder: Path, kills: int, seed: int) -> dict[str, object]:
    """Run ``kills`` rounds; return the summary."""
    models = _models(seed)
    save_model(models[0], folder)
    rng = np.random.default_rng(seed)
    failures: list[str] = []
    found = {"baseline": 0, "global-mean": 0}
    interrupted = 0
    for _ in range(kills):
        pid = os.fork()
        if pid == 0:
            try:
                _saver(folder, models)
            finally:
                os._exit(1)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        debris = {p.name for p in folder.iterdir()} - listed_files(folder) - {"manifest.json"}
        interrupted += bool(debris)
        try:
            found[load_model(folder).name] += 1
        except MatineeError as error:
            failures.append(str(error))
    save_model(models[0], folder)
    leftovers = sorted(p.name for p in folder.parent.iterdir() if p.name != folder.name)
    inside = sorted(p.name for p in folder.iterdir())
    return {"kills": kills, "failures": failures, "found": found, "leftovers": leftovers,
            "inside": inside, "interrupted": interrupted}  # fmt: skip


if __name__ == "__main__":
    summary = main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
    sys.stdout.write(json.dumps(summary) + "\n")
