"""Write the saved-model fixtures of the 0.1 format to ``tests/fixtures/saved-0.1/``.

The fixtures prove that models saved before the one-vocabulary rename of config fields still
load. So this script must run on the source of that format, commit 788d3cc::

    git archive 788d3cc src | tar -x -C /tmp/matinee-0.1
    PYTHONPATH=/tmp/matinee-0.1/src python scripts/make_format_fixtures.py

It refuses to write when the source already uses the new names. Each saved model records, in
its manifest's ``extra``, the (user, movie) pairs it was asked about and what it predicted or
scored, so that a test can check the loaded model answers the same.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from matinee.data.synthetic import generate_ratings
from matinee.models.registry import model_class
from matinee.store.files import save_model

TARGET = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "saved-0.1"

MODELS: dict[str, dict[str, Any]] = {
    "biased-mf": {"n_factors": 4, "epochs": 5},
    "ials": {"factors": 4, "epochs": 3, "regularization": 0.1, "init_scale": 0.02},
}
"""Model name -> config fields in the 0.1 vocabulary (ials' were renamed afterwards)."""


def main() -> int:
    """Fit each model on a tiny synthetic data set and save it with its expected answers."""
    ratings = generate_ratings(300, n_users=15, n_movies=25, seed=11)
    users = np.arange(ratings.n_users, dtype=np.int32).repeat(2)
    movies = (np.arange(users.size, dtype=np.int32) * 7) % ratings.n_movies
    for name, fields in MODELS.items():
        cls = model_class(name)
        config = cls.config_type.from_dict(fields)
        if set(fields) - set(config.to_dict()):
            print(f"{name}: this source already uses the new field names; see the docstring")
            return 1
        model = cls(config).fit(ratings)
        expected = {
            "users": model.users_.raw_ids[users].tolist(),
            "movies": model.movies_.raw_ids[movies].tolist(),
            "predicted": model.predict(users, movies).tolist(),
            "scores_user_0": model.score_users([0])[0].tolist(),
        }
        save_model(model, TARGET / name, extra={"expected": expected})
        print(f"wrote {TARGET / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
