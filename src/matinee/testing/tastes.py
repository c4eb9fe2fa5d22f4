"""People of one taste: a probe of whether a model's new-user lists follow taste (issue 17).

Each person rated only films of one kind: the most rated films (those a newcomer is most likely
to have seen) among the films mostly of that kind (at least half of their genres in the kind's
family), at 5 and 4 stars in turn. The same rule builds every taste; nothing is picked by hand.
The test suite (``tests/recommend/test_taste.py``) checks :data:`TASTES`; the benchmark that
chose the adaptive calibration (``benchmarks/bench_taste.py``) tuned on
:data:`VALIDATION_TASTES` only, so the tested tastes stay unseen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from matinee.calibration import Strength
from matinee.data.dataset import Dataset
from matinee.models.base import Recommender
from matinee.recommend import recommend_new_user

__all__ = [
    "LIST_LENGTH",
    "RATED_PER_PERSON",
    "TASTES",
    "VALIDATION_TASTES",
    "kind_of",
    "one_taste_person",
    "taste_list",
    "taste_share",
]

TASTES: dict[str, frozenset[str]] = {
    "children's animation": frozenset({"Animation", "Children's"}),
    "horror": frozenset({"Horror", "Thriller"}),
    "film-noir or crime": frozenset({"Film-Noir", "Crime", "Mystery"}),
    "sci-fi": frozenset({"Sci-Fi"}),
}
"""The tested tastes, each as its family of genres: a film is of the kind when one of its
genres is."""

VALIDATION_TASTES: dict[str, frozenset[str]] = {
    "animation": frozenset({"Animation"}),
    "horror only": frozenset({"Horror"}),
    "war": frozenset({"War"}),
    "romance": frozenset({"Romance"}),
    "comedy": frozenset({"Comedy"}),
    "western": frozenset({"Western"}),
}
"""Six more tastes, for choosing settings without looking at :data:`TASTES`."""

RATED_PER_PERSON = 8
LIST_LENGTH = 10


def kind_of(movies: pl.DataFrame, family: frozenset[str], *, mostly: bool = False) -> set[int]:
    """Films with a genre in ``family`` (with ``mostly``: half their genres or more)."""
    chosen = set()
    for movie_id, genres in zip(movies["movie_id"], movies["genres"], strict=True):
        names = list(genres) if genres is not None else []
        inside = sum(name in family for name in names)
        if inside and (not mostly or 2 * inside >= len(names)):
            chosen.add(int(movie_id))
    return chosen


def one_taste_person(data: Dataset, family: frozenset[str]) -> dict[int, float]:
    """The most rated films mostly of the kind, rated 5 and 4 in turn (``{movie_id: rating}``)."""
    kind = np.array(sorted(kind_of(data.movies, family, mostly=True)))
    ratings = data.ratings
    counts = ratings.movie_counts()
    known = kind[np.isin(kind, ratings.movies.raw_ids)]
    order = np.argsort(-counts[ratings.movies.indices(known)], kind="stable")
    chosen = known[order[:RATED_PER_PERSON]]
    return {int(movie): 5.0 if i % 2 == 0 else 4.0 for i, movie in enumerate(chosen)}


def taste_list(
    model: Recommender[Any],
    data: Dataset,
    family: frozenset[str],
    calibration: Strength | None = None,
) -> tuple[Mapping[int, float], pl.DataFrame]:
    """The one-taste person of ``family`` and their list (``calibration`` None: the default)."""
    rated = one_taste_person(data, family)
    lists = recommend_new_user(
        model, rated, LIST_LENGTH, movies=data.movies, calibration=calibration
    )
    return rated, lists


def taste_share(lists: pl.DataFrame, data: Dataset, family: frozenset[str]) -> float:
    """Share of the list's :data:`LIST_LENGTH` slots held by films of the kind."""
    listed = set(lists["movie_id"].to_list())
    return len(listed & kind_of(data.movies, family)) / LIST_LENGTH
