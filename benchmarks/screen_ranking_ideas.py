"""One-seed screens of ideas for issue 14's ranking targets, on inner validation only.

Each screen fits session-aware EASE (``bench_ranking.py``'s seed-0 inner-validation picks) on the
inner per-user 80/20 holdout of seed 0's training part and prints validation NDCG@10 and P@10
of each variant beside the plain one, in the same run; nothing here looks at the test part.

* ``side``: movie-feature rows in the Gram matrix (genres ``g``, 5-year spans ``y``, tags ``t``).
* ``time``: the user's time-bin histogram as extra input columns (with or without each session
  row's own bin), and a time prior: the log share of each movie among the ratings made when the
  user was active, z-scored and added to z-scored EASE scores.
* ``combo``: side info with that time prior, and with user demographics (ml-100k) as inputs.
* ``frequency``: the columns of X scaled by (count / mean) ** -c in Gram and input, the output
  unscaled or scaled back.

Run: ``.venv/bin/python benchmarks/screen_ranking_ideas.py SCREEN DATASET``; the figures of
3 December 2026 are in ``benchmarks/results/ranking_screens.md``.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from bench_ranking import Scorer, measure, zscore
from matinee.data.dataset import Dataset
from matinee.data.filters import RatingThreshold
from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.splits import per_user_holdout
from matinee.models import _ranker_common as common
from matinee.models.neighbours.ease import ease_weights
from matinee.models.side_info import MovieFeatures

BASE = {"ml-100k": (150.0, 0.5, 2, 0.3), "ml-latest-small": (300.0, 0.0, 2, 0.6)}
"""Inner-size (reg, dropout, session_window, session_weight) of bench_ranking.py's seed-0 picks."""


def inner_part(name: str) -> tuple[Dataset, Ratings, Ratings]:
    """The release, and the inner training and validation parts of seed 0's training part."""
    data = load_dataset(name)
    if name == "ml-100k":
        ratings, fraction = data.ratings, 0.25
    else:
        ratings, fraction = RatingThreshold(4.0).apply(data.ratings).ratings.compact(), 0.2
    split = per_user_holdout(ratings, fraction=fraction, seed=0)
    inner = per_user_holdout(split.train, fraction=0.2, seed=1000)
    return data, inner.train, inner.test


def features(train: Ratings, data: Dataset, kinds: str) -> sp.csr_matrix:
    """Genre and year rows (MovieFeatures) and, with ``t`` in ``kinds``, tag rows."""
    blocks = []
    if "g" in kinds or "y" in kinds:
        table = MovieFeatures.from_movies(data.movies)
        prefixes = tuple(p for p, k in (("genre:", "g"), ("years:", "y")) if k in kinds)
        keep = [i for i, name in enumerate(table.names) if name.startswith(prefixes)]
        subset = MovieFeatures(
            table.movie_ids, tuple(table.names[i] for i in keep), table.matrix[keep]
        )
        blocks.append(subset.matrix_for(train.movies))
    if "t" in kinds and data.tags is not None:
        tags = data.tags.filter(data.tags["movie_id"].is_in(train.movies.raw_ids.tolist()))
        names = {tag: i for i, tag in enumerate(sorted(set(tags["tag"].str.to_lowercase())))}
        rows = [names[tag] for tag in tags["tag"].str.to_lowercase().to_list()]
        columns = train.movies.indices(tags["movie_id"].to_numpy())
        matrix = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, columns)),
            shape=(len(names), train.n_movies),
        )
        matrix.sum_duplicates()
        matrix.data[:] = 1.0
        blocks.append(sp.csr_matrix(matrix[np.diff(matrix.indptr) >= 2]))
    return sp.csr_matrix(sp.vstack(blocks))


