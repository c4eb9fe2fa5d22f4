"""Matrix factorization: the plain dot product and the biased model (SGD or ALS).

Both train through the shared loop; one epoch is a deterministic parallel SGD pass
(:mod:`matinee.models.factorization._sgd`) or, for biased MF with ``solver="als"``, one round of
ridge solves per user and per movie (:mod:`matinee.models.factorization._als`). The learning rate
decays by ``lr_decay`` each epoch, which replaces the notebooks' manual changes between
``fit`` calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.models._rating_common import (
    ArraySnapshot,
    by_user_csr,
    check_finite,
    check_shape,
    clipped_rmse,
    ridge_fold_in,
)
from matinee.models.config import check_range, setting
from matinee.models.factorization._als import als_half_step
from matinee.models.factorization._config import SGDFactorConfig
from matinee.models.factorization._scoring import (
    BiasedFactorModel,
    BiasedFactors,
    FactorTrainer,
    fold_in_rows,
)
from matinee.models.factorization._sgd import (
    BLOCKS,
    aligned_rows,
    block_layout,
    busiest_first,
    dsgd_epoch,
    threads_for,
)
from matinee.models.ranking import RankingSpec
from matinee.models.search import IntRange, space
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = ["BiasedMF", "BiasedMFConfig", "DotProductMF", "DotProductMFConfig"]

F = TypeVar("F", bound="_FactorConfig")


@dataclass(frozen=True, kw_only=True)
class _FactorConfig(SGDFactorConfig):
    """Hyperparameters shared by both factor models (the defaults of the shared block)."""

    def bias_penalty(self) -> float:
        """L2 penalty on the biases at each update (0: this model learns none)."""
        return 0.0

    def solves_by_als(self) -> bool:
        """Whether an epoch is a round of alternating ridge solves instead of an SGD pass."""
        return False


@dataclass(frozen=True, kw_only=True)
class DotProductMFConfig(_FactorConfig):
    """Hyperparameters of :class:`DotProductMF` (measured on ml-100k u1, ml-latest-small 90/10).

    Without biases the factors carry the whole rating, so they get many dimensions, a small
    random start around ``sqrt(mu / k)`` and a long decay: RMSE 0.9225 on ml-100k u1 and 0.8410
    on ml-latest-small seed 0 (bias baseline 0.9536 and 0.8526), against 0.9327 and 0.8532 with
    the shared block's 50 factors, 40 epochs and ``init_std`` 0.1.
    """

    SEARCH_SPACE = space(
        n_factors=(8, 200), learning_rate=(0.002, 0.05), reg=(0.005, 0.2), epochs=IntRange(10, 150)
    )

    epochs: int = 100
    """Passes of SGD over the training ratings."""

    n_factors: int = 200

    init_std: float = 0.05


@dataclass(frozen=True, kw_only=True)
class BiasedMFConfig(_FactorConfig):
    """Hyperparameters of :class:`BiasedMF` (defaults tuned on ml-100k u1-u5)."""

    SEARCH_SPACE = space(
        n_factors=(8, 200),
        learning_rate=(0.002, 0.05),
        reg=(0.01, 0.2),
        reg_bias=(0.001, 0.1),
        epochs=IntRange(20, 150),
    )

    epochs: int = 100
    """Passes of SGD (or rounds of ALS) over the training ratings."""

    n_factors: int = 100

    lr_decay: float = 0.98

    reg: float = 0.08
    """L2 penalty on the factors, applied at each rating's update (ALS: times the count)."""

    init_std: float = 0.04
    """Standard deviation of the initial factors."""

    solver: Literal["sgd", "als"] = "sgd"
    """How to fit: parallel SGD ("sgd") or alternating ridge solves ("als", no learning rate)."""

    reg_bias: float = setting(0.02, low=0.0)
    """L2 penalty on the user and movie biases, applied at each rating's update."""

    def validate(self) -> None:
        """Check the declared ranges, and that ALS gets a positive ``reg``."""
        super().validate()
        if self.solver == "als" and self.reg <= 0.0:
            check_range(self, "reg", low=0.0, low_open=True)

    def bias_penalty(self) -> float:
        """``reg_bias``."""
        return self.reg_bias

    def solves_by_als(self) -> bool:
        """True for ``solver="als"``."""
        return self.solver == "als"


