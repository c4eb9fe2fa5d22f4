"""Baselines: the global mean, and user + movie biases solved by alternating least squares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.models._rating_common import LearnedBiases, RatingTrainer, clipped_rmse
from matinee.models.base import Recommender
from matinee.models.config import Config, EpochConfig, setting
from matinee.models.ranking import RankingSpec, TasteRanked, interaction_vectors
from matinee.models.search import space
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = [
    "BiasBaseline",
    "BiasBaselineConfig",
    "GlobalMean",
    "GlobalMeanConfig",
    "fit_biases",
    "fold_in_user_bias",
]

TASTE_VECTORS = 64
"""Singular vectors of the training interactions that the baseline's list scores build on."""


@dataclass(frozen=True, kw_only=True)
class GlobalMeanConfig(Config):
    """GlobalMean has nothing to learn but the mean; only the inherited seed exists."""


class GlobalMean(Recommender[GlobalMeanConfig]):
    """Predicts the mean training rating for every pair: ``r = mu``.

    The floor every model must beat. Its scores tie, so its rankings are arbitrary but valid.
    """

    name = "global-mean"
    config_type = GlobalMeanConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        return []

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return np.full(users.size, self.global_mean_, dtype=np.float64)

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return np.full((users.size, self.n_movies), self.global_mean_, dtype=np.float32)

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        return np.full(self.n_movies, self.global_mean_, dtype=np.float32)

    def _parameters(self) -> dict[str, np.ndarray]:
        return {}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        if params:
            raise ValueError(f"global-mean has no parameters, got {sorted(params)}")


@dataclass(frozen=True, kw_only=True)
class BiasBaselineConfig(EpochConfig):
    """Hyperparameters of :class:`BiasBaseline` (defaults tuned on ml-100k u1-u5)."""

    SEARCH_SPACE = space(reg_users=(0.5, 50.0), reg_movies=(0.5, 50.0))

    epochs: int = 10
    """Rounds of alternating updates (movie biases, then user biases); 10 is plenty."""

    reg_users: float = setting(5.0, low=0.0)
    """Ridge penalty on each user bias: it shrinks users with few ratings towards zero."""

    reg_movies: float = setting(3.0, low=0.0)
    """Ridge penalty on each movie bias: it shrinks rarely rated movies towards zero."""


class _BiasTrainer(RatingTrainer[BiasBaselineConfig]):
    """One ALS round of the bias model: closed-form movie biases, then user biases."""

    def __init__(
        self, config: BiasBaselineConfig, train: Ratings, validation: Ratings | None, mean: float
    ) -> None:
        super().__init__(config, train, validation, mean)
        self.train = train
        self.weights = {
            "user_bias": np.zeros(train.n_users, dtype=np.float64),
            "movie_bias": np.zeros(train.n_movies, dtype=np.float64),
        }
        self.user_counts = train.user_counts().astype(np.float64)
        self.movie_counts = train.movie_counts().astype(np.float64)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        users, movies, w = self.train.user_idx, self.train.movie_idx, self.weights
        residual = self.train.rating - self.mean - w["user_bias"][users]
        sums = np.bincount(movies, residual, minlength=self.train.n_movies)
        w["movie_bias"] = sums / (self.config.reg_movies + self.movie_counts + 1e-12)
        residual = self.train.rating - self.mean - w["movie_bias"][movies]
        sums = np.bincount(users, residual, minlength=self.train.n_users)
        w["user_bias"] = sums / (self.config.reg_users + self.user_counts + 1e-12)
        return {"loss": clipped_rmse(self.predict(users, movies), self.train.rating, self.scale)}

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """``mu + b_u + b_i`` of (user, movie) index pairs, as the biases stand."""
        w = self.weights
        predicted: npt.NDArray[np.float64] = (
            self.mean + w["user_bias"][users] + w["movie_bias"][movies]
        )
        return predicted


def fit_biases(
    train: Ratings, mean: float, config: BiasBaselineConfig | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The bias baseline's ``(b_u, b_i)`` around ``mean`` (its defaults unless ``config``).

    For models that predict a correction on top of the baseline.
    """
    config = config or BiasBaselineConfig()
    trainer = _BiasTrainer(config, train, None, mean)
    for epoch in range(1, config.epochs + 1):
        trainer.train_epoch(epoch)
    w = trainer.weights
    return w["user_bias"].astype(np.float32), w["movie_bias"].astype(np.float32)


def fold_in_user_bias(
    ratings: npt.NDArray[np.floating], expected: npt.NDArray[np.floating], reg_users: float
) -> float:
    """A new user's bias: their summed residual over ``expected`` ratings, over ``reg + n``."""
    residual = np.asarray(ratings, dtype=np.float64) - expected
    return float(residual.sum()) / (reg_users + residual.size)


class BiasBaseline(LearnedBiases[BiasBaselineConfig], TasteRanked[BiasBaselineConfig]):
    """User and movie biases around the global mean: ``r = mu + b_u + b_i``.

    Fitted like Surprise's ``BaselineOnly`` with ALS: each round sets
    ``b_i = sum(r - mu - b_u) / (reg_movies + n_i)`` and then
    ``b_u = sum(r - mu - b_i) / (reg_users + n_u)``, vectorised with ``np.bincount``.

    Biases carry no taste, so the lists (``rank_users`` / ``rank_new_user``) use a
    :class:`~matinee.models.ranking.RankingHead` over the 64 top singular vectors of who rated
    what in training (learned in ``fit``, saved as ``taste_vectors``), reg 3. New-user NDCG@10
    (``benchmarks/bench_new_users.py``, seeds 0-2): 0.381 on ml-latest-small (by predicted
    rating: 0.058; ``popular``: 0.233), 0.407 on ml-100k; known users ml-100k u1-u5: 0.280
    (popular 0.198). ``predict`` and its RMSE are unchanged.
    """

    name = "baseline"
    config_type = BiasBaselineConfig
    ranking_spec = RankingSpec(reg=3.0)

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        trainer = _BiasTrainer(self.config, train, validation, self.global_mean_)
        history = run_epochs(trainer, self.config, options, description="baseline")
        self.user_bias_ = trainer.weights["user_bias"].astype(np.float32)
        self.movie_bias_ = trainer.weights["movie_bias"].astype(np.float32)
        self.taste_vectors_ = interaction_vectors(train, TASTE_VECTORS, self.config.seed)
        return history

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return (
            self.global_mean_ + self.user_bias_[users].astype(np.float64) + self.movie_bias_[movies]
        )

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return (self.global_mean_ + self.user_bias_[users, None]) + self.movie_bias_[None, :]

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        expected = self.global_mean_ + self.movie_bias_[movies]
        user_bias = fold_in_user_bias(ratings, expected, self.config.reg_users)
        scores: npt.NDArray[np.floating[Any]] = (self.global_mean_ + user_bias) + self.movie_bias_
        return scores

    def taste_vectors(self) -> npt.NDArray[np.floating[Any]]:
        """Singular vectors of who rated what in training (biases carry no taste)."""
        return self.taste_vectors_

    def _parameters(self) -> dict[str, np.ndarray]:
        return {**self._bias_arrays(), "taste_vectors": self.taste_vectors_}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        self._load_bias_arrays(params)
        vectors = np.asarray(params.get("taste_vectors", np.zeros((self.n_movies, 0))))
        if vectors.ndim != 2 or vectors.shape[0] != self.n_movies:
            raise ValueError(
                f"taste_vectors has shape {vectors.shape}, expected {self.n_movies} rows"
            )
        self.taste_vectors_ = np.ascontiguousarray(vectors, dtype=np.float32)
