"""Bayesian matrix factorization by Gibbs sampling (libFM's MCMC; Rendle et al. 2019).

The model is biased MF, ``r = mu + b_u + b_i + p_u . q_i``, with normal priors on every
parameter whose means and precisions get normal-gamma hyperpriors (one per group and factor),
and a gamma prior on the noise precision. Each epoch is one Gibbs sweep
(:mod:`matinee.models.factorization._gibbs`): hyperparameters, then users, then movies. No
learning rate and no regularization to tune: the hyperpriors learn how much to shrink, which is
what makes the defaults hold on data of any size.

The prediction is the posterior mean, the average over the sweeps after ``burn_in``. The
average of the products ``P_s Q_s^T`` is not the product of averages, so the sampled factors are
gathered side by side and compressed to rank ``posterior_rank`` by an exact SVD of the stacked
low-rank sum every few sweeps: the fitted model holds one user and one movie matrix, as biased MF
does. Measured on ml-100k u1 (32 factors, 100 sweeps): RMSE 0.9108 averaging every sample's
predictions, 0.9105 from the rank-64 compression.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.models._rating_common import RatingTrainer, check_finite, ridge_fold_in
from matinee.models.config import check_range
from matinee.models.factorization._config import FactorConfig
from matinee.models.factorization._gibbs import (
    gibbs_half_sweep,
    group_hyperparameters,
    residuals,
)
from matinee.models.factorization._scoring import BiasedFactorModel, BiasedFactors
from matinee.models.factorization._sgd import threads_for
from matinee.models.ranking import RankingSpec
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = ["COMPRESS_EVERY", "BayesianMF", "BayesianMFConfig", "compress_product", "sweep_plan"]

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]

COMPRESS_EVERY = 4
"""Sweeps gathered side by side between two compressions of the posterior sum: a speed knob,
not a hyperparameter (each compression is the best rank-``posterior_rank`` approximation of the
sum so far, so it moves predictions only by what that truncation drops)."""


@dataclass(frozen=True, kw_only=True)
class BayesianMFConfig(FactorConfig):
    """Hyperparameters of :class:`BayesianMF` (the priors are learned; these are the budget)."""

    epochs: int = 200
    """Gibbs sweeps over the training ratings (burn-in included)."""

    n_factors: int = 32
    """Length of each sampled user and movie vector."""

    burn_in: int = 20
    """Sweeps discarded before the posterior average starts."""

    init_std: float = 0.1
    """Standard deviation of the initial factors."""

    posterior_rank: int = 64
    """Rank kept of the averaged factor products (the length of the fitted vectors)."""

    reg_fold_in: float = 0.05
    """Ridge penalty (times the rating count) of a new user's ``(b_u, p_u)`` fold-in."""

    def validate(self) -> None:
        """Check ranges."""
        super().validate()
        check_range(self, "burn_in", low=0)
        check_range(self, "init_std", low=0.0)
        check_range(self, "posterior_rank", low=1, high=4096)
        check_range(self, "reg_fold_in", low=0.0, low_open=True)


def compress_product(left: Floats, right: Floats, rank: int) -> tuple[Floats, Floats]:
    """Factors ``(A, B)`` of rank ``rank`` at most with ``A B^T`` closest to ``left right^T``.

    Exact truncated SVD through the small Gram matrices (``n x w`` inputs cost ``n w^2``).
    """
    basis_left, root_left = _gram_basis(left)
    basis_right, root_right = _gram_basis(right)
    u, values, vt = np.linalg.svd(root_left @ root_right.T)
    keep = min(rank, int(np.count_nonzero(values > values[0] * 1e-9)) if values.size else 0)
    scale = np.sqrt(values[:keep])
    return basis_left @ (u[:, :keep] * scale), basis_right @ (vt[:keep].T * scale)


def sweep_plan(config: BayesianMFConfig, train: Ratings) -> str:
    """What a fit will do, said before it starts: sweeps, the work of each, memory, what to lower.

    A sweep passes over every rating once per parameter group (biases and factors, users then
    movies); its time grows with ``len(train) * (n_factors + 1)``.
    """
    k, sweeps = config.n_factors, config.epochs
    parameters = (train.n_users + train.n_movies) * (k + 1)
    width = config.posterior_rank + COMPRESS_EVERY * k
    sums_mb = (train.n_users + train.n_movies) * width * 8 / 1e6
    return (
        f"{sweeps:,} Gibbs sweeps ({min(config.burn_in, sweeps):,} burn-in) over "
        f"{len(train):,} ratings, {k} factors: each sweep draws {parameters:,} parameters "
        f"and visits every rating 2 x {k + 1} times; the posterior sums take {sums_mb:,.0f} MB. "
        "Time grows with sweeps x ratings x factors: fewer sweeps with --set epochs=N (and "
        "burn_in=M below it), fewer factors with --set n_factors=N"
    )


