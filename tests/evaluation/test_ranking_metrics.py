"""Ranking metrics and top_k: hand-computed examples and Hypothesis properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee.errors import ConfigError
from matinee.evaluation.ranking_metrics import (
    accuracy_metrics,
    catalogue_coverage,
    hit_mask,
    hit_rate_at_k,
    map_at_k,
    mrr,
    ndcg_at_k,
    novelty,
    precision_at_k,
    recall_at_k,
    relevance_matrix,
    top_k,
)

# Two users, six movies. User 0 likes {1, 4, 5}; user 1 likes {2}.
RELEVANT = relevance_matrix([0, 0, 0, 1], [1, 4, 5, 2], 2, 6)
RECOMMENDED = np.array([[1, 0, 4], [3, 2, -1]])


def test_hit_mask_marks_relevant_slots_and_never_padding() -> None:
    expected = np.array([[True, False, True], [False, True, False]])
    np.testing.assert_array_equal(hit_mask(RECOMMENDED, RELEVANT), expected)


def test_hand_computed_example() -> None:
    log2 = math.log2
    assert precision_at_k(RECOMMENDED, RELEVANT) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert recall_at_k(RECOMMENDED, RELEVANT) == pytest.approx((2 / 3 + 1) / 2)
    ndcg_user0 = (1 + 1 / log2(4)) / (1 + 1 / log2(3) + 1 / log2(4))
    ndcg_user1 = (1 / log2(3)) / 1.0
    assert ndcg_at_k(RECOMMENDED, RELEVANT) == pytest.approx((ndcg_user0 + ndcg_user1) / 2)
    ap_user0 = (1 / 1 + 2 / 3) / 3
    ap_user1 = (1 / 2) / 1
    assert map_at_k(RECOMMENDED, RELEVANT) == pytest.approx((ap_user0 + ap_user1) / 2)
    assert mrr(RECOMMENDED, RELEVANT) == pytest.approx((1 + 1 / 2) / 2)
    assert hit_rate_at_k(RECOMMENDED, RELEVANT) == 1.0
    assert catalogue_coverage(RECOMMENDED, 6) == pytest.approx(5 / 6)


def test_accuracy_metrics_agree_with_single_functions() -> None:
    values = accuracy_metrics(RECOMMENDED, RELEVANT)
    assert values["precision"] == precision_at_k(RECOMMENDED, RELEVANT)
    assert values["recall"] == recall_at_k(RECOMMENDED, RELEVANT)
    assert values["ndcg"] == ndcg_at_k(RECOMMENDED, RELEVANT)
    assert values["map"] == map_at_k(RECOMMENDED, RELEVANT)
    assert values["mrr"] == mrr(RECOMMENDED, RELEVANT)
    assert values["hit_rate"] == hit_rate_at_k(RECOMMENDED, RELEVANT)


def test_map_normalises_by_min_of_k_and_relevant() -> None:
    # Five relevant movies but k = 2: a perfect list scores 1, not 2 / 5.
    relevant = relevance_matrix([0] * 5, [0, 1, 2, 3, 4], 1, 8)
    assert map_at_k(np.array([[0, 1]]), relevant) == 1.0
    assert ndcg_at_k(np.array([[0, 1]]), relevant) == 1.0
    assert recall_at_k(np.array([[0, 1]]), relevant) == pytest.approx(2 / 5)


def test_novelty_is_mean_self_information() -> None:
    counts = np.array([8, 4, 2, 0])
    # Movie 3 has no training rating: its share is floored at one user.
    assert novelty(np.array([[0, 1], [2, 3]]), counts, 8) == pytest.approx((0 + 1 + 2 + 3) / 4)
    assert novelty(np.array([[-1, -1]]), counts, 8) == 0.0


def test_top_k_orders_excludes_and_pads() -> None:
    scores = np.array([[0.1, 0.5, 0.3, 0.9], [1.0, 1.0, np.nan, 1.0]])
    exclude = sp.csr_matrix(np.array([[0, 0, 0, 1], [1, 0, 0, 0]]))
    np.testing.assert_array_equal(top_k(scores, 2, exclude), [[1, 2], [1, 3]])
    # Ties go to the lower index; excluded and NaN cells pad with -1 when k is large.
    np.testing.assert_array_equal(top_k(scores, 10, exclude), [[1, 2, 0, -1], [1, 3, -1, -1]])
    assert top_k(scores[0], 1).shape == (1, 1)


@pytest.mark.parametrize("k", [0, -3, 1.5, True])
def test_top_k_rejects_bad_k(k: object) -> None:
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        top_k(np.zeros((1, 3)), k)  # type: ignore[arg-type]


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ConfigError, match="exclude has shape"):
        top_k(np.zeros((2, 3)), 1, sp.csr_matrix((2, 4)))
    with pytest.raises(ConfigError, match="rows"):
        precision_at_k(np.zeros((3, 2), dtype=int), RELEVANT)
    with pytest.raises(ConfigError, match="must lie in"):
        precision_at_k(np.array([[0, 6], [1, 2]]), RELEVANT)
    with pytest.raises(ConfigError, match="integer"):
        precision_at_k(np.array([[0.0, 1.0], [1.0, 2.0]]), RELEVANT)
    with pytest.raises(ConfigError, match="n_movies"):
        catalogue_coverage(RECOMMENDED, 0)


@st.composite
def rankings(draw: st.DrawFn) -> tuple[np.ndarray, sp.csr_matrix, int]:
    n_users = draw(st.integers(1, 8))
    n_movies = draw(st.integers(1, 12))
    k = draw(st.integers(1, n_movies))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    recommended = np.vstack([rng.permutation(n_movies)[:k] for _ in range(n_users)])
    liked = rng.random((n_users, n_movies)) < draw(st.floats(0.05, 0.9))
    liked[np.arange(n_users), rng.integers(0, n_movies, n_users)] = True
    return recommended, sp.csr_matrix(liked), n_movies


ALL = (precision_at_k, recall_at_k, ndcg_at_k, map_at_k, mrr, hit_rate_at_k)


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_metrics_lie_in_unit_interval(case: tuple[np.ndarray, sp.csr_matrix, int]) -> None:
    recommended, relevant, n_movies = case
    for metric in ALL:
        assert 0.0 <= metric(recommended, relevant) <= 1.0 + 1e-12
    assert 0.0 < catalogue_coverage(recommended, n_movies) <= 1.0


@settings(max_examples=60, deadline=None)
@given(rankings(), st.integers(0, 2**32 - 1))
def test_metrics_ignore_user_order(case: tuple[np.ndarray, sp.csr_matrix, int], seed: int) -> None:
    recommended, relevant, _ = case
    order = np.random.default_rng(seed).permutation(recommended.shape[0])
    for metric in ALL:
        assert metric(recommended[order], relevant[order]) == pytest.approx(
            metric(recommended, relevant)
        )


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_ranking_by_relevance_is_perfect(case: tuple[np.ndarray, sp.csr_matrix, int]) -> None:
    _, relevant, n_movies = case
    k = min(3, n_movies)
    best = top_k(relevant.toarray().astype(float), k)
    assert ndcg_at_k(best, relevant) == pytest.approx(1.0)
    assert map_at_k(best, relevant) == pytest.approx(1.0)
    assert mrr(best, relevant) == 1.0
    assert hit_rate_at_k(best, relevant) == 1.0
    counts = np.asarray(relevant.sum(axis=1)).ravel()
    expected_recall = np.mean(np.minimum(counts, k) / counts)
    assert recall_at_k(best, relevant) == pytest.approx(expected_recall)


@settings(max_examples=60, deadline=None)
@given(rankings())
def test_top_k_matches_a_full_sort(case: tuple[np.ndarray, sp.csr_matrix, int]) -> None:
    _, relevant, n_movies = case
    rng = np.random.default_rng(n_movies)
    scores = rng.integers(0, 4, relevant.shape).astype(float)
    k = max(1, n_movies // 2)
    got = top_k(scores, k, exclude=relevant)
    masked = np.where(relevant.toarray(), -np.inf, scores)
    for row, picks in zip(masked, got, strict=True):
        eligible = np.flatnonzero(row > -np.inf)
        expected = eligible[np.lexsort((eligible, -row[eligible]))][:k]
        np.testing.assert_array_equal(picks[: expected.size], expected)
        assert np.all(picks[expected.size :] == -1)


@settings(max_examples=40, deadline=None)
@given(rankings())
def test_more_hits_never_lower_precision(case: tuple[np.ndarray, sp.csr_matrix, int]) -> None:
    recommended, relevant, n_movies = case
    everything = sp.csr_matrix(np.ones((recommended.shape[0], n_movies), dtype=bool))
    assert precision_at_k(recommended, everything) == 1.0
    assert precision_at_k(recommended, everything) >= precision_at_k(recommended, relevant)
