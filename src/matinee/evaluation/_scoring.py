"""Scoring the test users of a split: rating predictions and full top-k rankings.

Lists are ordered by the models' list scores: known users in blocks (``model.rank_users``) of at
most :data:`SCORE_CELLS` cells written into one reused buffer, held-out users folded in from
``split.fold_in`` a block at a time (``model.rank_new_users``). Rating predictions of held-out
users come from ``model.predict_new_users`` (one batched fold-in where the model has one),
clipped to the scale, so a rating model's RMSE does not depend on how it ranks. Movies a user
rated in train, validation or fold-in are never ranked. Given the movies' genres, each block's
lists are calibrated to the person's taste (:mod:`matinee.calibration`) as the lists a person
gets are: the greedy runs per user on the model's top ``pool`` films, rows in parallel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.calibration import Calibration, ListCalibration, calibrate_block
from matinee.data.split import Split
from matinee.evaluation import ranking_metrics
from matinee.logs import ProgressBar, progress
from matinee.models.base import Recommender
from matinee.types import FloatArray, IndexArray

__all__ = ["SCORE_CELLS", "Scored", "score_test"]

log = logging.getLogger(__name__)

SCORE_CELLS = 1 << 24
"""Most cells (users x movies) scored at once: about 64 MB of float32, whatever the catalogue."""


@dataclass
class Scored:
    """What scoring the test users produced: predictions and top-k rows, in test order."""

    predictions: FloatArray
    truths: FloatArray
    ranked_users: list[IndexArray] = field(default_factory=list)
    top: list[IndexArray] = field(default_factory=list)
    genres: FloatArray | None = None
    calibration: ListCalibration = field(default_factory=ListCalibration)

    def add_block(
        self,
        users: IndexArray,
        scores: npt.ArrayLike,
        k: int,
        seen: sp.csr_matrix,
        bar: ProgressBar,
        *,
        rated: sp.csr_matrix,
        new_users: bool,
    ) -> None:
        """Keep the top-k rows of one block of ``users``, never a movie in ``seen``.

        ``rated`` (their ratings) gives each one's taste when the lists are calibrated.
        """
        how = self.calibration.new_users if new_users else self.calibration.known_users
        self.top.append(self._top(np.asarray(scores), k, seen, rated, how))
        self.ranked_users.append(users)
        bar.advance(users.size)

    def _top(
        self,
        scores: npt.NDArray[np.floating[Any]],
        k: int,
        seen: sp.csr_matrix,
        rated: sp.csr_matrix,
        how: Calibration,
    ) -> IndexArray:
        if self.genres is None or not how.active:
            return ranking_metrics.top_k(scores, k, exclude=seen)
        top = calibrate_block(scores, rated, self.genres, k, how, exclude=seen)
        if top.shape[1] < k:
            padding = np.full((top.shape[0], k - top.shape[1]), -1, dtype=np.int32)
            top = np.hstack([top, padding])
        return top


def score_test(
    model: Recommender[Any],
    split: Split,
    k: int,
    threshold: float,
    *,
    show_progress: bool = False,
    genres: FloatArray | None = None,
    calibration: ListCalibration | None = None,
) -> Scored:
    """Rating predictions for every test row and top-k rows for every ranked test user.

    Users with a test rating >= ``threshold`` are ranked (none with an infinite threshold);
    ``show_progress`` draws a bar over them. ``genres`` (movies x genres in the model's order)
    calibrates the lists as ``calibration`` says (its defaults when None).
    """
    test = split.test
    folded = _fold_in_users(split)
    by_fold_in = np.isin(test.user_idx, folded)
    known_rows = np.flatnonzero(~by_fold_in)
    predictions = np.zeros(len(test), dtype=np.float64)
    if model.predicts_ratings and known_rows.size:
        predictions[known_rows] = model.predict(
            test.user_idx[known_rows], test.movie_idx[known_rows]
        )
    scored = Scored(
        predictions=predictions,
        truths=test.rating.astype(np.float64),
        genres=genres,
        calibration=calibration or ListCalibration(),
    )
    relevant_users = np.unique(test.user_idx[test.rating >= threshold])
    known_ranked = relevant_users[~np.isin(relevant_users, folded)]
    n_ranked = known_ranked.size + int(np.isin(folded, relevant_users).sum())
    with progress(_block_text(n_ranked, model.n_movies), n_ranked, enabled=show_progress) as bar:
        _rank_known_users(model, split, known_ranked, k, scored, bar)
        if folded.size:
            _score_fold_in_users(model, split, folded, relevant_users, k, scored, bar)
    return scored


def _block_text(n_users: int, n_movies: int) -> str:
    """What ranking will take, said (and logged) before any block is allocated."""
    rows = min(_rows_per_batch(n_movies), max(n_users, 1))
    megabytes = rows * n_movies * 4 / 1e6
    text = (
        f"ranking {n_users:,} users x {n_movies:,} movies, {rows:,} users a block "
        f"({megabytes:,.0f} MB of scores)"
    )
    log.info("%s", text)
    return text


def _fold_in_users(split: Split) -> IndexArray:
    """Test users whose visible ratings are in ``fold_in`` (scored as new users)."""
    if split.fold_in is None or len(split.fold_in) == 0:
        return np.empty(0, dtype=np.int32)
    users = np.intersect1d(split.fold_in.user_idx, split.test.user_idx)
    return users.astype(np.int32)


def _rows_per_batch(n_movies: int) -> int:
    return max(1, SCORE_CELLS // max(n_movies, 1))


def _blocks(users: IndexArray, n_movies: int) -> Iterator[IndexArray]:
    """``users`` in consecutive blocks of at most :data:`SCORE_CELLS` cells of scores."""
    step = _rows_per_batch(n_movies)
    for start in range(0, users.size, step):
        yield users[start : start + step]


def _rank_known_users(
    model: Recommender[Any],
    split: Split,
    users: IndexArray,
    k: int,
    scored: Scored,
    bar: ProgressBar,
) -> None:
    """Top-k of users the model was trained on, scoring a bounded block of users at a time.

    Movies a user rated in train (or in validation, which the fit saw) are never recommended.
    """
    train = split.train.user_movie_matrix()
    seen = train
    if split.validation is not None:
        seen = (seen + split.validation.user_movie_matrix()).tocsr()
    buffer = np.empty(
        (min(_rows_per_batch(model.n_movies), users.size), model.n_movies), dtype=np.float32
    )
    for block in _blocks(users, model.n_movies):
        scores = model.rank_users(block, out=buffer[: block.size])
        scored.add_block(block, scores, k, seen[block], bar, rated=train[block], new_users=False)


def _score_fold_in_users(
    model: Recommender[Any],
    split: Split,
    users: IndexArray,
    relevant_users: IndexArray,
    k: int,
    scored: Scored,
    bar: ProgressBar,
) -> None:
    """Fold in the held-out users from ``fold_in`` a block at a time; predict and rank them."""
    fold_in = split.fold_in
    if fold_in is None:
        return
    visible = fold_in.user_movie_matrix()
    if model.predicts_ratings:
        _predict_fold_in(model, split, users, visible, scored)
    for block in _blocks(users, model.n_movies):
        block = block[np.isin(block, relevant_users)]
        if block.size == 0:
            continue
        rows = visible[block]
        scores = model.rank_new_users(rows)
        scored.add_block(block, scores, k, rows, bar, rated=rows, new_users=True)


def _predict_fold_in(
    model: Recommender[Any],
    split: Split,
    users: IndexArray,
    visible: sp.csr_matrix,
    scored: Scored,
) -> None:
    """Rating predictions of held-out users' test rows: one batched fold-in, clipped."""
    test = split.test
    rows = np.flatnonzero(np.isin(test.user_idx, users))
    if rows.size:
        people = np.searchsorted(users, test.user_idx[rows])
        scored.predictions[rows] = model.predict_new_users(
            visible[users], people, test.movie_idx[rows]
        )
