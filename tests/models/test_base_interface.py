"""The shared behaviour of Recommender, checked through a minimal model defined here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp

from matinee.data.ratings import Ratings
from matinee.errors import (
    ConfigError,
    DataError,
    ModelFormatError,
    NotFittedError,
    UnknownIdError,
)
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.training.loop import EpochRecord, FitOptions


@dataclass(frozen=True, kw_only=True)
class ItemMeanConfig(Config):
    shift: float = 0.0
    """Added to every prediction (lets tests push predictions off the scale)."""


class ItemMean(Recommender[ItemMeanConfig]):
    """Each movie's mean rating plus a shift."""

    name = "item-mean-test"
    config_type = ItemMeanConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        sums = np.bincount(train.movie_idx, train.rating, minlength=train.n_movies)
        counts = np.maximum(train.movie_counts(), 1)
        self.means = sums / counts + self.config.shift
        return []

    def _predict(self, users: np.ndarray, movies: np.ndarray) -> np.ndarray:
        return self.means[movies]

    def _score_new_user(self, movies: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self.means.copy()

    def _parameters(self) -> dict[str, np.ndarray]:
        return {"means": self.means}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        if params["means"].shape != (self.n_movies,):
            raise ValueError("means has the wrong shape")
        self.means = params["means"]


def test_unfitted_model_says_so(tiny: Ratings) -> None:
    with pytest.raises(NotFittedError, match="not fitted"):
        ItemMean().predict([0], [0])


def test_fit_records_context(tiny: Ratings) -> None:
    model = ItemMean().fit(tiny)
    assert model.users_ == tiny.users and model.movies_ == tiny.movies
    assert model.rating_scale_ == (1.0, 5.0)
    assert model.global_mean_ == pytest.approx(np.mean(tiny.rating))
    assert model.data_fingerprint_ == tiny.fingerprint()


def test_predictions_are_clipped_to_the_scale(tiny: Ratings) -> None:
    high = ItemMean(ItemMeanConfig(shift=10.0)).fit(tiny)
    low = ItemMean(ItemMeanConfig(shift=-10.0)).fit(tiny)
    assert np.all(high.predict([0, 1], [0, 1]) == 5.0)
    assert np.all(low.predict([0, 1], [0, 1]) == 1.0)
    assert high.score_users([0]).max() > 5.0


def test_default_score_users_matches_predict(tiny: Ratings) -> None:
    model = ItemMean().fit(tiny)
    scores = model.score_users([0, 2])
    assert scores.shape == (2, tiny.n_movies)
    np.testing.assert_allclose(scores[1], model.predict(np.full(4, 2), np.arange(4)))


@pytest.mark.parametrize(("users", "movies"), [([99], [0]), ([0], [-1]), ([0], [4])])
def test_unknown_indices_are_listed(tiny: Ratings, users: list[int], movies: list[int]) -> None:
    with pytest.raises(UnknownIdError, match="index"):
        ItemMean().fit(tiny).predict(users, movies)


def test_predict_rejects_mismatched_or_float_indices(tiny: Ratings) -> None:
    model = ItemMean().fit(tiny)
    with pytest.raises(ConfigError, match="as many users as movies"):
        model.predict([0, 1], [0])
    with pytest.raises(ConfigError, match="integers"):
        model.predict([0.5], [0])
    assert model.predict([], []).shape == (0,)


def test_fit_rejects_empty_and_nan(tiny: Ratings) -> None:
    with pytest.raises(DataError, match="empty"):
        ItemMean().fit(tiny.take(np.zeros(len(tiny), dtype=bool)))
    nan = tiny.with_ratings(np.where(np.arange(len(tiny)) == 3, np.nan, tiny.rating))
    with pytest.raises(DataError, match="NaN"):
        ItemMean().fit(nan)


def test_validation_must_share_id_maps(tiny: Ratings) -> None:
    other = Ratings.from_raw([1], [10], [3.0], rating_scale=(1.0, 5.0))
    with pytest.raises(DataError, match="share the id maps"):
        ItemMean().fit(tiny, other)


@pytest.mark.parametrize(
    ("movies", "ratings", "message"),
    [
        ([], [], "at least one"),
        ([0, 1], [4.0], "2 movies but 1"),
        ([0], [9.0], "rating scale"),
        ([0, 0], [3.0, 4.0], "twice"),
    ],
)
def test_new_user_errors(
    tiny: Ratings, movies: list[int], ratings: list[float], message: str
) -> None:
    with pytest.raises(DataError, match=message):
        ItemMean().fit(tiny).score_new_user(movies, ratings)


def test_parameters_round_trip(tiny: Ratings) -> None:
    model = ItemMean(ItemMeanConfig(shift=0.25)).fit(tiny)
    params = model.parameters()
    assert {"user_ids", "movie_ids", "rating_scale", "global_mean", "means"} <= set(params)
    again = ItemMean.from_parameters(model.config, params)
    assert again.users_ == model.users_ and again.rating_scale_ == model.rating_scale_
    np.testing.assert_array_equal(again.score_users([0, 1]), model.score_users([0, 1]))


def test_from_parameters_reports_missing_and_bad_shapes(tiny: Ratings) -> None:
    params = ItemMean().fit(tiny).parameters()
    with pytest.raises(ModelFormatError, match="lack"):
        ItemMean.from_parameters(ItemMeanConfig(), {"means": params["means"]})
    with pytest.raises(ModelFormatError, match="wrong shape"):
        ItemMean.from_parameters(ItemMeanConfig(), {**params, "means": np.zeros(2)})


def test_wrong_config_type_is_refused() -> None:
    with pytest.raises(ConfigError, match="takes a ItemMeanConfig"):
        ItemMean(Config())  # type: ignore[arg-type]


def test_new_users_in_a_block_are_checked_and_scored_row_by_row(tiny: Ratings) -> None:
    model = ItemMean().fit(tiny)
    rows = sp.csr_matrix(([4.0, 2.0, 5.0], [0, 1, 1], [0, 2, 3]), shape=(2, tiny.n_movies))
    single = [model.rank_new_user(r.indices, r.data) for r in rows]
    assert np.array_equal(model.rank_new_users(rows), np.vstack(single))
    bad = {
        "twice": sp.csr_matrix(([4.0, 2.0], [0, 0], [0, 2]), shape=(1, tiny.n_movies)),
        "at least one": sp.csr_matrix(([4.0], [0], [0, 1, 1]), shape=(2, tiny.n_movies)),
        "rating scale": sp.csr_matrix(([9.0], [0], [0, 1]), shape=(1, tiny.n_movies)),
        "movie columns": sp.csr_matrix(([4.0], [0], [0, 1]), shape=(1, tiny.n_movies + 1)),
    }
    for message, matrix in bad.items():
        with pytest.raises(DataError, match=message):
            model.rank_new_users(matrix)


def test_rank_users_into_a_buffer_falls_back_to_a_fresh_array(tiny: Ratings) -> None:
    model = ItemMean().fit(tiny)
    buffer = np.zeros((2, tiny.n_movies), dtype=np.float32)
    assert np.array_equal(model.rank_users([0, 1], out=buffer), model.rank_users([0, 1]))
    with pytest.raises(ConfigError, match="out must be float32"):
        model.rank_users([0, 1], out=buffer.astype(np.float64))
