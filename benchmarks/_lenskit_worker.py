"""LensKit's side of the ranking benchmark, run in a subprocess under LensKit's own pandas.

``python benchmarks/_lenskit_worker.py DATA.npz`` (with ``PYTHONPATH=.venv/lenskit-site``): tunes
LensKit's EASE on the inner split, fits it and ImplicitMF on the training split, and saves every
user's scores beside the data file as ``scores.npz``. ``bench_ranking.py`` starts it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from matinee.evaluation.ranking_metrics import accuracy_metrics, relevance_matrix, top_k

K = 10


def lenskit_worker(path: Path) -> None:
    """Runs under LensKit's own pandas: fit, score every user, save the score matrices."""
    import pandas as pd
    from lenskit.als import ImplicitMFConfig, ImplicitMFScorer
    from lenskit.data import ItemList, RecQuery, from_interactions_df
    from lenskit.knn.ease import EASEConfig as LKEASEConfig
    from lenskit.knn.ease import EASEScorer

    data = np.load(path)
    n_movies = int(data["n_movies"])

    def fit_score(make: Callable[[], Any], part: str) -> np.ndarray:
        users, movies = data[f"{part}_user_idx"], data[f"{part}_movie_idx"]
        scorer = make()
        scorer.train(from_interactions_df(pd.DataFrame({"user_id": users, "item_id": movies})))
        history = sp.csr_matrix(
            (np.ones(users.size), (users, movies)), shape=(int(users.max()) + 1, n_movies)
        )
        everything = ItemList(item_ids=np.arange(n_movies))
        out = np.full((history.shape[0], n_movies), -np.inf, dtype=np.float32)
        for user in np.unique(users):
            seen = ItemList(item_ids=history[user].indices)
            scored = scorer(RecQuery(user_id=int(user), user_items=seen), everything)
            values = np.nan_to_num(scored.scores(), nan=-np.inf)
            out[user, scored.ids()] = values
        return out

    def quality(scores: np.ndarray) -> float:
        seen = sp.csr_matrix(
            (
                np.ones(data["inner_user_idx"].size),
                (data["inner_user_idx"], data["inner_movie_idx"]),
            ),
            shape=(scores.shape[0], n_movies),
        )
        users = np.unique(data["val_user_idx"])
        users = users[users < scores.shape[0]]
        row = np.full(scores.shape[0], -1)
        row[users] = np.arange(users.size)
        keep = np.isin(data["val_user_idx"], users)
        relevant = relevance_matrix(
            row[data["val_user_idx"][keep]], data["val_movie_idx"][keep], users.size, n_movies
        )
        return accuracy_metrics(top_k(scores[users], K, seen[users]), relevant)["ndcg"]

    results: dict[str, Any] = {}
    share = float(data["inner_share"])
    best = max(
        (quality(fit_score(lambda r=r: EASEScorer(LKEASEConfig(regularization=r)), "inner")), r)
        for r in data["grid"]
    )
    for name, make, params in (
        (
            "lenskit_ease",
            lambda: EASEScorer(LKEASEConfig(regularization=best[1] * share)),
            f"regularization={best[1] * share:.1f}",
        ),
        (
            "lenskit_implicit-mf",
            lambda: ImplicitMFScorer(ImplicitMFConfig(embedding_size=64, epochs=15)),
            "embedding_size=64, epochs=15, defaults",
        ),
    ):
        started = time.perf_counter()
        results[name] = fit_score(make, "train")
        results[name + "_seconds"] = np.asarray(time.perf_counter() - started)
        results[name + "_params"] = np.asarray(params)
    np.savez(path.parent / "scores.npz", **results)


if __name__ == "__main__":
    lenskit_worker(Path(sys.argv[1]))
