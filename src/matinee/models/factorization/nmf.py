"""Non-negative matrix factorization in two forms.

:class:`MaskedNMF` fits non-negative factors to the observed ratings only (for rating
prediction). :class:`MatrixNMF` is the seed notebooks' form: scikit-learn's ``NMF`` on the
zero-filled ratings matrix, where an unrated cell counts as a zero rating.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls
from sklearn.decomposition import NMF

from matinee.data.ratings import Ratings
from matinee.models._calibration import (
    CalibratedReconstruction,
    Calibration,
    Reconstruction,
    fit_calibration,
)
from matinee.models._offsets import BaselineOffsets
from matinee.models._rating_common import (
    ArraySnapshot,
    by_user_csr,
    check_finite,
    check_shape,
    check_shape_f64,
    clipped_rmse,
)
from matinee.models.base import Recommender
from matinee.models.config import Config, setting
from matinee.models.factorization._als import non_negative_fold_in, non_negative_half_step
from matinee.models.factorization._config import FactorConfig
from matinee.models.factorization._scoring import BiasedFactorModel, BiasedFactors, FactorTrainer
from matinee.models.factorization._sgd import factor_dot, threads_for
from matinee.models.ranking import RankingSpec
from matinee.models.search import FloatRange, IntRange, space
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = ["MaskedNMF", "MaskedNMFConfig", "MatrixNMF", "MatrixNMFConfig"]

log = logging.getLogger(__name__)


def _nnls_fold_in(
    features: npt.NDArray[np.floating], targets: npt.NDArray[np.floating], penalty: float
) -> npt.NDArray[np.float64]:
    """Non-negative least squares ``min ||features @ x - targets||^2 + penalty ||x||^2, x >= 0``."""
    k = features.shape[1]
    rows = np.vstack([features, np.sqrt(penalty) * np.eye(k)]) if penalty > 0 else features
    padded = np.concatenate([targets, np.zeros(k)]) if penalty > 0 else targets
    solution, _ = nnls(np.asarray(rows, dtype=np.float64), np.asarray(padded, dtype=np.float64))
    return np.asarray(solution, dtype=np.float64)


@dataclass(frozen=True, kw_only=True)
class MaskedNMFConfig(FactorConfig):
    """Hyperparameters of :class:`MaskedNMF` (measured on ml-100k u1, ml-latest-small 90/10)."""

    SEARCH_SPACE = space(
        n_factors=(4, 60),
        reg_users=(1.0, 50.0),
        reg_movies=(1.0, 50.0),
        reg_bias=(0.5, 50.0),
        epochs=IntRange(5, 50),
    )

    epochs: int = 20
    """Rounds of alternating solves (users, then movies)."""

    n_factors: int = 15
    """Length of each non-negative user and movie vector."""

    reg_users: float = setting(10.0, low=0.0)
    """Ridge penalty on each user's factors (not scaled by the count, like the baseline's)."""

    reg_movies: float = setting(10.0, low=0.0)
    """Ridge penalty on each movie's factors (not scaled by the count)."""

    init_high: float = setting(0.1, low=0.0, low_open=True)
    """Initial factors are drawn uniformly from ``[0, init_high)``."""

    biased: bool = True
    """Also learn the mean and a signed bias per user and per movie, ``r = mu + b_u + b_i +
    p_u . q_i`` (only the factors are held non-negative)."""

    reg_bias: float = setting(5.0, low=0.0)
    """Ridge penalty on each user and movie bias (not scaled by the count; the bias baseline
    uses 5 and 3)."""


