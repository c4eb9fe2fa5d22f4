"""The blocked evaluator (BLAS blocks, compiled top-k) equals a plain per-user evaluator exactly.

The reference ranks one user at a time with a full stable sort and computes each metric from its
textbook definition in Python, so it shares no code with the blocked path but the model's own
scores.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from matinee.data.split import Split
from matinee.data.splits import random_split
from matinee.data.synthetic import generate_ratings
from matinee.evaluation import _scoring
from matinee.evaluation.evaluate import evaluate
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.models.neighbours.ease import EASE, EASEConfig

K = 10
THRESHOLD = 4.0


def _per_user_metrics(model: BiasedMF | EASE, split: Split) -> dict[str, float]:
    """Precision, recall, NDCG, MAP, MRR and hit rate @K, one user at a time."""
    test, train = split.test, split.train
    seen = train.user_movie_matrix()
    if split.validation is not None:
        seen = (seen + split.validation.user_movie_matrix()).tocsr()
    totals = dict.fromkeys(("precision", "recall", "ndcg", "map", "mrr", "hit_rate"), 0.0)
    users = np.unique(test.user_idx[test.rating >= THRESHOLD])
    for user in users.tolist():
        scores = model.rank_users([user])[0].astype(np.float64)
        rated = set(seen[user].indices.tolist())
        order = [m for m in np.argsort(-scores, kind="stable").tolist() if m not in rated][:K]
        mine = (test.user_idx == user) & (test.rating >= THRESHOLD)
        relevant = set(test.movie_idx[mine].tolist())
        hits = [movie in relevant for movie in order]
        ideal = min(K, len(relevant))
        totals["precision"] += sum(hits) / K
        totals["recall"] += sum(hits) / len(relevant)
        dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
        totals["ndcg"] += dcg / sum(1 / math.log2(rank + 2) for rank in range(ideal))
        precisions = [sum(hits[: rank + 1]) / (rank + 1) for rank, hit in enumerate(hits) if hit]
        totals["map"] += sum(precisions) / ideal
        totals["mrr"] += next((1 / (rank + 1) for rank, hit in enumerate(hits) if hit), 0.0)
        totals["hit_rate"] += float(any(hits))
    return {f"{name}@{K}": value / users.size for name, value in totals.items()}


@pytest.fixture(scope="module")
def split() -> Split:
    ratings = generate_ratings(200_000, n_users=1_500, n_movies=3_000, seed=3)
    return random_split(ratings, test_fraction=0.1, validation_fraction=0.05, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize(
    "model",
    [
        BiasedMF(BiasedMFConfig(n_factors=16, epochs=3, seed=1)),
        EASE(EASEConfig(reg=200.0)),
    ],
    ids=["biased-mf", "ease"],
)
def test_blocked_evaluation_equals_per_user_reference(
    split: Split, model: BiasedMF | EASE, monkeypatch: pytest.MonkeyPatch
) -> None:
    model.fit(split.train, split.validation)
    monkeypatch.setattr(_scoring, "SCORE_CELLS", 37 * split.train.n_movies)  # many small blocks
    result = evaluate(model, split, k=K, relevance_threshold=THRESHOLD)
    reference = _per_user_metrics(model, split)
    for name, value in reference.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    assert result.n_ranked_users == np.unique(split.test.user_idx[split.test.rating >= 4]).size
