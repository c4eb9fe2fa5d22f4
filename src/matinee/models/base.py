"""Recommender: the one interface every model implements.

A subclass sets ``name`` and ``config_type`` and implements the underscored hooks. The public
methods here do the shared work once: checking that the model is fitted, that indices are in
range, clipping predictions to the rating scale, and packing parameters for saving.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matinee.data.ids import IdMap
from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError, ModelFormatError, NotFittedError
from matinee.models._checks import check_fit_input, check_indices, check_new_user, check_new_users
from matinee.models._new_user_rows import pair_scores
from matinee.models.config import Config
from matinee.training.loop import EpochRecord, FitOptions
from matinee.types import IndexArray, RatingArray, ScoreArray

__all__ = ["RESERVED_PARAMETERS", "Recommender"]

C = TypeVar("C", bound=Config)
T = TypeVar("T")

RESERVED_PARAMETERS = ("user_ids", "movie_ids", "rating_scale", "global_mean")
"""Parameter names the base class stores for every model; models must not use them."""


class Recommender(ABC, Generic[C]):
    """A model that learns from ratings and scores (user, movie) pairs.

    Fitted attributes end in ``_``: ``users_`` and ``movies_`` (the id maps of the training
    data), ``rating_scale_``, ``global_mean_``, ``history_`` (one record per epoch for iterative
    models) and ``data_fingerprint_``.
    """

    name: ClassVar[str]
    """Registry name, used by the CLI and in saved models."""

    config_type: ClassVar[type[Config]]
    """The config dataclass of this model."""

    predicts_ratings: ClassVar[bool] = True
    """Whether ``predict`` estimates ratings (False for top-k rankers whose scores are not on the
    rating scale: evaluation then reports ranking metrics only)."""

    def __init__(self, config: C | None = None) -> None:
        if config is None:
            config = self.config_type()  # type: ignore[assignment]
        if not isinstance(config, self.config_type):
            raise ConfigError(
                f"{type(self).__name__} takes a {self.config_type.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config: C = config  # type: ignore[assignment]
        self.users_: IdMap | None = None
        self.movies_: IdMap | None = None
        self.rating_scale_: tuple[float, float] = (0.5, 5.0)
        self.global_mean_: float = 0.0
        self.history_: list[EpochRecord] = []
        self.data_fingerprint_: str = ""

    def __repr__(self) -> str:
        state = "fitted" if self.is_fitted else "not fitted"
        return f"{type(self).__name__}({self.config!r}, {state})"

    # ---- public interface -------------------------------------------------------------------

    @property
    def is_fitted(self) -> bool:
        """Whether ``fit`` (or ``from_parameters``) has run."""
        return self.users_ is not None and self.movies_ is not None

    @property
    def n_users(self) -> int:
        """Users the model knows (size of ``users_``)."""
        return len(self._fitted_users())

    @property
    def n_movies(self) -> int:
        """Movies the model knows (size of ``movies_``)."""
        return len(self._fitted_movies())

    def fit(
        self,
        train: Ratings,
        validation: Ratings | None = None,
        *,
        options: FitOptions | None = None,
    ) -> Self:
        """Learn from ``train``; score ``validation`` each epoch (early stopping) if given.

        The fit is atomic: when it fails (bad input, divergence, an interrupt) the model is left
        exactly as it was before the call, fitted or not.
        """
        check_fit_input(train, validation)
        before = dict(vars(self))
        try:
            self._fit_all(train, validation, options or FitOptions())
        except BaseException:
            vars(self).clear()
            vars(self).update(before)
            raise
        return self

    def _fit_all(self, train: Ratings, validation: Ratings | None, options: FitOptions) -> None:
        """Set the data attributes, learn, check; ``history_`` (the fitted state) comes last."""
        self.users_, self.movies_ = train.users, train.movies
        self.rating_scale_ = train.rating_scale
        self.global_mean_ = train.mean()
        self.data_fingerprint_ = train.fingerprint()
        history = list(self._fit(train, validation, options))
        self._check_parameters_finite()
        self.history_ = history

    def predict(self, users: npt.ArrayLike, movies: npt.ArrayLike) -> RatingArray:
        """Predicted ratings of (user, movie) index pairs, clipped to the rating scale."""
        user_idx = self._check_indices(users, self.n_users, "user")
        movie_idx = self._check_indices(movies, self.n_movies, "movie")
        if user_idx.shape != movie_idx.shape:
            raise ConfigError(
                f"predict needs as many users as movies, got {user_idx.size} and {movie_idx.size}"
            )
        if user_idx.size == 0:
            return np.empty(0, dtype=np.float32)
        low, high = self.rating_scale_
        predicted: RatingArray = np.clip(self._predict(user_idx, movie_idx), low, high).astype(
            np.float32
        )
        return predicted

    def score_users(self, users: npt.ArrayLike) -> ScoreArray:
        """Scores of every movie for each user: shape ``(len(users), n_movies)``.

        For rating models the scores are predicted ratings before clipping, so that ranking is
        not flattened by ties at the top of the scale.
        """
        return self._for_users(self._score_users, users)

    def score_new_user(self, movies: npt.ArrayLike, ratings: npt.ArrayLike) -> ScoreArray:
        """Scores of every movie for someone who is not in the training data.

        Args:
            movies: Indices of the movies the person rated.
            ratings: Their ratings, on the model's rating scale.
        """
        return self._for_new_user(self._score_new_user, movies, ratings)

    def score_new_user_at(
        self, movies: npt.ArrayLike, ratings: npt.ArrayLike, candidates: npt.ArrayLike
    ) -> ScoreArray:
        """``score_new_user(movies, ratings)[candidates]``: the scores of a few movies only.

        What a list needs for the movies it shows; models that can score just those (the
        factor models: ``k`` rows instead of every movie) do, the others score every movie.
        """
        wanted = self._check_indices(candidates, self.n_movies, "movie")
        return self._for_new_user(
            lambda rated, values: self._score_new_user_at(rated, values, wanted), movies, ratings
        )

    def rank_users(self, users: npt.ArrayLike, *, out: ScoreArray | None = None) -> ScoreArray:
        """List scores of every movie for each user: higher first; shape like ``score_users``.

        What orders a top-k list. Rankers return their scores; rating models return a score
        made for ranking (see each model's docstring), which is not a rating. ``out``, a
        float32 ``(len(users), n_movies)`` array, may receive the scores (models that can write
        in place do, which spares a fresh block of memory per call); use the returned array.
        """
        if out is None:
            return self._for_users(self._rank_users, users)
        user_idx = self._check_indices(users, self.n_users, "user")
        if out.shape != (user_idx.size, self.n_movies) or out.dtype != np.float32:
            raise ConfigError(
                f"out must be float32 of shape {(user_idx.size, self.n_movies)}, got "
                f"{out.dtype} {out.shape}"
            )
        written = self._rank_users_into(user_idx, out)
        if written is not None:
            return written
        return np.asarray(self._rank_users(user_idx), dtype=np.float32)

    def rank_new_user(self, movies: npt.ArrayLike, ratings: npt.ArrayLike) -> ScoreArray:
        """List scores of every movie for someone not in the training data (as ``rank_users``).

        ``movies`` and ``ratings`` are what :meth:`score_new_user` takes.
        """
        return self._for_new_user(self._rank_new_user, movies, ratings)

    def rank_new_users(self, rows: sp.csr_matrix | sp.csr_array) -> ScoreArray:
        """``rank_new_user`` of each row of ``rows`` (people x movies CSR of ratings), stacked.

        Models that can fold in a block of people at once do (one matrix product); the others
        fold in one row at a time. Each row is checked as ``rank_new_user`` checks its input.
        """
        matrix = self._check_new_users(rows)
        batch = self._rank_new_users(matrix)
        if batch is not None:
            return np.asarray(batch, dtype=np.float32)
        scores = np.empty((matrix.shape[0], self.n_movies), dtype=np.float32)
        for row in range(matrix.shape[0]):
            cells = slice(matrix.indptr[row], matrix.indptr[row + 1])
            scores[row] = self._rank_new_user(matrix.indices[cells], matrix.data[cells])
        return scores

    def predict_new_users(
        self, rows: sp.csr_matrix | sp.csr_array, people: npt.ArrayLike, movies: npt.ArrayLike
    ) -> RatingArray:
        """Predicted ratings, clipped to the scale, of ``(people[j], movies[j])`` pairs.

        ``people`` index rows of ``rows`` (people x movies CSR of ratings, each row a person not
        in the training data, checked as :meth:`rank_new_users` checks them). Models that can
        fold in a block of people at once do (e.g. one ridge solve per person, compiled, in
        parallel); the others score one person at a time with :meth:`score_new_user`.
        """
        matrix = self._check_new_users(rows)
        person_idx = self._check_indices(people, matrix.shape[0], "person")
        movie_idx = self._check_indices(movies, self.n_movies, "movie")
        if person_idx.shape != movie_idx.shape:
            raise ConfigError(
                f"predict_new_users needs as many people as movies, got {person_idx.size} "
                f"and {movie_idx.size}"
            )
        predicted = self._predict_new_users(matrix, person_idx, movie_idx)
        if predicted is None:
            predicted = pair_scores(matrix, person_idx, movie_idx, self._score_new_user)
        low, high = self.rating_scale_
        clipped: RatingArray = np.clip(predicted, low, high).astype(np.float32)
        return clipped

    def _check_new_users(self, rows: sp.csr_matrix | sp.csr_array) -> sp.csr_matrix:
        """``rows`` as canonical float32 CSR, each row a valid new user (else DataError)."""
        return check_new_users(rows, self.n_movies, self.rating_scale_)

    def _for_users(
        self, kernel: Callable[[IndexArray], npt.ArrayLike], users: npt.ArrayLike
    ) -> ScoreArray:
        """``kernel``'s scores for checked user indices, as float32."""
        user_idx = self._check_indices(users, self.n_users, "user")
        scores: ScoreArray = np.asarray(kernel(user_idx), dtype=np.float32)
        return scores

    def _for_new_user(
        self,
        kernel: Callable[[IndexArray, RatingArray], npt.ArrayLike],
        movies: npt.ArrayLike,
        ratings: npt.ArrayLike,
    ) -> ScoreArray:
        """``kernel``'s scores for a checked new user's ratings, as float32."""
        movie_idx, values = self._check_new_user(movies, ratings)
        scores: ScoreArray = np.asarray(kernel(movie_idx, values), dtype=np.float32)
        return scores

    def _check_new_user(
        self, movies: npt.ArrayLike, ratings: npt.ArrayLike
    ) -> tuple[IndexArray, RatingArray]:
        return check_new_user(movies, ratings, self.n_movies, self.rating_scale_)

    def parameters(self) -> dict[str, np.ndarray]:
        """Every learned array, by name, including the id maps: what a saved model holds."""
        users, movies = self._fitted_users(), self._fitted_movies()
        own = self._parameters()
        clash = set(own) & set(RESERVED_PARAMETERS)
        if clash:
            raise ModelFormatError(f"{self.name} uses reserved parameter names {sorted(clash)}")
        return {
            "user_ids": users.raw_ids,
            "movie_ids": movies.raw_ids,
            "rating_scale": np.asarray(self.rating_scale_, dtype=np.float64),
            "global_mean": np.asarray([self.global_mean_], dtype=np.float64),
            **own,
        }

    @classmethod
    def from_parameters(cls, config: C, params: Mapping[str, np.ndarray]) -> Self:
        """Rebuild a fitted model from :meth:`parameters` output (no code is executed)."""
        missing = [key for key in RESERVED_PARAMETERS if key not in params]
        if missing:
            raise ModelFormatError(f"{cls.name}: parameters lack {missing}")
        model = cls(config)
        model.users_ = IdMap(params["user_ids"], kind="user")
        model.movies_ = IdMap(params["movie_ids"], kind="movie")
        low, high = (float(v) for v in params["rating_scale"])
        model.rating_scale_ = (low, high)
        model.global_mean_ = float(params["global_mean"][0])
        own = {k: np.asarray(v) for k, v in params.items() if k not in RESERVED_PARAMETERS}
        try:
            model._load_parameters(own)
        except (KeyError, ValueError) as error:
            raise ModelFormatError(
                f"{cls.name}: parameters do not fit the model: {error}"
            ) from None
        return model

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]] | None:
        """One vector per movie (``n_movies x d``) for similarity and explanation, or None."""
        return None

    def movie_biases(self) -> npt.NDArray[np.floating[Any]] | None:
        """Each movie's learned bias (``n_movies``), or None when the model has none."""
        return None

    # ---- hooks for subclasses ---------------------------------------------------------------

    @abstractmethod
    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        """Learn the parameters; return the per-epoch history (empty for closed-form models)."""

    @abstractmethod
    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        """Unclipped predictions for valid index pairs."""

    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        """Scores of all movies for each user; override with a matrix product where possible."""
        movies = np.arange(self.n_movies, dtype=np.int32)
        rows = [self._predict(np.full(self.n_movies, u, dtype=np.int32), movies) for u in users]
        return np.vstack(rows) if rows else np.empty((0, self.n_movies), dtype=np.float32)

    @abstractmethod
    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """Fold in a new user from their rated movies and score every movie."""

    def _score_new_user_at(
        self, movies: IndexArray, ratings: RatingArray, candidates: IndexArray
    ) -> npt.NDArray[np.floating[Any]]:
        """Scores of ``candidates`` for a new user: ``_score_new_user``'s unless overridden."""
        return np.asarray(self._score_new_user(movies, ratings))[candidates]

    def _rank_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        """List scores of known users; the scores of ``_score_users`` unless overridden."""
        return self._score_users(users)

    def _rank_users_into(self, users: IndexArray, out: ScoreArray) -> ScoreArray | None:
        """``_rank_users`` written into ``out``, or None where the model cannot (the default)."""
        return None

    def _rank_new_users(self, rows: sp.csr_matrix) -> npt.NDArray[np.floating[Any]] | None:
        """List scores of a block of new users (checked CSR rows), or None: one at a time."""
        return None

    def _predict_new_users(
        self, rows: sp.csr_matrix, people: IndexArray, movies: IndexArray
    ) -> npt.NDArray[np.floating[Any]] | None:
        """Unclipped ratings of (person, movie) pairs of checked new-user rows, or None."""
        return None

    def _rank_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """List scores of a new user; those of ``_score_new_user`` unless overridden."""
        return self._score_new_user(movies, ratings)

    @abstractmethod
    def _parameters(self) -> dict[str, np.ndarray]:
        """The model's own learned arrays."""

    @abstractmethod
    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        """Set the model's own arrays from :meth:`_parameters` output; check their shapes."""

    # ---- shared checks ----------------------------------------------------------------------

    def _fitted_users(self) -> IdMap:
        if self.users_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit first")
        return self.users_

    def _fitted_movies(self) -> IdMap:
        if self.movies_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit first")
        return self.movies_

    def _learned(self, value: T | None, what: str) -> T:
        """A learned part: ``NotFittedError`` before ``fit``, ``ModelFitError`` if it is missing."""
        if value is None:
            self._fitted_movies()
            raise ModelFitError(f"{type(self).__name__}: {what} missing")
        return value

    _check_indices = staticmethod(check_indices)

    def _check_parameters_finite(self) -> None:
        for key, value in self._parameters().items():
            if np.issubdtype(value.dtype, np.floating) and not np.all(np.isfinite(value)):
                raise ModelFitError(
                    f"{self.name}: parameter {key!r} holds NaN or infinite values after fit; "
                    "lower the learning rate or raise the regularization"
                )