class _FactorTrainer(FactorTrainer[_FactorConfig]):
    """Weights of a (biased) factor model and one epoch of SGD or ALS over them."""

    def __init__(
        self,
        config: _FactorConfig,
        train: Ratings,
        validation: Ratings | None,
        mean: float,
        *,
        use_bias: bool,
    ) -> None:
        super().__init__(config, train, validation, mean if use_bias else 0.0)
        self.use_bias = use_bias
        self.rng = np.random.default_rng(config.seed)
        self.als = config.solves_by_als()
        self.user_rank, self.movie_rank = self._numbering(train)
        k = config.n_factors
        offset = 0.0 if use_bias else float(np.sqrt(max(mean, 0.0) / k))
        self.weights: ArraySnapshot = {
            "user_factors": self._init((train.n_users, k), offset, self.user_rank),
            "movie_factors": self._init((train.n_movies, k), offset, self.movie_rank),
            "user_bias": np.zeros(train.n_users, dtype=np.float32),
            "movie_bias": np.zeros(train.n_movies, dtype=np.float32),
        }
        if self.als:
            self.by_user = by_user_csr(train)
            self.by_movie = by_user_csr(train, movies_first=True)
        else:
            for key in ("user_factors", "movie_factors"):
                self.weights[key] = aligned_rows(self.weights[key])
            self.layout = block_layout(
                self.user_rank[train.user_idx],
                self.movie_rank[train.movie_idx],
                train.rating,
                train.n_users,
                train.n_movies,
                self.rng,
            )
        self.n_train = len(train)

    def _numbering(self, train: Ratings) -> tuple[IndexArray, IndexArray]:
        """Row numbers of users and movies in the weights: busiest first for SGD.

        SGD's random reads then fall on few cache lines: at 25M ratings and 64 factors an epoch
        took 1.4x less time than with the ids as given (ALS keeps them as given).
        """
        if self.als:
            return (
                np.arange(train.n_users, dtype=np.int32),
                np.arange(train.n_movies, dtype=np.int32),
            )
        return busiest_first(train.user_counts()), busiest_first(train.movie_counts())

    def _init(
        self, shape: tuple[int, int], offset: float, rank: IndexArray
    ) -> npt.NDArray[np.float32]:
        """Random initial factors, drawn in id order and stored at each row's ``rank``."""
        noise = np.empty(shape)
        noise[rank] = self.rng.normal(0.0, self.config.init_std, size=shape)
        return np.ascontiguousarray(noise + offset, dtype=np.float32)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        if self.als:
            return self._als_epoch()
        learning_rate = self.config.learning_rate * self.config.lr_decay ** (epoch - 1)
        with threads_for(self.n_train):
            squared = self._sgd_epoch(learning_rate)
        return {"loss": float(np.sqrt(squared / self.n_train)), "learning_rate": learning_rate}

    def _sgd_epoch(self, learning_rate: float) -> float:
        w, layout = self.weights, self.layout
        return dsgd_epoch(
            layout.users,
            layout.movies,
            layout.ratings,
            layout.offsets,
            self.rng.permutation(BLOCKS).astype(np.int64),
            self.config.n_factors,
            w["user_factors"],
            w["movie_factors"],
            w["user_bias"],
            w["movie_bias"],
            self.mean,
            learning_rate,
            self.config.reg,
            self.config.bias_penalty(),
            self.use_bias,
        )

    def _als_epoch(self) -> dict[str, float]:
        w, config = self.weights, self.config
        for own, fixed, csr in (("user", "movie", self.by_user), ("movie", "user", self.by_movie)):
            with threads_for(self.n_train):
                als_half_step(
                    *csr,
                    w[f"{fixed}_factors"],
                    w[f"{fixed}_bias"],
                    self.mean,
                    w[f"{own}_factors"],
                    w[f"{own}_bias"],
                    config.reg,
                    config.bias_penalty(),
                    self.use_bias,
                )
        check_finite("matrix factorization (ALS)", w)
        indptr, movies, ratings = self.by_user
        users = np.repeat(np.arange(indptr.size - 1, dtype=np.int32), np.diff(indptr))
        return {"loss": clipped_rmse(self.predict(users, movies), ratings, self.scale)}

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """Predicted ratings of (user, movie) index pairs (ids as given, not renumbered)."""
        return super().predict(self.user_rank[users], self.movie_rank[movies])

    def factor_weights(self) -> ArraySnapshot:
        """The weights in id order, factor rows trimmed to ``n_factors`` (SGD pads them)."""
        k = self.config.n_factors
        weights: ArraySnapshot = {}
        for key, value in self.weights.items():
            rows = value[self.user_rank if key.startswith("user") else self.movie_rank]
            weights[key] = np.ascontiguousarray(rows[:, :k]) if rows.ndim == 2 else rows
        return weights


