"""Evaluation protocols: one model on one split, fit-and-evaluate, and cross-validation.

Rating metrics (RMSE, MAE, MAPE) score the model's predictions of the test ratings. Ranking
metrics rank the *whole* catalogue for each test user (no sampled negatives), leaving out the
movies the user rated in train (or, for held-out users, in ``fold_in``), and compare the top k
with the user's relevant test movies (rating >= ``relevance_threshold``).

Held-out users (``split.fold_in``) are folded in from their visible ratings: their rating
predictions come from ``model.predict_new_users`` (one batched fold-in where the model has one,
else ``score_new_user`` a person at a time), clipped to the rating scale. Given the movies
table, lists are calibrated to each person's taste as the lists people get are
(:mod:`matinee.calibration`; its default strengths unless ``calibration`` says otherwise).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from matinee.calibration import ListCalibration, genre_weights
from matinee.data.split import Split
from matinee.errors import ConfigError, DataError, NotFittedError
from matinee.evaluation import ranking_metrics, rating_metrics
from matinee.evaluation._scoring import Scored, score_test
from matinee.models.base import Recommender
from matinee.models.side_info import give_movie_features
from matinee.training.loop import FitOptions

__all__ = [
    "RANKING_METRICS",
    "RATING_METRICS",
    "CVResult",
    "EvalResult",
    "EvalSettings",
    "cross_validate",
    "evaluate",
    "fit_and_evaluate",
    "lower_is_better",
]

log = logging.getLogger(__name__)

RATING_METRICS = ("rmse", "mae", "mape")
"""Metrics on predicted ratings (only for models whose ``predicts_ratings`` is true)."""

RANKING_METRICS = ("precision", "recall", "ndcg", "map", "mrr", "hit_rate", "coverage", "novelty")
"""Metrics on full top-k rankings; reported as ``name@k`` (coverage and novelty too)."""

_RATING_FUNCTIONS: dict[str, Callable[[npt.ArrayLike, npt.ArrayLike], float]] = {
    "rmse": rating_metrics.rmse,
    "mae": rating_metrics.mae,
    "mape": rating_metrics.mape,
}

ModelSource = Recommender[Any] | Callable[[], Recommender[Any]]
"""A model, or a function that makes a fresh unfitted one."""


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` (as named in results) is better."""
    base = metric.partition("@")[0]
    return base in RATING_METRICS or base.endswith("seconds")


@dataclass(frozen=True)
class EvalResult:
    """Metrics of one model on one split, plus timings and how much was scored."""

    metrics: Mapping[str, float]
    """Metric name (``rmse``, ``ndcg@10`` ...) -> value."""
    fit_seconds: float | None = None
    """Seconds spent in ``fit`` when measured (:func:`fit_and_evaluate`)."""
    predict_seconds: float | None = None
    """Seconds spent scoring the test set (predictions and full rankings)."""
    n_test_ratings: int = 0
    """Test ratings given a rating prediction."""
    n_ranked_users: int = 0
    """Test users with at least one relevant test movie, whose top k was scored."""
    split_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "split": self.split_name,
            "metrics": dict(self.metrics),
            "fit_seconds": self.fit_seconds,
            "predict_seconds": self.predict_seconds,
            "n_test_ratings": self.n_test_ratings,
            "n_ranked_users": self.n_ranked_users,
        }


