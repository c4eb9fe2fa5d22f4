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
    """Weighted sampling without replacement by exponential races over all of ``weights``."""
    for m in range(weights.size):
        keys[m] = -math.log(1.0 - _next_uniform(state)) / weights[m]
    threshold = np.partition(keys[: weights.size].copy(), out.size - 1)[out.size - 1]
    filled = 0
    for m in range(weights.size):
        if keys[m] <= threshold and filled < out.size:
            out[filled] = m
            filled += 1


@numba.njit(cache=True)
def _sample_sparse(
    state: npt.NDArray[np.uint64],
    cumulative: npt.NDArray[np.float64],
    marker: npt.NDArray[np.int64],
    user: int,
    out: npt.NDArray[np.int32],
) -> bool:
    """Weighted draws by bisection of ``cumulative``, repeats rejected (light users).

    Returns False, leaving ``out`` part-filled, when repeats pass a few draws per movie (a user
    rating much of a heavy-tailed catalogue): the caller then runs the exponential race instead.
    """
    total = cumulative[cumulative.size - 1]
    budget = 16 * out.size + 64
    filled = 0
    while filled < out.size:
        budget -= 1
        if budget < 0:
            return False
        m = np.searchsorted(cumulative, _next_uniform(state) * total, side="right")
        m = min(m, cumulative.size - 1)
        if marker[m] != user:
            marker[m] = user
            out[filled] = m
            filled += 1
    return True


@numba.njit(cache=True)
def sample_movies(
    offsets: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    eligible: npt.NDArray[np.int64],
    added: npt.NDArray[np.float64],
    seed: int,
    windows: npt.NDArray[np.float64],
    out_movie: npt.NDArray[np.int32],
    out_time: npt.NDArray[np.int64],
) -> None:
    """Draw each user's distinct movies (sorted) and rating times within their window.

    Movies are in the order they joined the catalogue; user ``u`` draws from the first
    ``eligible[u]`` of them (those added before the end of their window), and rates movie ``m``
    between ``max(window start, added[m])`` and the window's end.
    """
    cumulative = np.cumsum(weights)
    marker = np.full(weights.size, -1, dtype=np.int64)
    keys = np.empty(weights.size, dtype=np.float64)
    state = np.zeros(1, dtype=np.uint64)
    for user in range(offsets.size - 1):
        state[0] = np.uint64(seed) * np.uint64(0xD1B54A32D192ED03) + np.uint64(user)
        start, end = offsets[user], offsets[user + 1]
        movies = out_movie[start:end]
        prefix = eligible[user]
        if (end - start) * 4 > prefix or not _sample_sparse(
            state, cumulative[:prefix], marker, user, movies
        ):
            _sample_dense(state, weights[:prefix], keys, movies)
        movies.sort()
        first, last = windows[user, 0], windows[user, 1]
        for row in range(start, end):
            begin = max(first, added[out_movie[row]])
            out_time[row] = np.int64(begin + (last - begin) * _next_uniform(state))


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