def time_bins(train: Ratings, n_bins: int) -> np.ndarray:
    """Each rating's bin among ``n_bins`` equal-count spans of the training timestamps."""
    edges = np.quantile(train.timestamp, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.searchsorted(edges, train.timestamp, side="right")


def user_time(train: Ratings, bins: np.ndarray, n_bins: int) -> sp.csr_matrix:
    """Each user's share of ratings in each time bin."""
    matrix = sp.csr_matrix(
        (np.ones(len(train)), (train.user_idx, bins)), shape=(train.n_users, n_bins)
    )
    counts = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1)
    return sp.csr_matrix(sp.diags(1.0 / counts) @ matrix)


def session_bins(train: Ratings, bins: np.ndarray, n_bins: int) -> sp.csr_matrix:
    """The one-hot time bin of each session row, in ``session_rows``' order."""
    order = np.lexsort((train.movie_idx, train.timestamp, train.user_idx))
    return sp.csr_matrix(
        (np.ones(order.size, dtype=np.float32), (np.arange(order.size), bins[order])),
        shape=(order.size, n_bins),
    )


def fit(
    train: Ratings,
    name: str,
    *,
    side: tuple[sp.csr_matrix, float] | None = None,
    inputs: tuple[sp.csr_matrix, sp.csr_matrix | None, float] | None = None,
) -> Scorer:
    """Session-EASE with optional feature rows (matrix, beta) and user input columns.

    ``inputs`` is (per-user columns, per-session-row columns or None, weight): the columns join
    the Gram matrix and each user's input row; only the movies' outputs are scored.
    """
    reg, dropout, window, mu = BASE[name]
    x = common.interactions(train, None)
    sessions = common.session_rows(train, None, window)
    sessions.data *= np.float32(math.sqrt(mu))
    blocks = [x, sessions] + ([side[0] * np.float32(math.sqrt(side[1]))] if side else [])
    rows = sp.csr_matrix(sp.vstack(blocks))
    scoring = x
    if inputs is not None:
        users, per_session, weight = inputs
        zero = sp.csr_matrix((sessions.shape[0], users.shape[1]))
        left = [users * weight, zero if per_session is None else per_session * weight]
        if side:
            left.append(sp.csr_matrix((side[0].shape[0], users.shape[1])))
        rows = sp.csr_matrix(sp.hstack([rows, sp.vstack(left)]), dtype=np.float32)
        scoring = sp.csr_matrix(sp.hstack([x, users * weight]), dtype=np.float32)
    weights = np.ascontiguousarray(
        ease_weights(rows, reg, np.float32, dropout=dropout)[:, : x.shape[1]]
    )
    return lambda users: np.asarray(scoring[users] @ weights)


def time_prior(train: Ratings, n_bins: int) -> np.ndarray:
    """z-scored log share of each movie among the ratings of the bins the user was active in."""
    bins = time_bins(train, n_bins)
    counts = np.zeros((train.n_movies, n_bins))
    np.add.at(counts, (train.movie_idx, bins), 1.0)
    counts = (
        counts
        + np.roll(counts, 1, axis=1) * (np.arange(n_bins) > 0)
        + np.roll(counts, -1, axis=1) * (np.arange(n_bins) < n_bins - 1)
    )
    share = counts / (counts.sum(axis=0, keepdims=True) + 1e-9)
    prior = np.asarray(user_time(train, bins, n_bins) @ share.T)
    return zscore(np.log(prior + 1e-6))


def with_prior(score: Scorer, prior: np.ndarray, weight: float) -> Scorer:
    return lambda users: zscore(score(users)) + weight * prior[users]


def demographics(train: Ratings, users: Any) -> sp.csr_matrix:
    """One-hot age decade, gender and occupation of each training user (ml-100k)."""
    table = {
        int(row["user_id"]): (row["age"] // 10, row["gender"], row["occupation"])
        for row in users.iter_rows(named=True)
    }
    names: dict[str, int] = {}
    rows, columns = [], []
    for row, raw in enumerate(train.users.raw_ids.tolist()):
        age, gender, job = table[int(raw)]
        for label in (f"age:{age}", f"gender:{gender}", f"job:{job}"):
            rows.append(row)
            columns.append(names.setdefault(label, len(names)))
    return sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, columns)),
        shape=(train.n_users, len(names)),
    )