@dataclass(frozen=True)
class CVResult:
    """Results over several splits: each fold, and mean and sample standard deviation."""

    folds: tuple[EvalResult, ...]
    mean: Mapping[str, float] = field(init=False)
    """Mean of each metric (and of ``fit_seconds`` / ``predict_seconds`` when measured)."""
    std: Mapping[str, float] = field(init=False)
    """Sample standard deviation (``ddof=1``) of each; 0 with a single fold."""

    def __post_init__(self) -> None:
        if not self.folds:
            raise DataError("cross-validation needs at least one fold")
        table = _fold_table(self.folds)
        object.__setattr__(self, "mean", {k: float(np.mean(v)) for k, v in table.items()})
        object.__setattr__(
            self,
            "std",
            {k: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0 for k, v in table.items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "mean": dict(self.mean),
            "std": dict(self.std),
            "folds": [fold.to_dict() for fold in self.folds],
        }


def _fold_table(folds: Sequence[EvalResult]) -> dict[str, list[float]]:
    """Metric -> values over the folds, for metrics (and timings) present in every fold."""
    rows = []
    for fold in folds:
        row = dict(fold.metrics)
        if fold.fit_seconds is not None:
            row["fit_seconds"] = fold.fit_seconds
        if fold.predict_seconds is not None:
            row["predict_seconds"] = fold.predict_seconds
        rows.append(row)
    shared = [key for key in rows[0] if all(key in row for row in rows)]
    return {key: [row[key] for row in rows] for key in shared}


def _chosen_metrics(metrics: Sequence[str] | None, predicts_ratings: bool) -> list[str]:
    valid = (*RATING_METRICS, *RANKING_METRICS)
    chosen = list(valid) if metrics is None else list(dict.fromkeys(metrics))
    unknown = [name for name in chosen if name not in valid]
    if unknown:
        raise ConfigError(f"unknown metric(s) {unknown}; valid: {', '.join(valid)}")
    if not predicts_ratings:
        chosen = [name for name in chosen if name not in RATING_METRICS]
    return chosen


def _check_split_fits_model(model: Recommender[Any], split: Split) -> None:
    if not model.is_fitted:
        raise NotFittedError(f"{type(model).__name__} is not fitted; fit it before evaluating")
    if model.users_ != split.train.users or model.movies_ != split.train.movies:
        raise DataError(
            f"{type(model).__name__} was fitted on other users or movies than split "
            f"{split.name!r}; evaluate it on the split it was trained on"
        )


@dataclass(frozen=True)
class EvalSettings:
    """How every protocol scores: list length, relevance, metrics and list calibration.

    The public functions build one from their keywords; fit-and-evaluate, cross-validation and
    :func:`~matinee.evaluation.compare.compare` then hand the one object down instead of each
    passing the same five values on.
    """

    k: int = 10
    """Length of each ranked list."""
    relevance_threshold: float = 4.0
    """Test ratings at or above this are the relevant movies."""
    metrics: Sequence[str] | None = None
    """Base names to compute (:data:`RATING_METRICS`, :data:`RANKING_METRICS`); None: all."""
    movies: pl.DataFrame | None = None
    """The movies table; its genres calibrate the lists (none: the model's order)."""
    calibration: ListCalibration | None = None
    """Strengths for new and known users' lists (None: the defaults)."""

    def __post_init__(self) -> None:
        """Refuse a bad ``k`` or threshold when the settings are made, before anything is fitted.

        Raises:
            ConfigError: ``k`` is not a positive integer, or the threshold is not finite.
        """
        k, relevance_threshold = self.k, self.relevance_threshold
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"k must be a positive integer, got {k!r}")
        if not math.isfinite(relevance_threshold):
            raise ConfigError(f"relevance_threshold must be finite, got {relevance_threshold!r}")

    def evaluate(
        self, model: Recommender[Any], split: Split, *, show_progress: bool = False
    ) -> EvalResult:
        """:func:`evaluate` with these settings."""
        k, relevance_threshold = self.k, self.relevance_threshold
        chosen = _chosen_metrics(self.metrics, model.predicts_ratings)
        _check_split_fits_model(model, split)
        if len(split.test) == 0:
            raise DataError(f"split {split.name!r} has no test ratings to evaluate on")
        started = time.perf_counter()
        ranking = [name for name in chosen if name in RANKING_METRICS]
        threshold = relevance_threshold if ranking else math.inf
        lists = self.calibration or ListCalibration()
        calibrated = bool(ranking) and (lists.new_users.active or lists.known_users.active)
        genres = genre_weights(self.movies, split.train.movies) if calibrated else None
        scored = score_test(
            model,
            split,
            k,
            threshold,
            show_progress=show_progress,
            genres=genres,
            calibration=lists,
        )
        seconds = time.perf_counter() - started
        values: dict[str, float] = {}
        for name in chosen:
            if name in RATING_METRICS:
                values[name] = _RATING_FUNCTIONS[name](scored.truths, scored.predictions)
        n_ranked = sum(users.size for users in scored.ranked_users)
        if ranking and n_ranked:
            values.update(_ranking_values(model, split, scored, ranking, k, relevance_threshold))
        elif ranking:
            log.warning(
                "no test user has a rating >= %s: ranking metrics skipped", relevance_threshold
            )
        log.info("evaluated %s on %r in %.2fs: %s", model.name, split.name, seconds, values)
        return EvalResult(
            metrics=values,
            predict_seconds=seconds,
            n_test_ratings=len(split.test) if model.predicts_ratings else 0,
            n_ranked_users=n_ranked,
            split_name=split.name,
        )

    def fit_and_evaluate(
        self, source: ModelSource, split: Split, fit_options: FitOptions | None = None
    ) -> EvalResult:
        """:func:`fit_and_evaluate` with these settings."""
        model = _fresh_model(source)
        give_movie_features(model, self.movies)
        started = time.perf_counter()
        model.fit(split.train, split.validation, options=fit_options)
        fit_seconds = time.perf_counter() - started
        return replace(self.evaluate(model, split), fit_seconds=fit_seconds)

    def cross_validate(
        self,
        make_model: Callable[[], Recommender[Any]],
        splits: Sequence[Split],
        fit_options: FitOptions | None = None,
        on_fold: Callable[[EvalResult], None] | None = None,
    ) -> CVResult:
        """:func:`cross_validate` with these settings."""
        if not splits:
            raise DataError("cross-validation needs at least one split")
        folds = []
        for split in splits:
            result = self.fit_and_evaluate(make_model, split, fit_options)
            folds.append(result)
            if on_fold is not None:
                on_fold(result)
        return CVResult(tuple(folds))


