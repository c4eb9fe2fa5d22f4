"""EASE: a closed-form item-item ranker (Steck, "Embarrassingly Shallow Autoencoders", 2019).

With ``X`` the users x movies interaction matrix and ``P = (X^T X + lambda I)^-1``, the item-item
weights are ``B = I - P / diag(P)`` with a zero diagonal, and a user's scores are ``x_u @ B``. With
``dropout = p > 0`` the penalty becomes ``lambda I + p / (1 - p) diag(X^T X)``: the full-rank
emphasised denoising autoencoder (EDLAE, Steck 2020), which ranks better on MovieLens. With
``activity_exponent = a > 0`` each user's row enters ``X^T X`` weighted by ``n_u ** -a``.

With ``session_window = w > 0`` the model also learns which movies people rate in the same sitting
(session-aware EASE, after the session-aware linear item-item models of Choi et al., "Session-aware
Linear Item-Item Models for Session-based Recommendation", WWW 2021): every positive rating adds a
row ``s_r`` holding the movies its user rated within ``w`` places of it in time order, and the
Gram matrix becomes ``X^T X + mu S^T S`` (``mu`` the ``session_weight``; session rows get no
activity weight, and the dropout penalty uses the diagonal of the whole sum). Scoring is unchanged,
``x_u @ B`` over the whole profile, so new users need no timestamps. Movies rated together explain
each other more than movies years apart in one profile; on MovieLens, whose members rate in
sittings, this lifts NDCG@10 well above plain EASE (see ``benchmarks/results/ranking.md``).

With ``side_info_weight = beta > 0`` and movie features given (:meth:`EASE.use_movie_features`,
genres and release-year spans from :class:`~matinee.models.side_info.MovieFeatures`), each
feature adds a row holding its movies, so the Gram matrix gains ``beta F^T F`` (collective EASE,
after Ning and Karypis, "Sparse Linear Methods with Side Information for Top-N
Recommendations", RecSys 2012): movies that share genres and era explain each other a little
even where few people rated both. Scoring is unchanged and the features are not saved (the
weights hold what they taught), so new users and loading need none.

With ``low_pass_factors = k > 0`` the weights also get GF-CF's ideal low-pass filter (Shen et
al., "How Powerful is Graph Convolution for Recommendation?", CIKM 2021), built from the top
``k`` singular vectors of the normalised user x movie matrix and weighted by
``low_pass_weight`` (see :mod:`matinee.models.neighbours._low_pass`): one item-item matrix still.

Memory: ``B`` is a dense ``n_movies x n_movies`` matrix, ``n_movies^2 * 8`` bytes in float64 (4
in float32). The fit builds the Gram matrix in that one buffer and inverts it in place, so the peak
is about one such matrix plus a column block. On 24 GiB that holds about 56,000 movies in float64
and 80,000 in float32; ``max_movies`` refuses larger fits before any memory is taken, naming the
memory and the ``--min-movie-ratings`` filter that would fit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError
from matinee.models import _ranker_common as ranker_common
from matinee.models._csr import pack_csr, unpack_csr
from matinee.models.base import Recommender
from matinee.models.config import fraction, setting
from matinee.models.neighbours._low_pass import add_low_pass
from matinee.models.search import FloatRange, IntRange, space
from matinee.models.side_info import MovieFeatures
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray

__all__ = ["EASE", "EASEConfig", "ease_weights", "movies_that_fit"]

log = logging.getLogger(__name__)

_GIB = 1024**3
_GRAM_BLOCK = 2048


def movies_that_fit(memory_bytes: float, precision: Literal["float32", "float64"]) -> int:
    """How many movies an EASE fit can hold in ``memory_bytes`` (one dense square matrix)."""
    itemsize = 4 if precision == "float32" else 8
    return int(math.sqrt(memory_bytes / itemsize))


@dataclass(frozen=True, kw_only=True)
class EASEConfig(ranker_common.FoldInConfig):
    """Hyperparameters of :class:`EASE`."""

    rank_popularity_exponent: float = 0.2
    """New-user list scores over (count + 1) to this power (see :class:`FoldInConfig`): 0.2
    keeps NDCG@10 on new users above the unweighted fold-in's and turns most one-taste lists
    to that taste (``benchmarks/results/new_users.md``)."""

    SEARCH_SPACE = space(
        reg=(30.0, 3000.0),
        dropout=FloatRange(0.0, 0.7),
        session_window=IntRange(0, 5),
        session_weight=(0.1, 3.0),
    )
    """Default ranges of ``matinee tune``: plain EASE (window 0), EDLAE (dropout) and session
    rows in one space (``benchmarks/results/ranking_tune.md``). The low-pass fields are left out:
    in the space they cost ml-latest-small's tuned NDCG@10 at 12 trials (0.2809 to 0.2771) and
    moved ml-100k's tuned P@10 within noise; add them with ``--space low_pass_factors=0:64``."""

    reg: float = setting(500.0, low=0.0, low_open=True)
    """L2 penalty ``lambda`` added to the Gram diagonal; larger values trust co-counts less."""

    dropout: float = fraction(0.0)
    """Emphasised-denoising strength ``p`` (EDLAE, Steck 2020): each movie's diagonal also gets
    ``p / (1 - p)`` times its own count, regularising popular movies more. 0 is plain EASE."""

    activity_exponent: float = setting(0.0, low=0.0, high=1.0)
    """Weight each user's row by ``n_u ** -a`` (``n_u`` their positives) in the Gram matrix, so
    that heavy raters do not dominate the co-counts; ``lambda`` is scaled by the mean squared
    weight to stay comparable. 0 is plain EASE."""

    session_window: int = setting(0, low=0)
    """Session rows: each positive rating also adds a training row of the movies its user rated
    within this many places of it in time order (so ``2 w + 1`` movies at most). Needs meaningful
    timestamps; 0 turns session rows off (plain EASE)."""

    session_weight: float = setting(0.5, low=0.0, low_open=True)
    """Weight ``mu`` of the session rows in the Gram matrix ``X^T X + mu S^T S``; larger trusts
    same-sitting co-ratings more than whole-profile ones. Only used when ``session_window`` > 0."""

    side_info_weight: float = setting(0.0, low=0.0)
    """Weight ``beta`` of the movie-feature rows in the Gram matrix ``X^T X + beta F^T F``; 0
    turns them off. Needs movie features before ``fit`` (:meth:`EASE.use_movie_features`;
    ``matinee train``, ``compare`` and ``tune`` give the release's). On ml-latest-small (ratings
    >= 4, 80/20, seeds 0-2) weights of 10-100 picked on inner validation lift NDCG@10 from
    0.2803 to 0.2877; on ml-100k P@10 moves within noise, 0.4304 to 0.4324
    (``benchmarks/results/side_info.md``)."""

    low_pass_factors: int = setting(0, low=0)
    """Singular vectors of the normalised interaction matrix in the low-pass filter added to the
    weights (GF-CF, Shen et al. 2021); a few dozen carry the broad tastes. 0 turns it off."""

    low_pass_weight: float = setting(0.4, low=0.0, low_open=True)
    """The filter's scale relative to EASE's weights (the ratio of their mean absolute entries).
    Only used when ``low_pass_factors`` > 0."""

    precision: Literal["float32", "float64"] = "float32"
    """Float type of the weight matrix, in memory and saved. float32 (the default) halves memory
    and the saved size; on ml-latest-small (random 10% test) its NDCG@10 equals float64's to six
    digits (0.254725). float64 inverts more exactly."""

    max_movies: int = setting(50_000, low=1)
    """Refuse to fit above this many movies (the dense weights need ``n^2`` floats)."""