def _gram_basis(matrix: Floats) -> tuple[Floats, Floats]:
    """``(Q, R)`` with orthonormal columns ``Q`` and ``Q R = matrix``, from ``matrix^T matrix``."""
    values, vectors = np.linalg.eigh(matrix.T @ matrix)
    keep = values > max(float(values.max(initial=0.0)) * 1e-12, 1e-300)
    root = np.sqrt(values[keep])
    basis = (matrix @ vectors[:, keep]) / root
    return basis, root[:, None] * vectors[:, keep].T


def _csr(rows: IndexArray, columns: IndexArray, n_rows: int) -> tuple[Any, IndexArray, Any]:
    """Row pointers, columns and positions in the rating order of ratings grouped by ``rows``."""
    order = np.argsort(rows, kind="stable").astype(np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return indptr, np.ascontiguousarray(columns[order], dtype=np.int32), order


class _GibbsTrainer(RatingTrainer[BayesianMFConfig]):
    """The current sample, the running posterior sums, and one Gibbs sweep."""

    def __init__(self, config: BayesianMFConfig, train: Ratings, validation: Ratings | None):
        super().__init__(config, train, validation, train.mean())
        self.train = train
        self.rng = np.random.default_rng(config.seed)
        n_users, n_movies, k = train.n_users, train.n_movies, config.n_factors
        self.by_user = _csr(train.user_idx, train.movie_idx, n_users)
        self.by_movie = _csr(train.movie_idx, train.user_idx, n_movies)
        self.weights: dict[str, npt.NDArray[Any]] = {
            "user_bias": np.zeros(n_users),
            "movie_bias": np.zeros(n_movies),
            "user_factors": self.rng.normal(0.0, config.init_std, (n_users, k)),
            "movie_factors": self.rng.normal(0.0, config.init_std, (n_movies, k)),
            "sum_user_bias": np.zeros(n_users),
            "sum_movie_bias": np.zeros(n_movies),
            "sum_left": np.zeros((n_users, 0)),
            "sum_right": np.zeros((n_movies, 0)),
            "kept": np.zeros(1),
        }

    def train_epoch(self, epoch: int) -> dict[str, float]:
        w, train = self.weights, self.train
        errors = residuals(
            train.user_idx,
            train.movie_idx,
            train.rating,
            self.mean,
            w["user_bias"],
            w["movie_bias"],
            w["user_factors"],
            w["movie_factors"],
        )
        squared = float(errors @ errors)
        alpha = self.rng.gamma(1.0 + errors.size / 2.0, 1.0 / (1.0 + squared / 2.0))
        with threads_for(errors.size):
            self._half_sweep("user", "movie", self.by_user, errors, alpha)
            self._half_sweep("movie", "user", self.by_movie, errors, alpha)
        check_finite("bayes-mf", {key: w[key] for key in ("user_factors", "movie_factors")})
        if epoch > self.config.burn_in:
            self._accumulate()
        return {"loss": float(np.sqrt(squared / errors.size)), "noise_std": alpha**-0.5}

    def _half_sweep(
        self,
        own: str,
        other: str,
        csr: tuple[Any, IndexArray, Any],
        errors: Floats,
        alpha: float,
    ) -> None:
        w = self.weights
        bias, factors = w[f"{own}_bias"], w[f"{own}_factors"]
        bias_prior = group_hyperparameters(bias[:, None], self.rng)[:, 0].copy()
        factor_prior = group_hyperparameters(factors, self.rng)
        normals = self.rng.standard_normal((factors.shape[0], factors.shape[1] + 1))
        gibbs_half_sweep(
            *csr,
            errors,
            bias,
            factors,
            w[f"{other}_factors"],
            bias_prior,
            factor_prior,
            alpha,
            normals,
        )

    def _accumulate(self) -> None:
        """Add the current sample to the posterior sums; compress them when wide enough."""
        w, config = self.weights, self.config
        w["kept"] = w["kept"] + 1.0
        w["sum_user_bias"] = w["sum_user_bias"] + w["user_bias"]
        w["sum_movie_bias"] = w["sum_movie_bias"] + w["movie_bias"]
        w["sum_left"] = np.hstack([w["sum_left"], w["user_factors"]])
        w["sum_right"] = np.hstack([w["sum_right"], w["movie_factors"]])
        width = config.posterior_rank + COMPRESS_EVERY * config.n_factors
        if w["sum_left"].shape[1] >= width:
            w["sum_left"], w["sum_right"] = compress_product(
                w["sum_left"], w["sum_right"], config.posterior_rank
            )

    def posterior(self) -> dict[str, npt.NDArray[np.float32]]:
        """Posterior-mean biases and rank-``posterior_rank`` factors (the last sample if none)."""
        w, rank = self.weights, self.config.posterior_rank
        count = float(w["kept"][0])
        if count == 0:
            parts = (w["user_bias"], w["movie_bias"], w["user_factors"], w["movie_factors"])
        else:
            left, right = compress_product(w["sum_left"], w["sum_right"], rank)
            root = np.sqrt(count)
            biases = (w["sum_user_bias"] / count, w["sum_movie_bias"] / count)
            parts = (*biases, left / root, right / root)
        user_bias, movie_bias, left, right = parts
        return {
            "user_bias": user_bias.astype(np.float32),
            "movie_bias": movie_bias.astype(np.float32),
            "user_factors": _padded(left, rank),
            "movie_factors": _padded(right, rank),
        }

    def predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """Predictions of the posterior mean so far (the current sample before any is kept)."""
        w = self.weights
        count = float(w["kept"][0])
        if count == 0:
            left, right = w["user_factors"], w["movie_factors"]
            biases = w["user_bias"][users] + w["movie_bias"][movies]
        else:
            left, right = w["sum_left"] / count, w["sum_right"]
            biases = (w["sum_user_bias"][users] + w["sum_movie_bias"][movies]) / count
        dot = np.einsum("ij,ij->i", left[users], right[movies])
        predicted: npt.NDArray[np.float64] = self.mean + biases + dot
        return predicted


def _padded(matrix: Floats, rank: int) -> npt.NDArray[np.float32]:
    """``matrix`` with zero columns added up to ``rank`` (a low-rank average keeps fewer)."""
    out = np.zeros((matrix.shape[0], rank), dtype=np.float32)
    width = min(rank, matrix.shape[1])
    out[:, :width] = matrix[:, :width]
    return out


class BayesianMF(BiasedFactorModel[BayesianMFConfig]):
    """Bayesian MF by Gibbs sampling: the posterior mean of ``mu + b_u + b_i + p_u . q_i``.

    Hyperpriors learn the shrinkage, so nothing is tuned per data set; the fitted vectors are a
    rank-``posterior_rank`` factorization of the averaged samples (see the module docstring).
    New users are folded in by ridge least squares on the posterior movie vectors.

    Lists: ``rank_users`` / ``rank_new_user`` use a :class:`~matinee.models.ranking.RankingHead`
    over the posterior movie vectors with biased MF's settings (reg 10, popularity exponent
    0.3; not tuned for this model). ``predict`` and its RMSE are the posterior mean's.
    """

    name = "bayes-mf"
    config_type = BayesianMFConfig
    ranking_spec = RankingSpec(reg=10.0, popularity_exponent=0.3)

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        log.info("%s: %s", self.name, sweep_plan(self.config, train))
        trainer = _GibbsTrainer(self.config, train, validation)
        description = f"{self.name}, {self.config.epochs:,} Gibbs sweeps (fewer: --set epochs=N)"
        history = run_epochs(trainer, self.config, options, description=description)
        self._set_weight_arrays(trainer.posterior())
        return history

    def _biased(self) -> BiasedFactors:
        return BiasedFactors(
            self.global_mean_,
            self.user_factors_,
            self.movie_factors_,
            self.user_bias_,
            self.movie_bias_,
        )

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """Ridge least squares for ``(b_u, p_u)`` given the posterior movie vectors and biases."""
        count = movies.size
        features = np.hstack([np.ones((count, 1)), self.movie_factors_[movies]])
        penalties = np.full(features.shape[1], self.config.reg_fold_in * count)
        targets = ratings - self.global_mean_ - self.movie_bias_[movies]
        solution = ridge_fold_in(features, targets, penalties)
        user = solution[1:].astype(np.float32)
        return self._biased().new_user_scores(float(solution[0]), user)

    def _parameters(self) -> dict[str, np.ndarray]:
        return self._weight_arrays()

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        self._load_weight_arrays(params, self.config.posterior_rank)
