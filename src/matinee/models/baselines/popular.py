"""MostPopular: rank movies by how many people rated them (the baseline every ranker must beat)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.models._ranker_common import RankerConfig, interactions
from matinee.models.base import Recommender
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray

__all__ = ["MostPopular", "PopularConfig"]


@dataclass(frozen=True, kw_only=True)
class PopularConfig(RankerConfig):
    """Hyperparameters of :class:`MostPopular` (only which ratings count as positives)."""


class MostPopular(Recommender[PopularConfig]):
    """Scores each movie by its share of users with a positive interaction; same list for all.

    The scores are popularity shares in [0, 1], not ratings. A new user gets the same list (minus
    what they rated, which :mod:`matinee.recommend` removes).
    """

    name = "popular"
    config_type = PopularConfig
    predicts_ratings: ClassVar[bool] = False

    def __init__(self, config: PopularConfig | None = None) -> None:
        super().__init__(config)
        self.popularity_: npt.NDArray[np.float64] | None = None

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        counts = np.asarray(interactions(train, self.config.positive_threshold).sum(axis=0))
        self.popularity_ = counts.ravel().astype(np.float64) / max(train.n_users, 1)
        return []

    def _scores(self) -> npt.NDArray[np.float64]:
        return self._learned(self.popularity_, "popularity")

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self._scores()[movies]

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return np.broadcast_to(self._scores(), (users.size, self.n_movies))

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        return self._scores().copy()

    def _parameters(self) -> dict[str, np.ndarray]:
        return {"popularity": self._scores()}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        popularity = np.asarray(params["popularity"], dtype=np.float64)
        if popularity.shape != (self.n_movies,):
            raise ValueError(f"popularity has shape {popularity.shape}, expected {self.n_movies}")
        self.popularity_ = popularity