def ease_weights(
    matrix: sp.csr_matrix,
    regularization: float,
    dtype: npt.DTypeLike = np.float64,
    *,
    dropout: float = 0.0,
) -> npt.NDArray[np.floating[Any]]:
    """The EASE weights ``B`` of a users x movies matrix, computed in one dense buffer.

    The Gram matrix is built column block by column block into a Fortran-ordered buffer that
    LAPACK inverts in place by Cholesky (it is symmetric positive definite as ``lambda`` > 0);
    the upper triangle is then mirrored into the lower one block by block. As the inverse is
    symmetric its transpose is the same matrix in C order, so ``B`` reuses that buffer too.

    The diagonal penalty is ``lambda + p / (1 - p) * G_ii`` (``p`` the dropout; 0 gives EASE).
    """
    n_movies = matrix.shape[1]
    by_movie = matrix.T.tocsr()
    gram = np.empty((n_movies, n_movies), dtype=dtype, order="F")
    for start in range(0, n_movies, _GRAM_BLOCK):
        stop = min(start + _GRAM_BLOCK, n_movies)
        block = matrix[:, start:stop].toarray()
        gram[:, start:stop] = by_movie @ block
    diagonal_indices = np.diag_indices(n_movies)
    gram[diagonal_indices] += regularization + dropout / (1.0 - dropout) * gram[diagonal_indices]
    inverse = _invert_in_place(gram)
    weights: npt.NDArray[np.floating[Any]] = inverse.T if inverse.flags.f_contiguous else inverse
    diagonal = np.diag(weights).copy()
    weights /= -diagonal[np.newaxis, :]
    weights[diagonal_indices] = 0.0
    return weights


