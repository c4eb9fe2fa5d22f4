"""top_k_row: the one-request top-k gives exactly top_k's first row, without the padding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matinee.errors import ConfigError
from matinee.ranking import PAD, top_k, top_k_row

# Few distinct values, so ties (also at the k-th place), -inf and NaN are common.
SCORES = arrays(
    np.float32,
    st.integers(1, 60),
    elements=st.sampled_from([0.0, 0.5, 1.0, -1.0, 2.5, np.float32(1e-3), -np.inf, np.nan]),
)


@settings(max_examples=300, deadline=None)
@given(SCORES, st.integers(1, 80))
def test_top_k_row_is_top_k_without_padding(scores: np.ndarray, k: int) -> None:
    expected = top_k(scores, k)[0]
    assert top_k_row(scores, k).tolist() == expected[expected != PAD].tolist()


def _reference(scores: np.ndarray, k: int) -> list[int]:
    """Best first, ties to the lower index, -inf and NaN left out: a plain sort."""
    valid = [i for i, value in enumerate(scores.tolist()) if value > -np.inf]
    return sorted(valid, key=lambda i: (-float(scores[i]), i))[:k]


LONG = arrays(
    np.float64,
    st.integers(250, 400),
    elements=st.sampled_from([0.0, 0.5, 1.0, -1.0, 2.5, 1e-3, -np.inf, np.nan]),
)


@settings(max_examples=60, deadline=None)
@given(LONG, st.sampled_from([1, 10, 256, 257, 300, 500]))
def test_kernel_and_partition_paths_give_the_plain_sort(scores: np.ndarray, k: int) -> None:
    # k up to KERNEL_MAX_K (256) runs the compiled kernel, longer lists the partition
    assert top_k_row(scores, k).tolist() == _reference(scores, k)
    assert top_k_row(scores.astype(np.float32), k).tolist() == _reference(
        scores.astype(np.float32), k
    )


def test_ties_go_to_the_lower_index_and_infinities_never_come_back() -> None:
    scores = np.array([1.0, 3.0, 3.0, -np.inf, 3.0, np.nan, 2.0])
    assert top_k_row(scores, 2).tolist() == [1, 2]
    assert top_k_row(scores, 10).tolist() == [1, 2, 4, 6, 0]


@pytest.mark.parametrize("k", [0, -1, True, 1.5])
def test_bad_k_and_shapes_are_refused(k: object) -> None:
    with pytest.raises(ConfigError, match="k must be"):
        top_k_row(np.zeros(3), k)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="1-D"):
        top_k_row(np.zeros((2, 3)), 1)