class _MaskedNMFTrainer(FactorTrainer[MaskedNMFConfig]):
    """Alternating ridge solves on the observed cells, factors held non-negative."""

    def __init__(
        self, config: MaskedNMFConfig, train: Ratings, validation: Ratings | None, mean: float
    ) -> None:
        super().__init__(config, train, validation, mean if config.biased else 0.0)
        rng = np.random.default_rng(config.seed)
        k = config.n_factors
        self.weights: ArraySnapshot = {
            "user_factors": rng.uniform(0, config.init_high, (train.n_users, k)).astype(np.float32),
            "movie_factors": rng.uniform(0, config.init_high, (train.n_movies, k)).astype(
                np.float32
            ),
            "user_bias": np.zeros(train.n_users, dtype=np.float32),
            "movie_bias": np.zeros(train.n_movies, dtype=np.float32),
        }
        self.by_user = by_user_csr(train)
        self.by_movie = by_user_csr(train, movies_first=True)
        self.n_train = len(train)
        self.train_users = np.repeat(
            np.arange(train.n_users, dtype=np.int32), np.diff(self.by_user[0])
        )

    def train_epoch(self, epoch: int) -> dict[str, float]:
        config, w = self.config, self.weights
        sides = (
            ("user", "movie", self.by_user, config.reg_users),
            ("movie", "user", self.by_movie, config.reg_movies),
        )
        for own, fixed, csr, reg in sides:
            with threads_for(self.n_train):
                non_negative_half_step(
                    *csr,
                    w[f"{fixed}_factors"],
                    w[f"{fixed}_bias"],
                    self.mean,
                    w[f"{own}_factors"],
                    w[f"{own}_bias"],
                    reg,
                    config.reg_bias,
                    config.biased,
                )
        check_finite("masked NMF", w)
        _, movies, ratings = self.by_user
        return {"loss": clipped_rmse(self.predict(self.train_users, movies), ratings, self.scale)}


class MaskedNMF(BiasedFactorModel[MaskedNMFConfig]):
    """NMF of the observed ratings: ``r = mu + b_u + b_i + p_u . q_i`` with ``p_u, q_i >= 0``.

    Only rated cells enter the loss, so (unlike :class:`MatrixNMF`) a missing rating is not
    read as a zero. The biases carry the rating level and may take any sign, as in biased MF;
    the non-negative factors carry taste (what ``explain`` shows). Each epoch alternates, for
    every user and then every movie, a ridge solve of ``(b, p)`` with ``p >= 0`` by projected
    coordinate descent (:func:`~matinee.models.factorization._als.solve_non_negative`), and a
    new user is folded in by the same solve. RMSE ml-100k u1 0.9317 and ml-latest-small 90/10
    seed 0 0.8417 (bias baseline 0.9536 and 0.8526); the multiplicative updates with
    non-negative offsets this replaces scored 0.9542 and 0.8656. A model saved with those
    offsets (``c_u + d_i + p_u . q_i``, no ``bias_mean``) still loads and answers as it did.

    Lists: ``rank_users`` / ``rank_new_user`` use a :class:`~matinee.models.ranking.RankingHead`
    over 512 random Fourier features of the unit movie vectors (kernel width 0.2); reg 10,
    popularity exponent 0.2. New-user NDCG@10 (``benchmarks/bench_new_users.py``, hidden-ratings
    users=0.2 hidden=0.5, seeds 0-2): 0.366 on ml-latest-small (``popular``: 0.267), 0.433 on
    ml-100k; known users ml-100k u1-u5: 0.355 (popular 0.198); with the multiplicative fit
    0.363, 0.425 and 0.349. The raw factors as the head's features (no kernel, popularity
    exponent 0.3) give one-taste lists more of their kind but NDCG@10 only 0.342, 0.385 and
    0.320. ``predict`` and its RMSE are unaffected by the head.
    """

    name = "nmf"
    config_type = MaskedNMFConfig
    ranking_spec = RankingSpec(
        reg=10.0, kernel_features=512, kernel_width=0.2, popularity_exponent=0.2
    )
    config: MaskedNMFConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        trainer = _MaskedNMFTrainer(self.config, train, validation, self.global_mean_)
        history = run_epochs(trainer, self.config, options, description="nmf")
        self._set_weight_arrays(trainer.weights)
        self.bias_mean_ = trainer.mean
        return history

    def _biased(self) -> BiasedFactors:
        """``mu + b_u + b_i + p_u . q_i`` (``mu`` 0 for a save from before the signed biases)."""
        return BiasedFactors(self.bias_mean_, *self._weight_arrays().values())

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        config = self.config
        free = 1 if config.biased else 0
        features = self.movie_factors_[movies]
        if free:
            features = np.hstack([np.ones((movies.size, 1), dtype=np.float32), features])
        penalties = np.full(free + config.n_factors, config.reg_users)
        penalties[:free] = config.reg_bias
        targets = ratings - self.bias_mean_ - self.movie_bias_[movies]
        solution = non_negative_fold_in(features, targets, penalties, free)
        user_bias = float(solution[0]) if free else 0.0
        return self._biased().new_user_scores(user_bias, solution[free:].astype(np.float32))

    def _parameters(self) -> dict[str, np.ndarray]:
        return {
            **self._weight_arrays(),
            "bias_mean": np.asarray([self.bias_mean_], dtype=np.float64),
        }

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        """The saved arrays; a save without ``bias_mean`` (or biases) predates the signed biases.

        Its offsets held the rating level themselves, so it loads with ``bias_mean`` 0 (and
        zero offsets if it had none) and predicts exactly as before.
        """
        n_users, n_movies, k = self.n_users, self.n_movies, self.config.n_factors
        self.user_factors_ = check_shape(params, "user_factors", (n_users, k))
        self.movie_factors_ = check_shape(params, "movie_factors", (n_movies, k))
        self.user_bias_, self.movie_bias_ = (
            check_shape(params, f"{side}_bias", (count,))
            if f"{side}_bias" in params
            else np.zeros(count, dtype=np.float32)
            for side, count in (("user", n_users), ("movie", n_movies))
        )
        has_mean = "bias_mean" in params
        self.bias_mean_ = float(check_shape_f64(params, "bias_mean", (1,))[0]) if has_mean else 0.0


