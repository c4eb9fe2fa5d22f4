"""Top-k latency for the ranking benchmark: one known user, and a new user with 10 ratings."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from matinee.data.ratings import Ratings
from matinee.models.factorization.ials import ImplicitALS, ImplicitALSConfig
from matinee.models.neighbours.ease import EASE, EASEConfig


def latency(quick: bool) -> dict[str, Any]:
    """Median time of one top-10 list, known user and new user with 10 ratings."""
    from matinee.data.ids import IdMap

    rng = np.random.default_rng(0)
    out: dict[str, Any] = {}
    for label, n_movies, make in (
        (
            "mf (ials, 64 factors)",
            60_000,
            lambda n, users: ImplicitALS.from_parameters(
                ImplicitALSConfig(n_factors=64), _mf_params(rng, users, n)
            ),
        ),
        (
            "ease (float32)",
            8_000 if quick else 15_000,
            lambda n, users: EASE.from_parameters(
                EASEConfig(precision="float32"), _ease_params(rng, users, n)
            ),
        ),
    ):
        n_users = 1_000
        model = make(n_movies, n_users)
        history = Ratings(
            rng.integers(0, n_users, 100_000).astype(np.int32),
            rng.integers(0, n_movies, 100_000).astype(np.int32),
            np.full(100_000, 4.0, np.float32),
            np.zeros(100_000, np.int64),
            IdMap(np.arange(n_users), kind="user"),
            IdMap(np.arange(n_movies), kind="movie"),
        )
        history.user_movie_matrix()
        with threadpool_limits(limits=1, user_api="blas"):
            known, new = _time_calls(model, history, n_users, n_movies, rng)
        out[label] = {
            "movies": n_movies,
            "known_user_ms": round(1000 * float(np.median(known[5:])), 2),
            "new_user_10_ratings_ms": round(1000 * float(np.median(new[5:])), 2),
        }
        print(f"  latency {label}: {out[label]}", flush=True)
        del model
    return out


def _time_calls(
    model: Any, history: Ratings, n_users: int, n_movies: int, rng: np.random.Generator
) -> tuple[list[float], list[float]]:
    from matinee.recommend import recommend, recommend_new_user

    known, new = [], []
    for trial in range(60):
        started = time.perf_counter()
        recommend(model, [trial % n_users], 10, exclude_rated=history)
        known.append(time.perf_counter() - started)
        rated = {int(m): 4.0 for m in rng.choice(n_movies, 10, replace=False)}
        started = time.perf_counter()
        recommend_new_user(model, rated, 10)
        new.append(time.perf_counter() - started)
    return known, new


def _mf_params(rng: np.random.Generator, n_users: int, n_movies: int) -> dict[str, np.ndarray]:
    return {
        **_base_params(n_users, n_movies),
        "user_factors": rng.standard_normal((n_users, 64)).astype(np.float32),
        "movie_factors": rng.standard_normal((n_movies, 64)).astype(np.float32),
    }


def _ease_params(rng: np.random.Generator, n_users: int, n_movies: int) -> dict[str, np.ndarray]:
    items = sp.random(
        n_users, n_movies, density=100 / n_movies, format="csr", random_state=1, dtype=np.float32
    )
    items.data[:] = 1.0
    weights = rng.standard_normal((n_movies, n_movies), dtype=np.float32)
    return {
        **_base_params(n_users, n_movies),
        "weights": weights,
        "user_items_indptr": items.indptr.astype(np.int64),
        "user_items_indices": items.indices,
        "user_items_data": items.data,
    }


def _base_params(n_users: int, n_movies: int) -> dict[str, np.ndarray]:
    return {
        "user_ids": np.arange(n_users),
        "movie_ids": np.arange(n_movies),
        "rating_scale": np.array([0.5, 5.0]),
        "global_mean": np.array([3.5]),
    }
