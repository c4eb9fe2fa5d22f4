"""Random keys of splits as hashes of (seed, raw ids): every engine draws the same ones.

A split's randomness is a key per rating (or per user) that splits order by. The key is Apache
Spark's built-in ``xxhash64(seed, user_id, movie_id)`` (every argument a 64-bit integer, Spark's
default hash seed 42), re-implemented here in vectorised numpy. Spark computes the same numbers
with ``F.xxhash64`` (:mod:`matinee.spark.splits`), so a split made on one machine and one made on
a cluster hold the same rows, and a rating keeps its key whatever the row order or the other rows.

Keys are signed 64-bit integers (as Spark returns them); ties, which are practically absent, are
broken by the raw ids.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["SPARK_HASH_SEED", "hash_longs", "order_by_key", "order_prefix", "row_keys", "user_keys"]

SPARK_HASH_SEED = 42
"""The seed Spark's ``xxhash64`` starts from."""

HASH_CHUNK = 1 << 15
"""Elements hashed at a time: each temporary (256 KiB) stays in cache, where whole 25M-row
columns made every one of the hash's dozen steps a pass through memory."""

_PRIME_1 = np.uint64(0x9E3779B185EBCA87)
_PRIME_2 = np.uint64(0xC2B2AE3D27D4EB4F)
_PRIME_3 = np.uint64(0x165667B19E3779F9)
_PRIME_4 = np.uint64(0x85EBCA77C2B2AE63)
_PRIME_5 = np.uint64(0x27D4EB2F165667C5)

Keys = npt.NDArray[np.int64]
_U64 = npt.NDArray[np.uint64]


def _rotate_left(value: _U64, bits: int) -> _U64:
    left = np.left_shift(value, np.uint64(bits))
    right = np.right_shift(value, np.uint64(64 - bits))
    return np.bitwise_or(left, right)


def _hash_long(value: _U64, seed: _U64) -> _U64:
    """XXH64 of one 8-byte little-endian integer per element (Spark's ``XXH64.hashLong``)."""
    state = seed + _PRIME_5 + np.uint64(8)
    state ^= _rotate_left(value * _PRIME_2, 31) * _PRIME_1
    state = _rotate_left(state, 27) * _PRIME_1 + _PRIME_4
    state ^= np.right_shift(state, np.uint64(33))
    state *= _PRIME_2
    state ^= np.right_shift(state, np.uint64(29))
    state *= _PRIME_3
    state ^= np.right_shift(state, np.uint64(32))
    return state


def hash_longs(*columns: npt.ArrayLike) -> Keys:
    """Spark's ``xxhash64(c1, c2, ...)`` of 64-bit integer columns (scalars broadcast).

    Each column's hash seeds the next one's, starting from :data:`SPARK_HASH_SEED`.
    """
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=np.int64) for c in columns))
    flat = [array.ravel() for array in arrays]
    keys = np.empty(flat[0].size, dtype=np.uint64)
    for start in range(0, keys.size, HASH_CHUNK):
        stop = start + HASH_CHUNK
        state = np.full(min(stop, keys.size) - start, SPARK_HASH_SEED, dtype=np.uint64)
        for array in flat:
            state = _hash_long(array[start:stop].astype(np.uint64), state)
        keys[start:stop] = state
    return keys.view(np.int64).reshape(arrays[0].shape)


def row_keys(seed: int, user_ids: npt.ArrayLike, movie_ids: npt.ArrayLike) -> Keys:
    """The key of each rating: ``xxhash64(seed, user_id, movie_id)``."""
    return hash_longs(seed, user_ids, movie_ids)


def user_keys(seed: int, user_ids: npt.ArrayLike) -> Keys:
    """The key of each user: ``xxhash64(seed, user_id)``."""
    return hash_longs(seed, user_ids)


def order_by_key(keys: Keys, *tie_breaks: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Positions sorted by ``keys`` ascending, equal keys by ``tie_breaks`` in turn.

    One stable argsort; the multi-column sort runs only if two keys collide.
    """
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    if not tie_breaks or not np.any(sorted_keys[1:] == sorted_keys[:-1]):
        return order
    columns = [np.asarray(c) for c in reversed(tie_breaks)]
    return np.lexsort((*columns, keys))


def order_prefix(keys: Keys, size: int, *tie_breaks: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """``order_by_key(keys, *tie_breaks)[:size]``, sorting only those ``size`` positions.

    One ``argpartition`` finds the ``size`` smallest keys; a key tied across that boundary
    (practically absent) falls back to the full order.
    """
    if size >= keys.size:
        return order_by_key(keys, *tie_breaks)
    if size <= 0:
        return np.empty(0, dtype=np.intp)
    chosen = np.argpartition(keys, size - 1)[:size]
    boundary = keys[chosen].max()
    if np.count_nonzero(keys == boundary) > np.count_nonzero(keys[chosen] == boundary):
        return order_by_key(keys, *tie_breaks)[:size]
    columns = [np.asarray(c)[chosen] for c in tie_breaks]
    ordered: npt.NDArray[np.intp] = chosen[order_by_key(keys[chosen], *columns)]
    return ordered