class _NonNegativeFactors(Recommender[Any]):
    """Shared scoring of ``r = p_u . q_i`` with non-negative user and movie factors."""

    user_factors_: npt.NDArray[np.float32]
    movie_factors_: npt.NDArray[np.float32]

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return factor_dot(users, movies, self.user_factors_, self.movie_factors_)

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        return self.user_factors_[users] @ self.movie_factors_.T

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        """The non-negative movie features."""
        return self.movie_factors_


@dataclass(frozen=True, kw_only=True)
class MatrixNMFConfig(Config):
    """Hyperparameters of :class:`MatrixNMF`, passed to ``sklearn.decomposition.NMF``."""

    SEARCH_SPACE = space(n_factors=(4, 60), reg=FloatRange(0.0, 1.0))

    n_factors: int = setting(15, low=1, high=4096)
    """Number of non-negative features (scikit-learn's ``n_components``)."""

    orientation: Literal["user-movie", "movie-user"] = "user-movie"
    """Which matrix to factor: users x movies, or movies x users (the notebooks used both)."""

    reg: float = setting(0.0, low=0.0)
    """Regularization strength on both factors (scikit-learn's ``alpha_W``; ``alpha_H="same"``)."""

    l1_ratio: float = setting(0.0, low=0.0, high=1.0)
    """Mix of L1 (1.0) and L2 (0.0) in the regularization."""

    init: Literal["random", "nndsvd", "nndsvda", "nndsvdar"] = "random"
    """How scikit-learn initialises the factors ("random" uses ``seed``)."""

    max_iter: int = setting(200, low=1)
    """Most solver iterations."""

    tol: float = setting(1e-4, low=0.0)
    """Stopping tolerance of the solver."""


