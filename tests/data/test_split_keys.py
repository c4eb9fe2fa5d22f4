"""Split keys: chunked hashing equals the whole-column hash; partial orders equal full ones."""

from __future__ import annotations

import numpy as np
import pytest

from matinee.data import split_keys
from matinee.data.split_keys import hash_longs, order_by_key, order_prefix


def test_chunked_hash_equals_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(4)
    users = rng.integers(-(2**62), 2**62, 5_000)
    movies = rng.integers(0, 100_000, 5_000)
    whole = hash_longs(3, users, movies)
    monkeypatch.setattr(split_keys, "HASH_CHUNK", 7)
    assert np.array_equal(hash_longs(3, users, movies), whole)
    assert np.array_equal(hash_longs(3, users[:1], movies[:1]), whole[:1])


@pytest.mark.parametrize("size", [0, 1, 37, 499, 500, 900])
def test_order_prefix_is_the_full_order_cut(size: int) -> None:
    rng = np.random.default_rng(size)
    keys = rng.integers(-(2**63), 2**63 - 1, 500, dtype=np.int64)
    ids = rng.permutation(500)
    assert np.array_equal(order_prefix(keys, size, ids), order_by_key(keys, ids)[:size])


@pytest.mark.parametrize("size", [3, 4, 5, 6, 9])
def test_order_prefix_with_tied_keys(size: int) -> None:
    keys = np.array([5, 1, 5, 5, 2, 9, 5, 0, 7, 5], dtype=np.int64)
    ids = np.array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    assert np.array_equal(order_prefix(keys, size, ids), order_by_key(keys, ids)[:size])