class _FactorModel(BiasedFactorModel[F]):
    """What both factor models share: training, scoring, fold-in of factors, parameters."""

    ranking_spec = RankingSpec(reg=10.0, popularity_exponent=0.2)

    _uses_bias: ClassVar[bool]

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        trainer = _FactorTrainer(
            self.config, train, validation, self.global_mean_, use_bias=self._uses_bias
        )
        history = run_epochs(trainer, self.config, options, description=self.name)
        check_finite(self.name, trainer.weights)  # a NaN weight also makes the next loss NaN
        self._set_weight_arrays(trainer.factor_weights())
        return history

    @property
    def _mean(self) -> float:
        return self.global_mean_ if self._uses_bias else 0.0

    def _biased(self) -> BiasedFactors:
        """The weights as one scorer (zero biases and mean for the dot-product model)."""
        return BiasedFactors(
            self._mean, self.user_factors_, self.movie_factors_, self.user_bias_, self.movie_bias_
        )

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        return self._biased().new_user_scores(*self._fold_in(movies, ratings))

    def _score_new_user_at(
        self, movies: IndexArray, ratings: RatingArray, candidates: IndexArray
    ) -> npt.NDArray[np.floating[Any]]:
        return self._biased().new_user_scores_at(*self._fold_in(movies, ratings), candidates)

    def _predict_new_users(
        self, rows: sp.csr_matrix, people: IndexArray, movies: IndexArray
    ) -> npt.NDArray[np.floating[Any]] | None:
        """One compiled ridge fold-in for all rows (:func:`fold_in_rows`), then the pairs."""
        scorer, reg, reg_bias = self._biased(), self.config.reg, self.config.bias_penalty()
        bias, vectors = fold_in_rows(rows, scorer, reg, reg_bias, self._uses_bias)
        folded = scorer._replace(user_vectors=vectors.astype(np.float32), user_bias=bias)
        return folded.predict(people, movies)

    def _targets(self, movies: IndexArray, ratings: RatingArray) -> npt.NDArray[np.float64]:
        """What the fold-in fits: ratings less mean and movie biases, in float64."""
        return ratings.astype(np.float64) - (self._mean + self.movie_bias_[movies].astype(float))

    def _fold_in(self, movies: IndexArray, ratings: RatingArray) -> tuple[float, npt.NDArray[Any]]:
        """Ridge least squares for the new user's factors given the movie factors."""
        count = movies.size
        features = self.movie_factors_[movies]
        penalties = np.full(self.config.n_factors, self.config.reg * count)
        solution = ridge_fold_in(features, self._targets(movies, ratings), penalties)
        return 0.0, solution.astype(np.float32)

    def _parameters(self) -> dict[str, np.ndarray]:
        return {"user_factors": self.user_factors_, "movie_factors": self.movie_factors_}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        k = self.config.n_factors
        self.user_factors_ = check_shape(params, "user_factors", (self.n_users, k))
        self.movie_factors_ = check_shape(params, "movie_factors", (self.n_movies, k))
        self.user_bias_ = np.zeros(self.n_users, dtype=np.float32)
        self.movie_bias_ = np.zeros(self.n_movies, dtype=np.float32)


