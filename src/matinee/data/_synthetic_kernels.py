"""Numba kernels of the synthetic generator: per-user random streams, sampling, ratings.

Each user draws from its own splitmix64 stream keyed by (seed, user), so results do not depend
on the order users are processed in. Compiled once and cached on disk.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["sample_movies", "rate_movies"]


@numba.njit(inline="always")
def _next_uniform(state: npt.NDArray[np.uint64]) -> float:
    """Splitmix64 step on ``state[0]``; a uniform float in [0, 1)."""
    state[0] = state[0] + np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return float(z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@numba.njit(inline="always")
def _next_normal(state: npt.NDArray[np.uint64]) -> float:
    """A standard normal draw (Box-Muller)."""
    u1 = 1.0 - _next_uniform(state)
    u2 = _next_uniform(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@numba.njit(cache=True)
def _sample_dense(
    state: npt.NDArray[np.uint64],
    weights: npt.NDArray[np.float64],
    keys: npt.NDArray[np.float64],
    out: npt.NDArray[np.int32],
) -> None:
    """Weighted sampling without replacement by exponential races (for heavy users)."""
    for m in range(weights.size):
        keys[m] = -math.log(1.0 - _next_uniform(state)) / weights[m]
    threshold = np.partition(keys.copy(), out.size - 1)[out.size - 1]
    filled = 0
    for m in range(weights.size):
        if keys[m] <= threshold and filled < out.size:
            out[filled] = m
            filled += 1


@numba.njit(cache=True)
def _alias_table(
    weights: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Walker's alias table (Vose's method): O(1) weighted draws."""
    n = weights.size
    scaled = weights * (n / weights.sum())
    accept = np.ones(n, dtype=np.float64)
    alias = np.arange(n)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small and n_large:
        n_small -= 1
        n_large -= 1
        lo, hi = small[n_small], large[n_large]
        accept[lo] = scaled[lo]
        alias[lo] = hi
        scaled[hi] -= 1.0 - scaled[lo]
        if scaled[hi] < 1.0:
            small[n_small] = hi
            n_small += 1
        else:
            large[n_large] = hi
            n_large += 1
    return accept, alias


@numba.njit(cache=True)
def _sample_sparse(
    state: npt.NDArray[np.uint64],
    accept: npt.NDArray[np.float64],
    alias: npt.NDArray[np.int64],
    marker: npt.NDArray[np.int64],
    user: int,
    out: npt.NDArray[np.int32],
) -> None:
    """Weighted sampling without replacement: alias-table draws, repeats rejected (light users)."""
    n = accept.size
    filled = 0
    while filled < out.size:
        position = _next_uniform(state) * n
        m = min(int(position), n - 1)
        if position - m >= accept[m]:
            m = alias[m]
        if marker[m] != user:
            marker[m] = user
            out[filled] = m
            filled += 1


@numba.njit(cache=True)
def sample_movies(
    offsets: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    seed: int,
    windows: npt.NDArray[np.float64],
    out_movie: npt.NDArray[np.int32],
    out_time: npt.NDArray[np.int64],
) -> None:
    """Draw each user's distinct movies (sorted) and rating times within their window."""
    n_movies = weights.size
    accept, alias = _alias_table(weights)
    marker = np.full(n_movies, -1, dtype=np.int64)
    keys = np.empty(n_movies, dtype=np.float64)
    state = np.zeros(1, dtype=np.uint64)
    for user in range(offsets.size - 1):
        state[0] = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + np.uint64(user)
        start, end = offsets[user], offsets[user + 1]
        movies = out_movie[start:end]
        if (end - start) * 4 > n_movies:
            _sample_dense(state, weights, keys, movies)
        else:
            _sample_sparse(state, accept, alias, marker, user, movies)
        movies.sort()
        for row in range(start, end):
            out_time[row] = np.int64(windows[user, 0] + windows[user, 1] * _next_uniform(state))


@numba.njit(cache=True)
def rate_movies(
    offsets: npt.NDArray[np.int64],
    movie_idx: npt.NDArray[np.int32],
    seed: int,
    user_bias: npt.NDArray[np.float64],
    movie_bias: npt.NDArray[np.float64],
    user_factors: npt.NDArray[np.float64],
    movie_factors: npt.NDArray[np.float64],
    out_score: npt.NDArray[np.float32],
) -> None:
    """Latent-factor scores plus noise, one per rating (stars are cut from them afterwards)."""
    state = np.zeros(1, dtype=np.uint64)
    for user in range(offsets.size - 1):
        state[0] = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + np.uint64(user)
        for row in range(offsets[user], offsets[user + 1]):
            m = movie_idx[row]
            value = user_bias[user] + movie_bias[m] + 0.8 * _next_normal(state)
            for f in range(user_factors.shape[1]):
                value += user_factors[user, f] * movie_factors[m, f]
            out_score[row] = value