Variants = Iterator[tuple[str, Scorer]]
"""A screen's (label, scorer) pairs, each fitted when asked for (one dense matrix at a time)."""


def side_screen(name: str, data: Dataset, train: Ratings) -> Variants:
    for kind in ("g", "gy", "gyt") if data.tags is not None else ("g", "gy"):
        rows = features(train, data, kind)
        for beta in (0.3, 1.0, 3.0):
            yield f"side {kind} beta={beta}", fit(train, name, side=(rows, beta))


def time_screen(name: str, data: Dataset, train: Ratings) -> Variants:
    for n_bins in (20, 100):
        bins = time_bins(train, n_bins)
        users, per_row = user_time(train, bins, n_bins), session_bins(train, bins, n_bins)
        for a in (1.0, 3.0, 10.0):
            yield f"time columns bins={n_bins} a={a}", fit(train, name, inputs=(users, None, a))
            yield (
                f"time columns + session bins, bins={n_bins} a={a}",
                fit(train, name, inputs=(users, per_row, a)),
            )
    plain = fit(train, name)
    for n_bins in (50, 200):
        prior = time_prior(train, n_bins)
        for weight in (0.1, 0.3, 1.0):
            yield f"time prior bins={n_bins} w={weight}", with_prior(plain, prior, weight)


def combo_screen(name: str, data: Dataset, train: Ratings) -> Variants:
    beta = 3.0 if name == "ml-100k" else 30.0
    rows = (features(train, data, "gy"), beta)
    with_side = fit(train, name, side=rows)
    yield f"side gy beta={beta}", with_side
    prior = time_prior(train, 50)
    for weight in (0.3, 1.0):
        yield f"side + time prior bins=50 w={weight}", with_prior(with_side, prior, weight)
    if data.users is not None:
        users = demographics(train, data.users)
        for a in (0.3, 1.0, 3.0):
            yield f"side + demographics a={a}", fit(train, name, side=rows, inputs=(users, None, a))


def frequency_screen(name: str, data: Dataset, train: Ratings) -> Variants:
    reg, dropout, window, mu = BASE[name]
    relative = np.maximum(train.movie_counts(), 1) / max(train.movie_counts().mean(), 1.0)
    for c in (-0.25, -0.1, 0.1, 0.25, 0.5):
        scale = sp.diags((relative**-c).astype(np.float32))
        x = sp.csr_matrix(common.interactions(train, None) @ scale)
        sessions = sp.csr_matrix(common.session_rows(train, None, window) @ scale)
        sessions.data *= np.float32(math.sqrt(mu))
        gram_rows = sp.csr_matrix(sp.vstack([x, sessions]))
        weights = ease_weights(gram_rows, reg, np.float32, dropout=dropout)
        yield f"frequency c={c} output as is", scaled(x, weights, None)
        yield f"frequency c={c} output scaled back", scaled(x, weights, relative**c)


def scaled(x: sp.csr_matrix, weights: np.ndarray, back: np.ndarray | None) -> Scorer:
    if back is None:
        return lambda users: np.asarray(x[users] @ weights)
    return lambda users: np.asarray(x[users] @ weights) * back


SCREENS: dict[str, Callable[[str, Dataset, Ratings], Variants]] = {
    "side": side_screen,
    "time": time_screen,
    "combo": combo_screen,
    "frequency": frequency_screen,
}


def main() -> None:
    screen, name = sys.argv[1], sys.argv[2]
    data, train, validation = inner_part(name)
    print(f"{name}, screen {screen}, seed 0 inner validation", flush=True)
    for label, score in itertools.chain(
        [("session-ease", fit(train, name))], SCREENS[screen](name, data, train)
    ):
        values = measure(score, train, validation)
        print(
            f"{label:52s} validation NDCG@10 {values['ndcg']:.4f} P@10 {values['precision']:.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