class DotProductMF(_FactorModel[DotProductMFConfig]):
    """Plain matrix factorization, the notebooks' first model: ``r = p_u . q_i``.

    Trained by deterministic parallel SGD with L2 on the factors. The factors start around
    ``sqrt(mu / k)`` so that the first predictions sit near the mean rating.

    Lists: ``rank_users`` / ``rank_new_user`` use a :class:`~matinee.models.ranking.RankingHead`
    over the movie factors ``q_i``; reg 10, popularity exponent 0.2 (0.0-0.4 measured:
    0.323-0.326 on seed 0, more taste with more). New-user NDCG@10
    (``benchmarks/bench_new_users.py``, hidden-ratings
    users=0.2 hidden=0.5, seeds 0-2): 0.332 on ml-latest-small (ranking by predicted rating:
    0.031; ``popular``: 0.233), 0.400 on ml-100k; known users ml-100k u1-u5: 0.328 (popular 0.198).
    ``predict`` and its RMSE are unchanged. (These list figures were taken with the earlier
    defaults: 50 factors, 40 epochs, ``init_std`` 0.1.)
    """

    name = "mf"
    config_type = DotProductMFConfig
    _uses_bias = False

    def movie_biases(self) -> npt.NDArray[np.floating[Any]] | None:
        """None: the dot-product model learns no biases."""
        return None


class BiasedMF(_FactorModel[BiasedMFConfig]):
    """Biased matrix factorization (Funk SVD): ``r = mu + b_u + b_i + p_u . q_i``.

    ``solver="sgd"`` runs deterministic parallel SGD; ``solver="als"`` alternates ridge solves of
    ``(b_u, p_u)`` per user and ``(b_i, q_i)`` per movie, regularized by rating count.

    Lists: ``rank_users`` / ``rank_new_user`` use a :class:`~matinee.models.ranking.RankingHead`
    over the movie factors ``q_i`` (not the biases); reg 10 (1-1000 measured: 0.259-0.348 on
    seed 0), popularity exponent 0.3 (0.0: 0.348, 0.2: 0.355, 0.4: 0.332; more taste on-genre
    with more). New-user NDCG@10 (``benchmarks/bench_new_users.py``, hidden-ratings
    users=0.2 hidden=0.5, seeds 0-2): 0.360 on ml-latest-small (ranking by predicted rating:
    0.036; ``popular``: 0.233), 0.393 on ml-100k; known users ml-100k u1-u5: 0.322 (popular 0.198).
    ``predict`` and its RMSE are unchanged.
    """

    name = "biased-mf"
    config_type = BiasedMFConfig
    ranking_spec = RankingSpec(reg=10.0, popularity_exponent=0.3)
    _uses_bias = True

    def _fold_in(self, movies: IndexArray, ratings: RatingArray) -> tuple[float, npt.NDArray[Any]]:
        """Ridge least squares for the new user's ``(b_u, p_u)`` given movie factors and biases."""
        count = movies.size
        features = np.hstack([np.ones((count, 1)), self.movie_factors_[movies]])
        penalties = np.full(self.config.n_factors + 1, self.config.reg * count)
        penalties[0] = self.config.reg_bias * count
        solution = ridge_fold_in(features, self._targets(movies, ratings), penalties)
        return float(solution[0]), solution[1:].astype(np.float32)

    def _parameters(self) -> dict[str, np.ndarray]:
        return self._weight_arrays()

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        self._load_weight_arrays(params, self.config.n_factors)