def evaluate(
    model: Recommender[Any],
    split: Split,
    *,
    k: int = 10,
    relevance_threshold: float = 4.0,
    metrics: Sequence[str] | None = None,
    show_progress: bool = False,
    movies: pl.DataFrame | None = None,
    calibration: ListCalibration | None = None,
) -> EvalResult:
    """Score a fitted model on ``split.test`` with rating and full-ranking metrics.

    Args:
        model: A model fitted on ``split.train`` (same id maps).
        split: The split; ``fold_in``, when set, holds the visible ratings of held-out users.
        k: Length of each ranked list.
        relevance_threshold: Test ratings at or above this are the relevant movies.
        metrics: Base names to compute (see :data:`RATING_METRICS`, :data:`RANKING_METRICS`);
            None computes every one that applies to the model.
        show_progress: Draw a progress bar over the ranked users (its label states the memory
            of one scoring block).
        movies: The movies table; its genres calibrate the lists (none: the model's order).
        calibration: Strengths for new and known users' lists (None: the defaults).

    Raises:
        ConfigError: A bad ``k``, threshold or metric name.
        DataError: An empty test set, or a model fitted on other data.
    """
    settings = EvalSettings(k, relevance_threshold, metrics, movies, calibration)
    return settings.evaluate(model, split, show_progress=show_progress)


def _ranking_values(
    model: Recommender[Any],
    split: Split,
    scored: Scored,
    chosen: Sequence[str],
    k: int,
    threshold: float,
) -> dict[str, float]:
    """The chosen ranking metrics (``name@k``) of the collected top-k rows."""
    users = np.concatenate(scored.ranked_users)
    recommended = np.vstack(scored.top)
    test = split.test
    relevant_rows = test.rating >= threshold
    row_of_user = np.full(model.n_users, -1, dtype=np.int64)
    row_of_user[users] = np.arange(users.size)
    rows = row_of_user[test.user_idx[relevant_rows]]
    relevant = ranking_metrics.relevance_matrix(
        rows, test.movie_idx[relevant_rows], users.size, model.n_movies
    )
    values = ranking_metrics.accuracy_metrics(recommended, relevant)
    values["coverage"] = ranking_metrics.catalogue_coverage(recommended, model.n_movies)
    train_users = int(np.count_nonzero(split.train.user_counts()))
    values["novelty"] = ranking_metrics.novelty(
        recommended, split.train.movie_counts(), max(train_users, 1)
    )
    return {f"{name}@{k}": values[name] for name in chosen}


def _fresh_model(source: ModelSource) -> Recommender[Any]:
    model = source if isinstance(source, Recommender) else source()
    if not isinstance(model, Recommender):
        raise ConfigError(f"a model factory returned {type(model).__name__}, not a Recommender")
    return model


def fit_and_evaluate(
    source: ModelSource,
    split: Split,
    *,
    k: int = 10,
    relevance_threshold: float = 4.0,
    metrics: Sequence[str] | None = None,
    fit_options: FitOptions | None = None,
    movies: pl.DataFrame | None = None,
    calibration: ListCalibration | None = None,
) -> EvalResult:
    """Fit a model (or a fresh one from a factory) on ``split.train`` and evaluate it, timed.

    ``split.validation``, when present, is passed to ``fit`` (early stopping); ``movies`` and
    ``calibration`` as :func:`evaluate` takes them.
    """
    settings = EvalSettings(k, relevance_threshold, metrics, movies, calibration)
    return settings.fit_and_evaluate(source, split, fit_options)


def cross_validate(
    make_model: Callable[[], Recommender[Any]],
    splits: Sequence[Split],
    *,
    k: int = 10,
    relevance_threshold: float = 4.0,
    metrics: Sequence[str] | None = None,
    fit_options: FitOptions | None = None,
    on_fold: Callable[[EvalResult], None] | None = None,
    movies: pl.DataFrame | None = None,
    calibration: ListCalibration | None = None,
) -> CVResult:
    """Fit a fresh model on each split (u1-u5 folds, k-fold ...) and summarise the results.

    Args:
        make_model: Returns a new unfitted model each call.
        splits: The folds.
        k: Length of each ranked list.
        relevance_threshold: Test ratings at or above this are relevant.
        metrics: Base metric names, or None for all that apply.
        fit_options: Passed to every ``fit``.
        on_fold: Called with each fold's result as it finishes (progress reporting).
        movies: The movies table; its genres calibrate the lists (see :func:`evaluate`).
        calibration: Strengths for new and known users' lists (None: the defaults).
    """
    settings = EvalSettings(k, relevance_threshold, metrics, movies, calibration)
    return settings.cross_validate(make_model, splits, fit_options, on_fold)
