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
from matinee.data.splits import hidden_ratings, random_split
from matinee.data.synthetic import generate_ratings
from matinee.errors import ConfigError
from matinee.evaluation import _scoring
from matinee.evaluation.evaluate import evaluate
from matinee.models.factorization.mf import BiasedMF, BiasedMFConfig
from matinee.models.neighbours.ease import EASE, EASEConfig

K = 10
THRESHOLD = 4.0

BOTH_KINDS = pytest.mark.parametrize(
    "model",
    [
        pytest.param(BiasedMF(BiasedMFConfig(n_factors=16, epochs=3, seed=1)), id="biased-mf"),
        pytest.param(EASE(EASEConfig(reg=200.0)), id="ease"),
    ],
)
"""A rating model with a ranking head (blocks in place) and a ranker (the generic path)."""


def _per_user_metrics(model: BiasedMF | EASE, split: Split) -> dict[str, float]:
    """Precision, recall, NDCG, MAP, MRR and hit rate @K, one user at a time.

    Held-out users (in ``split.fold_in``) are folded in one by one through ``rank_new_user``.
    """
    test, train = split.test, split.train
    seen = train.user_movie_matrix()
    if split.validation is not None:
        seen = (seen + split.validation.user_movie_matrix()).tocsr()
    visible = None if split.fold_in is None else split.fold_in.user_movie_matrix()
    totals = dict.fromkeys(("precision", "recall", "ndcg", "map", "mrr", "hit_rate"), 0.0)
    users = np.unique(test.user_idx[test.rating >= THRESHOLD])
    for user in users.tolist():
        held = visible is not None and visible[user].nnz > 0
        row = visible[user] if held and visible is not None else seen[user]
        if held:
            scores = model.rank_new_user(row.indices, row.data).astype(np.float64)
        else:
            scores = model.rank_users([user])[0].astype(np.float64)
        rated = set(row.indices.tolist())
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


@pytest.fixture(scope="module")
def held_out() -> Split:
    ratings = generate_ratings(150_000, n_users=1_500, n_movies=2_000, seed=5)
    return hidden_ratings(ratings, test_users=0.2, hidden_fraction=0.3, seed=1)


@pytest.mark.slow
@BOTH_KINDS
@pytest.mark.parametrize("split_name", ["split", "held_out"])
def test_blocked_evaluation_equals_per_user_reference(
    split_name: str,
    model: BiasedMF | EASE,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    # held_out: a hidden-ratings split, whose test users are folded in from split.fold_in
    chosen: Split = request.getfixturevalue(split_name)
    model.fit(chosen.train, chosen.validation)
    monkeypatch.setattr(_scoring, "SCORE_CELLS", 37 * chosen.train.n_movies)  # many small blocks
    result = evaluate(model, chosen, k=K, relevance_threshold=THRESHOLD)
    reference = _per_user_metrics(model, chosen)
    for name, value in reference.items():
        assert result.metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-15), name
    assert result.n_ranked_users == np.unique(chosen.test.user_idx[chosen.test.rating >= 4]).size


def test_new_users_in_a_block_score_as_one_at_a_time(held_out: Split) -> None:
    assert held_out.fold_in is not None
    model = BiasedMF(BiasedMFConfig(n_factors=8, epochs=2, seed=0)).fit(held_out.train)
    rows = held_out.fold_in.user_movie_matrix()
    rows = rows[np.flatnonzero(np.diff(rows.indptr))[:40]]
    single = np.vstack([model.rank_new_user(r.indices, r.data) for r in rows])
    np.testing.assert_allclose(model.rank_new_users(rows), single, rtol=1e-5, atol=1e-6)


def test_rank_users_into_a_buffer(split: Split) -> None:
    model = BiasedMF(BiasedMFConfig(n_factors=8, epochs=1, seed=0)).fit(split.train)
    users = np.arange(5)
    buffer = np.full((5, model.n_movies), np.nan, dtype=np.float32)
    written = model.rank_users(users, out=buffer)
    assert written is buffer and np.array_equal(buffer, model.rank_users(users))
    with pytest.raises(ConfigError, match="out must be float32"):
        model.rank_users(users, out=buffer[:4])
