"""Split: the result type of every splitting strategy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matinee.data.ratings import Ratings
from matinee.errors import SplitError

__all__ = ["ColdStart", "Split"]


@dataclass(frozen=True)
class ColdStart:
    """Test ratings whose user or movie has no rating in train (and so cannot be learned)."""

    unseen_user: int
    """Test ratings whose user has no training rating."""
    unseen_movie: int
    """Test ratings whose movie has no training rating."""
    total: int
    """All test ratings."""

    def __str__(self) -> str:
        return (
            f"{self.unseen_user:,} of {self.total:,} test ratings have a user unseen in train, "
            f"{self.unseen_movie:,} a movie unseen in train"
        )


@dataclass(frozen=True)
class Split:
    """Train and test ratings (and optional validation and fold-in sets) over one id space.

    All parts share the id maps of the data they were cut from, so indices agree between them.
    ``fold_in`` holds the visible ratings of held-out users: models do not train on them, they fold
    them in (``score_new_user``) and are scored on ``test``.
    """

    train: Ratings
    test: Ratings
    validation: Ratings | None = None
    fold_in: Ratings | None = None
    name: str = ""

    def __post_init__(self) -> None:
        parts = [p for p in (self.test, self.validation, self.fold_in) if p is not None]
        for part in parts:
            if part.users != self.train.users or part.movies != self.train.movies:
                raise SplitError("every part of a split must share the id maps of train")

    def cold_start(self) -> ColdStart:
        """Count test ratings whose user or movie is unseen in train."""
        seen_users = self.train.user_counts() > 0
        seen_movies = self.train.movie_counts() > 0
        return ColdStart(
            unseen_user=int(np.count_nonzero(~seen_users[self.test.user_idx])),
            unseen_movie=int(np.count_nonzero(~seen_movies[self.test.movie_idx])),
            total=len(self.test),
        )

    def __repr__(self) -> str:
        parts = [f"train={len(self.train):,}", f"test={len(self.test):,}"]
        if self.validation is not None:
            parts.append(f"validation={len(self.validation):,}")
        if self.fold_in is not None:
            parts.append(f"fold_in={len(self.fold_in):,}")
        return f"Split({self.name!r}, {', '.join(parts)})"