def _invert_in_place(gram: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    """The inverse of a symmetric positive definite Fortran-ordered matrix, in its own buffer."""
    potrf, potri = scipy.linalg.lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    factor, info = potrf(gram, lower=0, overwrite_a=1, clean=0)
    if info == 0:
        factor, info = potri(factor, lower=0, overwrite_c=1)
    if info != 0:
        raise ModelFitError(
            f"EASE: the Gram matrix could not be inverted (LAPACK info {info}); "
            "it is not positive definite, so the data or the settings are not finite"
        )
    n_movies = factor.shape[0]
    for start in range(0, n_movies, _GRAM_BLOCK):
        stop = min(start + _GRAM_BLOCK, n_movies)
        factor[stop:, start:stop] = factor[start:stop, stop:].T
        block = factor[start:stop, start:stop]
        block[np.tril_indices(stop - start, -1)] = block.T[np.tril_indices(stop - start, -1)]
    result: npt.NDArray[np.floating[Any]] = factor
    return result


class EASE(Recommender[EASEConfig]):
    """Closed-form item-item ranker; its scores order movies and are not ratings.

    ``predict`` returns the scores clipped to the rating scale only to honour the interface; use
    :func:`matinee.recommend.recommend` for top-k lists.
    """

    name = "ease"
    config_type = EASEConfig
    predicts_ratings: ClassVar[bool] = False

    def __init__(self, config: EASEConfig | None = None) -> None:
        super().__init__(config)
        self.weights_: npt.NDArray[np.floating[Any]] | None = None
        self.user_items_: sp.csr_matrix | None = None
        self.movie_features: MovieFeatures | None = None

    def use_movie_features(self, features: MovieFeatures | None) -> EASE:
        """Give later fits these movie features (``side_info_weight`` > 0 needs them)."""
        self.movie_features = features
        return self

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        n_movies = train.n_movies
        itemsize = 4 if self.config.precision == "float32" else 8
        if n_movies > self.config.max_movies:
            raise ConfigError(self._too_many_movies(train, itemsize))
        self.user_items_ = ranker_common.interactions(train, self.config.positive_threshold)
        weighted, regularization = self._weighted_rows(self.user_items_)
        if self.config.session_window > 0:
            sessions = ranker_common.session_rows(
                train, self.config.positive_threshold, self.config.session_window
            )
            sessions.data *= np.float32(math.sqrt(self.config.session_weight))
            weighted = sp.csr_matrix(sp.vstack([weighted, sessions], format="csr"))
        if self.config.side_info_weight > 0:
            weighted = sp.csr_matrix(sp.vstack([weighted, self._feature_rows(train)], format="csr"))
        log.info(
            "EASE: inverting a %d x %d Gram matrix in place (%.2f GiB)",
            n_movies,
            n_movies,
            n_movies**2 * itemsize / _GIB,
        )
        weights = ease_weights(
            weighted, regularization, np.dtype(self.config.precision), dropout=self.config.dropout
        )
        add_low_pass(
            weights,
            self.user_items_,
            n_factors=self.config.low_pass_factors,
            strength=self.config.low_pass_weight,
            seed=self.config.seed,
        )
        self.weights_ = weights
        return []

    def _feature_rows(self, train: Ratings) -> sp.csr_matrix:
        """The movie-feature rows, scaled so that they add ``beta F^T F`` to the Gram matrix."""
        if self.movie_features is None:
            raise ConfigError(
                "EASE: side_info_weight > 0 needs movie features; call "
                "model.use_movie_features(MovieFeatures.from_movies(dataset.movies)) before fit, "
                "or set side_info_weight=0"
            )
        rows = self.movie_features.matrix_for(train.movies)
        rows.data *= np.float32(math.sqrt(self.config.side_info_weight))
        return rows

    def _too_many_movies(self, train: Ratings, itemsize: int) -> str:
        """The refusal: the memory asked for, and the rating-count filter that would fit."""
        limit = self.config.max_movies
        need = train.n_movies**2 * itemsize / _GIB
        counts = np.sort(train.movie_counts())[::-1]
        least = int(counts[limit]) + 1
        kept = int(np.count_nonzero(counts >= least))
        return (
            f"EASE with {train.n_movies:,} movies needs {need:,.1f} GiB for its dense "
            f"{self.config.precision} weights, over EASEConfig.max_movies={limit:,} "
            f"({limit**2 * itemsize / _GIB:,.1f} GiB). Keep the movies with at least {least:,} "
            f"ratings ({kept:,} movies, {kept**2 * itemsize / _GIB:,.1f} GiB): "
            f"--min-movie-ratings {least} on matinee train / compare, or MinMovieRatings({least}) "
            "from matinee.data.filters; or raise max_movies if the memory is there"
        )

    def _weighted_rows(self, matrix: sp.csr_matrix) -> tuple[sp.csr_matrix, float]:
        """Rows scaled by ``n_u ** -a`` and the matching ``lambda`` (unchanged when ``a`` = 0)."""
        exponent = self.config.activity_exponent
        if exponent == 0.0:
            return matrix, self.config.reg
        counts = np.diff(matrix.indptr).astype(np.float64)
        active = counts > 0
        row_weights = np.ones_like(counts)
        row_weights[active] = counts[active] ** -exponent
        scale = float(np.mean(row_weights[active] ** 2)) if active.any() else 1.0
        weighted = sp.csr_matrix(sp.diags(row_weights.astype(np.float32)) @ matrix)
        return weighted, self.config.reg * scale

    def _state(self) -> tuple[npt.NDArray[np.floating[Any]], sp.csr_matrix]:
        return self._learned(self.weights_, "weights"), self._learned(self.user_items_, "weights")

    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        weights, user_items = self._state()
        rows = user_items[users].tocoo()
        contributions = rows.data * weights[rows.col, movies[rows.row]]
        return np.asarray(
            np.bincount(rows.row, weights=contributions, minlength=users.size), dtype=np.float64
        )

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        weights, user_items = self._state()
        return np.asarray(user_items[users] @ weights)

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        weights, _ = self._state()
        scores = np.zeros(self.n_movies, dtype=weights.dtype)
        for column in ranker_common.fold_in_columns(
            movies, ratings, self.config.positive_threshold
        ).tolist():
            scores += weights[column]  # the sparse row @ weights, summed in the same order
        return scores

    def _rank_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """Liked ratings weighted fully, then popularity damped (see :class:`FoldInConfig`)."""
        weights, user_items = self._state()
        columns, values = ranker_common.weighted_fold_in(movies, ratings, self.config)
        rows = weights[columns]
        rows *= values[:, np.newaxis]
        # the sparse row @ weights, summed row after row in float64 (as ``+=`` per row did)
        scores = np.add.reduce(rows, axis=0, dtype=np.float64)
        return ranker_common.damp_popularity(
            scores,
            ranker_common.known_movie_counts(user_items),
            self.config.rank_popularity_exponent,
        )

    def movie_similarities(self, movie: int) -> npt.NDArray[np.floating[Any]]:
        """How strongly each movie goes with ``movie``: the mean of its EASE row and column."""
        weights, _ = self._state()
        index = int(self._check_indices(movie, self.n_movies, "movie")[0])
        return np.asarray((weights[index, :] + weights[:, index]) / 2.0)

    def _parameters(self) -> dict[str, np.ndarray]:
        weights, user_items = self._state()
        return {"weights": weights, **pack_csr(user_items, "user_items")}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        weights = np.asarray(params["weights"])
        if weights.shape != (self.n_movies, self.n_movies):
            raise ValueError(f"weights have shape {weights.shape}, expected {self.n_movies} square")
        self.weights_ = np.ascontiguousarray(weights, dtype=np.dtype(self.config.precision))
        self.user_items_ = unpack_csr(params, "user_items", (self.n_users, self.n_movies))
