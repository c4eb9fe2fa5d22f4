"""evaluate / fit_and_evaluate / cross_validate on hand-made splits and on ml-100k u1."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest

from matinee.data.loader import load_dataset
from matinee.data.ratings import Ratings
from matinee.data.split import Split
from matinee.data.split_spec import split_from_spec
from matinee.errors import ConfigError, DataError, NotFittedError
from matinee.evaluation.evaluate import (
    CVResult,
    EvalResult,
    EvalSettings,
    cross_validate,
    evaluate,
    fit_and_evaluate,
    lower_is_better,
)
from matinee.evaluation.rating_metrics import mae, rmse
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.settings import Settings
from matinee.training.loop import EpochRecord, FitOptions


@dataclass(frozen=True, kw_only=True)
class MovieMeanConfig(Config):
    shift: float = 0.0
    """Added to every score."""


class MovieMean(Recommender[MovieMeanConfig]):
    """Each movie's training mean (global mean where unrated); new users add their own offset."""

    name = "movie-mean-test"
    config_type = MovieMeanConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        sums = np.bincount(train.movie_idx, train.rating, minlength=train.n_movies)
        counts = train.movie_counts()
        self.means = np.where(counts > 0, sums / np.maximum(counts, 1), train.mean())
        return []

    def _predict(self, users: np.ndarray, movies: np.ndarray) -> np.ndarray:
        return self.means[movies] + self.config.shift

    def _score_new_user(self, movies: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        return self.means + (ratings.mean() - self.means[movies].mean()) + self.config.shift

    def _parameters(self) -> dict[str, np.ndarray]:
        return {"means": self.means}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        self.means = params["means"]


class MovieMeanRanker(MovieMean):
    name = "movie-mean-ranker-test"
    predicts_ratings: ClassVar[bool] = False


def _split(
    train_rows: list[tuple[int, int, float]],
    test_rows: list[tuple[int, int, float]],
    fold_in: list[tuple[int, int, float]] | None = None,
) -> Split:
    rows = train_rows + test_rows + (fold_in or [])
    users, movies, ratings = zip(*rows, strict=True)
    everything = Ratings.from_raw(users, movies, ratings, rating_scale=(1.0, 5.0))
    n_train, n_test = len(train_rows), len(test_rows)
    positions = np.arange(len(rows))
    return Split(
        train=everything.take(positions < n_train),
        test=everything.take((positions >= n_train) & (positions < n_train + n_test)),
        fold_in=everything.take(positions >= n_train + n_test) if fold_in else None,
        name="hand",
    )


# Users 1-3, movies 10-40. Movie means in train: 10 -> 5, 20 -> 2, 30 -> 4, 40 -> 1.
TRAIN = [(1, 10, 5.0), (2, 20, 2.0), (3, 30, 4.0), (3, 40, 1.0), (2, 10, 5.0)]
TEST = [(1, 30, 5.0), (1, 20, 1.0), (2, 30, 3.0), (3, 10, 4.0)]


def test_hand_computed_evaluation() -> None:
    split = _split(TRAIN, TEST)
    model = MovieMean().fit(split.train)
    result = evaluate(model, split, k=1)
    predicted = np.array([4.0, 2.0, 4.0, 5.0])
    truth = np.array([5.0, 1.0, 3.0, 4.0])
    assert result.metrics["rmse"] == pytest.approx(rmse(truth, predicted))
    assert result.metrics["mae"] == pytest.approx(mae(truth, predicted))
    assert result.metrics["mape"] == pytest.approx(np.mean(np.abs(truth - predicted) / truth))
    # Relevant (>= 4): user 1 -> {30}, user 3 -> {10}. Train movies are excluded:
    # user 1 (rated 10) gets 30 (mean 4); user 3 (rated 30, 40) gets 10 (mean 5). Both hit.
    assert result.n_ranked_users == 2
    assert result.metrics["precision@1"] == 1.0
    assert result.metrics["ndcg@1"] == 1.0
    assert result.metrics["coverage@1"] == pytest.approx(2 / 4)
    assert result.n_test_ratings == 4 and result.split_name == "hand"


def test_train_movies_are_never_recommended() -> None:
    # Without exclusion user 1 would get movie 10 (mean 5), which is in their train set.
    split = _split(TRAIN, [(1, 20, 4.0)])
    result = evaluate(MovieMean().fit(split.train), split, k=1, metrics=["precision"])
    assert result.metrics == {"precision@1": 0.0}
    result = evaluate(MovieMean().fit(split.train), split, k=3, metrics=["recall"])
    assert result.metrics == {"recall@3": 1.0}


def test_predictions_are_clipped_before_rating_metrics() -> None:
    split = _split(TRAIN, TEST)
    result = evaluate(MovieMean(MovieMeanConfig(shift=10.0)).fit(split.train), split)
    assert result.metrics["mae"] == pytest.approx(np.mean(np.abs(np.array([5.0, 1, 3, 4]) - 5.0)))


def test_rankers_get_ranking_metrics_only() -> None:
    split = _split(TRAIN, TEST)
    result = evaluate(MovieMeanRanker().fit(split.train), split, k=2)
    assert not {"rmse", "mae", "mape"} & set(result.metrics)
    assert "ndcg@2" in result.metrics and result.n_test_ratings == 0


def test_fold_in_users_are_scored_as_new_users() -> None:
    # User 4 is held out: visible rating (10, 3.0) is folded in; hidden (30, 5.0), (20, 2.0).
    split = _split(TRAIN, [(4, 30, 5.0), (4, 20, 2.0)], fold_in=[(4, 10, 3.0)])
    model = MovieMean().fit(split.train)
    scores = model.score_new_user([split.train.movies.index(10)], [3.0])
    expected = np.clip(scores[[split.train.movies.index(30), split.train.movies.index(20)]], 1, 5)
    result = evaluate(model, split, k=1)
    assert result.metrics["rmse"] == pytest.approx(rmse([5.0, 2.0], expected))
    # Movie 10 (the visible rating) is excluded; the best remaining is 30, which is relevant.
    assert result.metrics["precision@1"] == 1.0 and result.n_ranked_users == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"k": 0}, ConfigError, "k must be"),
        ({"metrics": ["rmse", "auc"]}, ConfigError, "unknown metric"),
        ({"relevance_threshold": float("nan")}, ConfigError, "relevance_threshold"),
    ],
)
def test_bad_options_are_refused(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    split = _split(TRAIN, TEST)
    with pytest.raises(error, match=message):
        evaluate(MovieMean().fit(split.train), split, **kwargs)  # type: ignore[arg-type]


def test_unfitted_or_foreign_models_are_refused() -> None:
    split = _split(TRAIN, TEST)
    with pytest.raises(NotFittedError, match="not fitted"):
        evaluate(MovieMean(), split)
    other = _split([(9, 90, 3.0), (8, 80, 4.0)], [(9, 80, 4.0)])
    with pytest.raises(DataError, match="other users or movies"):
        evaluate(MovieMean().fit(other.train), split)
    empty = Split(split.train, split.test.take(np.zeros(len(split.test), dtype=bool)), name="e")
    with pytest.raises(DataError, match="no test ratings"):
        evaluate(MovieMean().fit(split.train), empty)


def test_fit_and_evaluate_times_fit_and_accepts_factories() -> None:
    split = _split(TRAIN, TEST)
    from_factory = fit_and_evaluate(MovieMean, split)
    from_model = fit_and_evaluate(MovieMean(), split)
    assert from_factory.fit_seconds is not None and from_factory.fit_seconds >= 0
    assert from_factory.metrics == from_model.metrics
    with pytest.raises(ConfigError, match="not a Recommender"):
        fit_and_evaluate(lambda: "nope", split)  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be"),
        ({"k": True}, "k must be"),
        ({"relevance_threshold": float("inf")}, "relevance_threshold"),
    ],
)
def test_bad_k_or_threshold_is_refused_before_fitting(
    kwargs: dict[str, object], message: str
) -> None:
    made: list[MovieMean] = []

    def factory() -> MovieMean:
        made.append(MovieMean())
        return made[-1]

    with pytest.raises(ConfigError, match=message):
        fit_and_evaluate(factory, _split(TRAIN, TEST), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        EvalSettings(**kwargs)  # type: ignore[arg-type]
    assert made == []


def test_cross_validation_mean_and_std() -> None:
    splits = [_split(TRAIN, TEST), _split(TRAIN, [(1, 30, 5.0), (2, 30, 1.0)])]
    seen: list[EvalResult] = []
    result = cross_validate(MovieMean, splits, metrics=["rmse", "mae"], on_fold=seen.append)
    assert len(result.folds) == 2 and seen == list(result.folds)
    values = [fold.metrics["rmse"] for fold in result.folds]
    assert result.mean["rmse"] == pytest.approx(np.mean(values))
    assert result.std["rmse"] == pytest.approx(np.std(values, ddof=1))
    assert "fit_seconds" in result.mean
    assert set(result.to_dict()) == {"mean", "std", "folds"}
    single = CVResult((result.folds[0],))
    assert single.std["rmse"] == 0.0
    with pytest.raises(DataError, match="at least one"):
        cross_validate(MovieMean, [])


def test_settings_object_is_what_the_keywords_build() -> None:
    splits = [_split(TRAIN, TEST), _split(TRAIN, [(1, 30, 5.0), (2, 30, 1.0)])]
    settings = EvalSettings(k=2, relevance_threshold=3.0, metrics=["mae", "ndcg", "recall"])
    by_object = settings.cross_validate(MovieMean, splits)
    by_keywords = cross_validate(
        MovieMean, splits, k=2, relevance_threshold=3.0, metrics=["mae", "ndcg", "recall"]
    )
    assert [f.metrics for f in by_object.folds] == [f.metrics for f in by_keywords.folds]
    assert set(by_object.folds[0].metrics) == {"mae", "ndcg@2", "recall@2"}
    fitted = MovieMean().fit(splits[0].train)
    assert settings.evaluate(fitted, splits[0]).metrics == by_keywords.folds[0].metrics
    with pytest.raises(ConfigError, match="k must be"):
        EvalSettings(k=0).fit_and_evaluate(MovieMean, splits[0])


def test_lower_is_better() -> None:
    assert lower_is_better("rmse") and lower_is_better("fit_seconds")
    assert not lower_is_better("ndcg@10") and not lower_is_better("coverage@5")


@pytest.fixture(scope="module")
def u1(canonical_split: Split) -> Split:
    return canonical_split


def test_movie_means_on_ml100k_u1(u1: Split) -> None:
    result = fit_and_evaluate(MovieMean, u1)
    # Item means on u1 score an RMSE a little above 1 (Surprise reports about 1.02-1.03).
    assert 0.98 < result.metrics["rmse"] < 1.08
    assert result.n_test_ratings == 20_000
    relevant_users = np.unique(u1.test.user_idx[u1.test.rating >= 4])
    assert result.n_ranked_users == relevant_users.size
    assert 0.0 < result.metrics["coverage@10"] < 0.2
    assert result.metrics["novelty@10"] > 0.0


def test_held_out_users_on_ml100k(settings: Settings) -> None:
    dataset = load_dataset("ml-100k", settings=settings)
    split = split_from_spec(dataset, "hidden-ratings:users=0.1,hidden=0.3", settings=settings)[0]
    result = fit_and_evaluate(MovieMean, split)
    assert split.fold_in is not None
    assert result.n_test_ratings == len(split.test)
    assert 0.8 < result.metrics["rmse"] < 1.2
    assert 0 < result.n_ranked_users <= np.unique(split.test.user_idx).size


def test_rating_metrics_alone_skip_the_ranking_work() -> None:
    split = _split(TRAIN, TEST)
    result = evaluate(MovieMean().fit(split.train), split, metrics=["rmse"])
    assert set(result.metrics) == {"rmse"} and result.n_ranked_users == 0


def test_validation_movies_are_not_recommended_either() -> None:
    # User 1's validation rating of movie 30 (mean 4) must not fill the single slot: 20 does.
    split = _split(TRAIN, [(1, 20, 4.0)])
    users, movies = split.train.users, split.train.movies
    validation = Ratings(
        users.indices([1]),
        movies.indices([30]),
        np.array([4.0]),
        np.zeros(1),
        users,
        movies,
        (1.0, 5.0),
    )
    with_validation = Split(split.train, split.test, validation=validation, name="v")
    result = evaluate(MovieMean().fit(split.train), with_validation, k=1, metrics=["precision"])
    assert result.metrics == {"precision@1": 1.0}
    assert evaluate(MovieMean().fit(split.train), split, k=1, metrics=["precision"]).metrics == {
        "precision@1": 0.0
    }
