"""ModelBundle: a saved model loaded once, answering on raw MovieLens ids.

The CLI, the HTTP server and scripts share it. A bundle holds the model, its manifest, the
movies table (titles, years, genres) with training rating counts, and every known user's
training ratings, so it answers without reloading the dataset. It is immutable after
:meth:`ModelBundle.load` and safe to use from several threads at once: every method only
reads the bundle's arrays and the model's parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matinee.calibration import (
    KNOWN_USER_STRENGTH,
    NEW_USER_STRENGTH,
    Calibration,
    Strength,
    calibrate_row,
    check_strength,
    genre_weights_of,
)
from matinee.errors import ConfigError, UnknownIdError
from matinee.models.base import Recommender
from matinee.ranking import top_k_row
from matinee.recommend.similar import movie_similarity_scores
from matinee.service.because import vector_norms
from matinee.service.catalog import MovieCatalog
from matinee.service.rated import UnknownMoviesError, resolve_ratings, resolve_title
from matinee.service.rows import list_rows
from matinee.service.saved import TrainingView, load_training_view
from matinee.service.types import (
    AmbiguousTitleError,
    ListFilters,
    MovieInfo,
    Recommendation,
)
from matinee.settings import Settings
from matinee.store.manifest import Manifest
from matinee.types import FloatArray

__all__ = ["MAX_K", "ModelBundle"]

MAX_K = 1000
"""The longest list a bundle makes."""

REPORT_DIR = "report"


@dataclass(frozen=True, eq=False)
class ModelBundle:
    """A loaded saved model with everything needed to answer on raw ids; see the module doc."""

    name: str
    """The directory's name: the key a server uses for this model."""
    directory: Path
    model: Recommender[Any]
    manifest: Manifest
    catalog: MovieCatalog
    """The model's movies with titles, years, genres and training rating counts."""
    training: TrainingView | None
    """Known users' training ratings; None when neither saved nor found in the release."""

    @classmethod
    def load(
        cls,
        directory: Path | str,
        device: str | None = None,
        *,
        settings: Settings | None = None,
        dataset: str | None = None,
    ) -> ModelBundle:
        """Load a saved model with its manifest, movies table and training view, once.

        Args:
            directory: A folder written by ``matinee train`` or ``save_model``.
            device: Torch device for neural models (``"cpu"``, ``"cuda"``); None: default.
            settings: Where to find the release for models saved without their training view
                (default: from the environment).
            dataset: The release to read what was not saved from, instead of the one the
                manifest names.

        Raises:
            ModelFormatError: a missing, truncated, tampered or too-new saved model.
        """
        from matinee.store.files import load_model, read_manifest

        path = Path(directory)
        manifest = read_manifest(path)
        model = load_model(path, device=device)
        training, table = load_training_view(path, model, manifest, settings, dataset=dataset)
        counts = training.counts if training is not None else np.zeros(model.n_movies, np.int64)
        catalog = MovieCatalog(model.parameters()["movie_ids"], table, counts)
        return cls(path.resolve().name, path, model, manifest, catalog, training)

    # ---- facts ------------------------------------------------------------------------------

    @property
    def predicts_ratings(self) -> bool:
        """Whether the model's predictions are ratings (False for top-k rankers)."""
        return bool(self.model.predicts_ratings)

    @property
    def rating_scale(self) -> tuple[float, float]:
        """Lowest and highest rating of the data the model learned from."""
        low, high = self.model.rating_scale_
        return float(low), float(high)

    @property
    def report_dir(self) -> Path | None:
        """``DIR/report`` when it holds an explain report (``index.html``), else None."""
        report = self.directory / REPORT_DIR
        return report if (report / "index.html").is_file() else None

    def describe(self) -> dict[str, Any]:
        """JSON-ready facts about the model, for listings and ``/models`` pages."""
        manifest = self.manifest
        return {
            "name": self.name,
            "model": manifest.model,
            "config": dict(manifest.config),
            "metrics": dict(manifest.metrics),
            "data_fingerprint": manifest.data_fingerprint,
            "format_version": manifest.format_version,
            "created": manifest.created,
            "n_users": self.model.n_users,
            "n_movies": self.model.n_movies,
            "rating_scale": list(self.rating_scale),
            "predicts_ratings": self.predicts_ratings,
            "has_report": self.report_dir is not None,
        }

    @cached_property
    def genre_weights(self) -> FloatArray | None:
        """Movies x genres weights for calibrated lists (None without genres), made once."""
        return genre_weights_of([info.genres for info in self.catalog.infos])

    @cached_property
    def vector_norms(self) -> FloatArray | None:
        """Movie vector lengths for the "because you rated" reasons, worked out once."""
        return vector_norms(self.model)

    # ---- movies -----------------------------------------------------------------------------

    def search(self, text: str, *, limit: int = 10) -> list[MovieInfo]:
        """Movies whose title matches ``text``: exact, prefix, words, substring, then fuzzy.

        Raises:
            ConfigError: empty text or a limit below 1.
        """
        return [self.catalog.infos[m.index] for m in self.catalog.search(text, limit=limit)]

    def movie(self, movie_id: int) -> MovieInfo:
        """The movie with this raw id; :class:`UnknownIdError` if the model has no such movie."""
        return self.catalog.info(movie_id)

    def find_movie(self, text: str | int) -> MovieInfo:
        """The one movie an id or a title names (exact title, else a unique best match).

        Raises:
            UnknownIdError: an unknown id, or a title matching nothing.
            AmbiguousTitleError: a title naming several movies, with the candidates.
        """
        if isinstance(text, int | np.integer) and not isinstance(text, bool):
            return self.movie(int(text))
        if str(text).strip().isdigit():
            return self.movie(int(str(text).strip()))
        index, candidates = resolve_title(self.catalog, str(text).strip())
        if index is not None:
            return self.catalog.infos[index]
        if candidates:
            raise AmbiguousTitleError(
                {str(text).strip(): [self.catalog.infos[i] for i in candidates]}
            )
        raise UnknownMoviesError([], [str(text).strip()])

    def resolve_ratings(self, ratings: Any) -> dict[int, float]:
        """``{raw movie id: rating}`` from ids or titles (see :mod:`matinee.service.rated`).

        Raises:
            DataError: empty input, booleans or non-numbers as ratings, ratings off the
                model's scale, or the same movie twice.
            UnknownIdError: every unknown id and title, listed.
            AmbiguousTitleError: titles that name several movies, with the candidates.
        """
        return resolve_ratings(self.catalog, ratings, self.rating_scale)

    # ---- lists ------------------------------------------------------------------------------

    def recommend_new_user(
        self,
        ratings: Any,
        *,
        k: int = 10,
        filters: ListFilters | None = None,
        calibration: Strength | None = None,
    ) -> list[Recommendation]:
        """The top ``k`` movies for someone who rated a few movies (ids or titles).

        The model folds the person in; the list is the model's best by its ranking score
        (``rank_new_user``), calibrated to the rated films' genres with strength
        ``calibration``, a number in [0, 1] or ``"auto"`` (None: the new-user default; see
        :mod:`matinee.calibration`), and, for
        rating models, shows the folded-in predicted rating clipped to the scale. Rated movies
        never come back.

        Raises:
            ConfigError: a bad ``k`` or a calibration neither "auto" nor in [0, 1].
        """
        return self.recommend_rated(
            self.resolve_ratings(ratings), k=k, filters=filters, calibration=calibration
        )

    def recommend_rated(
        self,
        rated: Mapping[int, float],
        *,
        k: int = 10,
        filters: ListFilters | None = None,
        calibration: Strength | None = None,
    ) -> list[Recommendation]:
        """:meth:`recommend_new_user` for ratings :meth:`resolve_ratings` already gave.

        ``rated`` maps raw movie ids to ratings; a caller that resolved them once (the HTTP
        route, which reports what each query resolved to) skips resolving them again.

        Raises:
            UnknownIdError: an id the model does not know.
            DataError: no ratings, or ratings off the model's scale.
            ConfigError: a bad ``k`` or a calibration neither "auto" nor in [0, 1].
        """
        _check_k(k)
        strength = NEW_USER_STRENGTH if calibration is None else check_strength(calibration)
        movies = self.catalog.indices(list(rated))
        values = np.asarray(list(rated.values()), dtype=np.float32)
        scores = self.model.rank_new_user(movies, values)
        chosen = self._top(scores, k, movies, filters, (values, strength))
        predicted = None
        if self.predicts_ratings:
            low, high = self.rating_scale
            folded = self.model.score_new_user_at(movies, values, chosen)
            predicted = np.clip(np.asarray(folded, dtype=np.float64), low, high)
        return self._rows(chosen, scores[chosen], predicted, movies, values)

    def recommend_user(
        self,
        user_id: int,
        *,
        k: int = 10,
        filters: ListFilters | None = None,
        calibration: Strength | None = None,
    ) -> list[Recommendation]:
        """The top ``k`` movies for a known user, by ``rank_users``; rated movies never come back.

        ``calibration`` as in :meth:`recommend_new_user` (None: the known-user default).

        Raises:
            UnknownIdError: a user id the model does not know.
            ConfigError: a bad ``k`` or a calibration neither "auto" nor in [0, 1].
        """
        _check_k(k)
        strength = KNOWN_USER_STRENGTH if calibration is None else check_strength(calibration)
        user = self._user_index(user_id)
        scores = np.asarray(self.model.rank_users([user])[0], dtype=np.float64)
        movies, values = self._rated_by(user)
        chosen = self._top(scores, k, movies, filters, (values, strength))
        predicted = None
        if self.predicts_ratings and chosen.size:
            predicted = self.model.predict(np.full(chosen.size, user), chosen)
        return self._rows(chosen, scores[chosen], predicted, movies, values)

    def similar(
        self, movie_id: int, *, k: int = 10, filters: ListFilters | None = None
    ) -> list[Recommendation]:
        """The ``k`` movies most like ``movie_id`` (the movie itself never comes back).

        Scores are the model's item-item weights or the cosine of its movie vectors.

        Raises:
            UnknownIdError: a movie id the model does not know.
            ConfigError: a model without movie vectors or item-item weights.
        """
        _check_k(k)
        index = int(self.catalog.indices([_movie_id(movie_id)])[0])
        scores = np.asarray(movie_similarity_scores(self.model, index), dtype=np.float64)
        chosen = self._top(scores, k, np.array([index]), filters)
        return self._rows(chosen, scores[chosen], None, np.empty(0, np.int64), None)

    def predict(self, user_id: int, movie_ids: Sequence[int]) -> list[float]:
        """Predicted ratings (clipped to the scale) or, for rankers, their unclipped scores.

        Raises:
            UnknownIdError: every unknown user and movie id, listed.
        """
        ids = [_movie_id(m) for m in movie_ids]
        unknown: list[str] = []
        user = None
        try:
            user = self._user_index(user_id)
        except UnknownIdError:
            unknown.append(f"user {user_id}")
        known = np.isin(np.asarray(ids, dtype=np.int64), self.catalog.movie_ids)
        unknown += [f"movie {m}" for m, ok in zip(ids, known, strict=True) if not ok]
        if unknown or user is None:
            raise UnknownIdError("user/movie", list(dict.fromkeys(unknown)))
        movies = self.catalog.indices(ids)
        if not ids:
            return []
        if self.predicts_ratings:
            values = self.model.predict(np.full(movies.size, user), movies)
        else:  # a ranker's score is not a rating: report it unclipped
            values = self.model.score_users([user])[0, movies]
        return [float(v) for v in values]

    # ---- shared steps -----------------------------------------------------------------------

    def _user_index(self, user_id: int) -> int:
        if isinstance(user_id, bool) or not isinstance(user_id, int | np.integer):
            raise UnknownIdError("user", [user_id])
        users = self.model.users_
        if users is None or int(user_id) not in users:
            raise UnknownIdError("user", [user_id])
        return users.index(int(user_id))

    def _rated_by(self, user: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        if self.training is None:
            raise ConfigError(
                f"{self.directory} keeps no training ratings and names no release to read them "
                "from, so a known user's rated movies are unknown; retrain with `matinee train`"
            )
        rated = self.training.rated
        start, end = rated.indptr[user], rated.indptr[user + 1]
        return (
            np.asarray(rated.indices[start:end], dtype=np.int64),
            np.asarray(rated.data[start:end], dtype=np.float32),
        )

    def _top(
        self,
        scores: npt.NDArray[np.floating[Any]],
        k: int,
        excluded: npt.NDArray[np.int64],
        filters: ListFilters | None,
        taste: tuple[npt.NDArray[np.float32], Strength] | None = None,
    ) -> npt.NDArray[np.int64]:
        """Model indices of the best ``k`` scores among allowed, not excluded movies.

        ``taste`` (the ``excluded`` films' ratings and a strength) calibrates the list.
        """
        if filters is not None and filters.min_ratings > 0 and self.training is None:
            raise ConfigError(
                f"min_ratings needs training rating counts, which {self.directory} lacks"
            )
        masked = np.array(scores, dtype=np.float64)
        masked[excluded] = -np.inf
        allowed = self.catalog.allowed(filters)
        if allowed is not None:
            masked[~allowed] = -np.inf
        genres = self.genre_weights
        if taste is None or not taste[1] or genres is None:
            return top_k_row(masked, k)
        return calibrate_row(masked, excluded, taste[0], genres, k, Calibration(taste[1]))

    def _rows(
        self,
        chosen: npt.NDArray[np.int64],
        scores: npt.NDArray[np.floating[Any]],
        predicted: npt.ArrayLike | None,
        rated: npt.NDArray[np.int64],
        ratings: npt.NDArray[np.float32] | None,
    ) -> list[Recommendation]:
        rows = (chosen, scores, predicted, (rated, ratings), self.vector_norms)
        return list_rows(self.model, self.catalog, *rows)


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")


def _movie_id(movie_id: Any) -> int:
    if isinstance(movie_id, bool) or not isinstance(movie_id, int | np.integer):
        raise UnknownIdError("movie", [movie_id])
    return int(movie_id)