class MatrixNMF(CalibratedReconstruction, _NonNegativeFactors):
    """The notebooks' NMF: factor the zero-filled ratings matrix, ``R ~ W H`` with ``W, H >= 0``.

    The reconstruction ``x = w_u . h_i`` also reproduces the zeros of unrated cells, so it is
    no rating (RMSE ml-100k u1 2.55, ml-latest-small 90/10 seed 0 2.77). Ratings are the bias
    baseline plus a linear correction on the reconstruction fitted on ratings held out of an
    inner factorization (:mod:`matinee.models._calibration`): RMSE 0.9442 and 0.8518 (bias
    baseline 0.9536 and 0.8526). The factors are those of all the training ratings; they serve
    exploration and ``explain``. Lists (``rank_users`` / ``rank_new_user``) rank by the
    reconstruction itself, as before. A new user is folded in like ``NMF.transform``:
    non-negative least squares of the zero-filled row against the movie features. A model saved
    before the calibration predicts its raw reconstruction, as it did.
    """

    name = "nmf-matrix"
    config_type = MatrixNMFConfig
    config: MatrixNMFConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        self.calibration_ = fit_calibration(
            train, lambda part: self._factorize(part)[0], self.config.seed
        )
        _, solver = self._factorize(train)
        self.reconstruction_err_ = float(solver.reconstruction_err_)
        self.n_iter_ = int(solver.n_iter_)
        return []

    def _factorize(self, train: Ratings) -> tuple[Reconstruction, NMF]:
        """Factor ``train``'s zero-filled matrix; set the factors; the fitted cells and solver."""
        config = self.config
        matrix = train.user_movie_matrix().astype(np.float64)
        if config.orientation == "movie-user":
            matrix = matrix.T.tocsr()
        solver = NMF(
            n_components=config.n_factors,
            init=config.init,
            alpha_W=config.reg,
            alpha_H="same",
            l1_ratio=config.l1_ratio,
            max_iter=config.max_iter,
            tol=config.tol,
            random_state=config.seed,
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = solver.fit_transform(matrix)
        for warning in caught:
            log.warning("nmf-matrix: %s", warning.message)
        columns = solver.components_.T
        users, movies = (rows, columns) if config.orientation == "user-movie" else (columns, rows)
        self.user_factors_ = np.ascontiguousarray(users, dtype=np.float32)
        self.movie_factors_ = np.ascontiguousarray(movies, dtype=np.float32)
        return self._reconstruction(), solver

    def _reconstruction(self) -> Reconstruction:
        """The cells of ``W H`` and each user's and movie's mean over all cells."""
        users, movies = self.user_factors_.astype(np.float64), self.movie_factors_
        return Reconstruction(
            lambda u, i: factor_dot(u, i, self.user_factors_, self.movie_factors_),
            users @ movies.sum(axis=0) / len(movies),
            movies @ users.sum(axis=0) / len(users),
        )

    def _raw_rows(self, users: IndexArray) -> npt.NDArray[np.float64]:
        return np.asarray(self.user_factors_[users] @ self.movie_factors_.T, dtype=np.float64)

    def _raw_new_user(
        self, movies: IndexArray, ratings: npt.NDArray[np.floating]
    ) -> npt.NDArray[np.float64]:
        """The new user's reconstructed row: NNLS of the zero-filled row on the movie features."""
        row = np.zeros(self.n_movies, dtype=np.float64)
        row[movies] = ratings
        user = _nnls_fold_in(self.movie_factors_, row, 0.0)
        return np.asarray(self.movie_factors_ @ user.astype(np.float32), dtype=np.float64)

    def _parameters(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self.user_factors_,
            "movie_factors": self.movie_factors_,
            "reconstruction_err": np.asarray([self.reconstruction_err_], dtype=np.float64),
            **self.calibration_.parameters(),
        }

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        k = self.config.n_factors
        self.user_factors_ = check_shape(params, "user_factors", (self.n_users, k))
        self.movie_factors_ = check_shape(params, "movie_factors", (self.n_movies, k))
        error = np.asarray(params["reconstruction_err"], dtype=np.float64)
        if error.shape != (1,):
            raise ValueError(f"reconstruction_err has shape {error.shape}, expected (1,)")
        self.reconstruction_err_ = float(error[0])
        offsets = BaselineOffsets.from_parameters(params, self.n_users, self.n_movies)
        self.calibration_ = Calibration.load(params, offsets)
