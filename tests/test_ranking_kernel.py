"""The compiled one-pass top-k equals the argpartition path, ties, NaN, infinities included."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from matinee import ranking
from matinee.ranking import PAD, top_k


@st.composite
def score_cases(draw: st.DrawFn) -> tuple[np.ndarray, sp.csr_matrix, int]:
    n_rows = draw(st.integers(1, 8))
    n_movies = draw(st.integers(1, 40))
    values = st.sampled_from([0.0, 1.0, 2.0, -1.5, np.nan, np.inf, -np.inf])
    scores = np.array(
        draw(st.lists(values, min_size=n_rows * n_movies, max_size=n_rows * n_movies)),
        dtype=draw(st.sampled_from([np.float32, np.float64])),
    ).reshape(n_rows, n_movies)
    mask = np.array(
        draw(st.lists(st.booleans(), min_size=n_rows * n_movies, max_size=n_rows * n_movies))
    ).reshape(n_rows, n_movies)
    k = draw(st.integers(1, n_movies + 3))
    return scores, sp.csr_matrix(mask), k


@settings(max_examples=300, deadline=None)
@given(score_cases())
def test_kernel_equals_partition_path(case: tuple[np.ndarray, sp.csr_matrix, int]) -> None:
    scores, exclude, k = case
    width = min(k, scores.shape[1])
    mask = ranking._exclusion_mask(exclude, scores.shape)
    kernel = ranking._kernel_top_k(scores, width, mask)
    partition = ranking._partition_top_k(scores, width, mask)
    np.testing.assert_array_equal(kernel, partition)
    chosen = kernel[kernel != PAD]
    rows = np.nonzero(kernel != PAD)[0]
    assert not exclude.toarray()[rows, chosen].any()
    assert not np.isnan(scores[rows, chosen]).any()


def test_ties_go_to_the_lower_index_and_unsorted_exclusions_hold() -> None:
    scores = np.array([[1.0, 3.0, 3.0, np.inf, np.inf, 2.0, np.nan]])
    exclude = sp.csr_matrix((np.ones(2), np.array([5, 1]), np.array([0, 2])), shape=(1, 7))
    assert not exclude.has_sorted_indices
    assert top_k(scores, 4, exclude=exclude).tolist() == [[3, 4, 2, 0]]
    assert top_k(scores, 7, exclude=exclude).tolist() == [[3, 4, 2, 0, PAD, PAD, PAD]]


def test_long_lists_take_the_partition_path() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 50, (3, ranking.KERNEL_MAX_K + 40)).astype(np.float32)
    long = top_k(scores, ranking.KERNEL_MAX_K + 1)
    expected = np.argsort(-scores, axis=1, kind="stable")[:, : ranking.KERNEL_MAX_K + 1]
    np.testing.assert_array_equal(long, expected)


def test_integer_scores_and_bad_shapes() -> None:
    assert top_k(np.array([3, 1, 2]), 2).tolist() == [[0, 2]]
    with pytest.raises(Exception, match="2-D"):
        top_k(np.zeros((2, 2, 2)), 1)
