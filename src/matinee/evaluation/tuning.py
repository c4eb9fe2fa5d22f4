"""Hyperparameter search: Optuna's TPE over a model's search space, on inner splits only.

The protocol, so that the test part is never looked at while searching:

1. The outer split's training part is cut again: one random validation share
   (``inner_folds=1``) or ``inner_folds`` folds. Every trial fits on the inner training part and
   is scored on the inner held-out part; with folds, the trial's value is the mean.
2. Each epoch's validation RMSE goes to the trial, so that Optuna's median pruner stops a trial
   whose curve is worse than the others' at the same epoch (on the first inner fold, for RMSE).
3. The best config is refitted once on the outer training part and scored once on the outer test.

A model that restores its best validation epoch is scored at that epoch, so the best config's
``epochs`` is set to the epoch count that scored (the mean over folds).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from matinee.data.split import Split
from matinee.data.splits import kfold, random_split
from matinee.errors import ConfigError, MatineeError, ModelFitError
from matinee.evaluation.evaluate import RANKING_METRICS, RATING_METRICS, evaluate
from matinee.evaluation.tuning_results import TrialRecord, TuneResult
from matinee.logs import ProgressBar, progress
from matinee.models.base import Recommender
from matinee.models.config import Config
from matinee.models.search import Choice, Dimension, FloatRange, IntRange, search_space
from matinee.models.side_info import give_movie_features
from matinee.training.loop import EpochRecord, FitOptions

if TYPE_CHECKING:
    import optuna
    import polars as pl

__all__ = ["TrialRecord", "TuneResult", "TuneSettings", "inner_splits", "parse_metric", "tune"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TuneSettings:
    """How to search (the budget and protocol), not what the model is."""

    trials: int = 20
    """Configs to try (fewer when ``timeout`` runs out first)."""
    metric: str = "rmse"
    """What to optimise: a rating metric (``rmse``, ``mae``) or a ranking one (``ndcg@10``)."""
    timeout: float | None = None
    """Seconds after which no new trial starts (None: no limit)."""
    seed: int = 0
    """Seed of the sampler and of the inner splits."""
    inner_folds: int = 1
    """1: one random validation share of the training part; k >= 2: k inner folds."""
    validation_fraction: float = 0.1
    """The validation share of the training part when ``inner_folds`` is 1."""
    relevance_threshold: float = 4.0
    """Ratings at or above this are relevant (ranking metrics)."""
    prune: bool = True
    """Stop unpromising trials early through the epoch callback (RMSE metric only)."""

    def __post_init__(self) -> None:
        if isinstance(self.trials, bool) or self.trials < 1:
            raise ConfigError(f"trials must be at least 1, got {self.trials!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ConfigError(f"timeout must be positive seconds, got {self.timeout!r}")
        if self.inner_folds < 1:
            raise ConfigError(f"inner_folds must be at least 1, got {self.inner_folds!r}")
        parse_metric(self.metric)


def parse_metric(metric: str) -> tuple[str, int]:
    """Split ``ndcg@10`` into its base name and k (10 for rating metrics); check the name."""
    base, at, k_text = metric.strip().lower().partition("@")
    if base in RATING_METRICS and not at:
        return base, 10
    if base in RANKING_METRICS and at and k_text.isdigit() and int(k_text) >= 1:
        return base, int(k_text)
    raise ConfigError(
        f"metric {metric!r}: use one of {', '.join(RATING_METRICS)} or a ranking metric at k "
        f"({', '.join(f'{name}@10' for name in RANKING_METRICS[:4])} ...)"
    )


def inner_splits(split: Split, settings: TuneSettings) -> list[Split]:
    """The splits trials are scored on, cut from ``split.train`` alone (never its test)."""
    train = split.train
    if settings.inner_folds == 1:
        inner = random_split(train, test_fraction=settings.validation_fraction, seed=settings.seed)
        return [dataclasses.replace(inner, name=f"inner validation of {split.name}")]
    return kfold(train, settings.inner_folds, seed=settings.seed)


def tune(
    cls: type[Recommender[Any]],
    split: Split,
    *,
    settings: TuneSettings | None = None,
    space: Mapping[str, Dimension] | None = None,
    base: Config | None = None,
    fit_options: FitOptions | None = None,
    show_progress: bool = False,
    movies: pl.DataFrame | None = None,
) -> TuneResult:
    """Search ``cls``'s config on inner splits of ``split.train``, then score the best on test.

    Args:
        cls: The model class.
        split: The outer split; only its training part is searched on.
        settings: Budget and protocol.
        space: Field -> range; None takes the model's own ``SEARCH_SPACE``.
        base: The config whose other fields every trial keeps (default: the model's defaults).
        fit_options: Passed to every fit (the tuner adds its pruning callback).
        show_progress: Draw a bar over trials with the best value so far.
        movies: The release's movies table, handed to models that learn from movie features
            (EASE's ``side_info_weight``) before every fit.

    Raises:
        ConfigError: an empty space, a field outside the config, a metric the model lacks.
        ModelFitError: every trial failed.
    """
    optuna = _optuna()
    settings = settings or TuneSettings()
    space = dict(search_space(cls.config_type) if space is None else space)
    base = base or cls.config_type()
    _check_space(cls, space, settings)
    metric_name, k = parse_metric(settings.metric)
    minimise = metric_name in RATING_METRICS
    inners = inner_splits(split, settings)
    objective = _Objective(
        cls, base, space, inners, settings, fit_options or FitOptions(), k, movies=movies
    )
    startup = max(3, min(10, settings.trials // 3))
    study = optuna.create_study(
        direction="minimize" if minimise else "maximize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=startup),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=3),
    )
    started = time.perf_counter()
    with progress(f"tuning {cls.name}", settings.trials, enabled=show_progress) as bar:
        study.optimize(
            objective,
            n_trials=settings.trials,
            timeout=settings.timeout,
            catch=(ModelFitError,),
            callbacks=[_progress_callback(bar, started, settings.timeout)],
        )
    search_seconds = time.perf_counter() - started
    records = tuple(_record(trial) for trial in study.trials)
    complete = [t for t in records if t.state == "complete" and t.value is not None]
    if not complete:
        raise ModelFitError(
            f"every one of {len(records)} trials of {cls.name} failed or was pruned"
        )
    best = study.best_trial
    best_config = objective.config(best.params, _int_attr(best.user_attrs.get("epochs")))
    refit_started = time.perf_counter()
    model = cls(best_config)
    give_movie_features(model, movies)
    model.fit(split.train, split.validation, options=fit_options)
    refit_seconds = time.perf_counter() - refit_started
    test = evaluate(
        model, split, k=k, relevance_threshold=settings.relevance_threshold, metrics=None
    ).metrics
    log.info("tuned %s: best %s %.4f, test %s", cls.name, settings.metric, best.value, test)
    return TuneResult(
        model=cls.name,
        metric=settings.metric,
        best_config=best_config,
        best_value=float(best.value),
        best_trial=best.number,
        trials=records,
        space=space,
        test_metrics=dict(test),
        search_seconds=search_seconds,
        refit_seconds=refit_seconds,
        protocol=_protocol(split, settings),
    )


def _optuna() -> Any:
    try:
        import optuna
    except ModuleNotFoundError:
        raise MatineeError("tuning needs the 'tune' extra: pip install 'matinee[tune]'") from None
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def _check_space(
    cls: type[Recommender[Any]], space: Mapping[str, Dimension], settings: TuneSettings
) -> None:
    if not space:
        raise ConfigError(
            f"{cls.name} declares no search space; give one with --space key=low:high"
        )
    names = {field.name for field in dataclasses.fields(cls.config_type)}
    unknown = sorted(set(space) - names)
    if unknown:
        raise ConfigError(f"{cls.config_type.__name__} has no field(s) {unknown} to search")
    metric_name, _ = parse_metric(settings.metric)
    if metric_name in RATING_METRICS and not cls.predicts_ratings:
        raise ConfigError(f"{cls.name} ranks and predicts no ratings: tune it on ndcg@10")


class _Objective:
    """One trial: sample a config, fit and score it on every inner split."""

    def __init__(
        self,
        cls: type[Recommender[Any]],
        base: Config,
        space: Mapping[str, Dimension],
        inners: Sequence[Split],
        settings: TuneSettings,
        options: FitOptions,
        k: int,
        *,
        movies: pl.DataFrame | None = None,
    ) -> None:
        self.cls, self.base, self.space, self.inners = cls, base, space, inners
        self.settings, self.options, self.k = settings, options, k
        self.metric = parse_metric(settings.metric)[0]
        self.metric_key = self.metric if self.metric in RATING_METRICS else f"{self.metric}@{k}"
        self.movies = movies

    def config(self, params: Mapping[str, Any], epochs: int | None = None) -> Config:
        """The base config with the trial's values (and the epoch count that scored)."""
        values = dict(params)
        if epochs is not None and hasattr(self.base, "epochs"):
            values["epochs"] = epochs
        try:
            return dataclasses.replace(self.base, **values)
        except ConfigError as error:
            raise ConfigError(f"a searched value does not fit the config: {error}") from None

    def __call__(self, trial: optuna.Trial) -> float:
        """Fit and score the sampled config; its value is the mean over the inner splits."""
        config = self.config({key: _suggest(trial, key, dim) for key, dim in self.space.items()})
        values, epochs = [], []
        for fold, inner in enumerate(self.inners):
            prune = fold == 0 and self.settings.prune and self.metric in RATING_METRICS
            callbacks = [*self.options.callbacks, *([_pruning(trial)] if prune else [])]
            options = dataclasses.replace(self.options, callbacks=callbacks)
            model = self.cls(config)
            give_movie_features(model, self.movies)
            model.fit(inner.train, inner.test, options=options)
            result = evaluate(
                model,
                inner,
                k=self.k,
                relevance_threshold=self.settings.relevance_threshold,
                metrics=[self.metric],
            )
            values.append(result.metrics.get(self.metric_key, math.nan))
            epochs.extend(_scored_epochs(model))
        if epochs:
            trial.set_user_attr("epochs", round(float(np.mean(epochs))))
        value = float(np.mean(values))
        if not math.isfinite(value):
            raise ModelFitError(f"trial {trial.number} scored {value} on the inner splits")
        return value


def _suggest(trial: optuna.Trial, key: str, dim: Dimension) -> Any:
    if isinstance(dim, IntRange):
        return trial.suggest_int(key, dim.low, dim.high, log=dim.log)
    if isinstance(dim, FloatRange):
        return trial.suggest_float(key, dim.low, dim.high, log=dim.log)
    if isinstance(dim, Choice):
        return trial.suggest_categorical(key, list(dim.values))
    raise ConfigError(f"unknown search dimension {dim!r}")


def _pruning(trial: optuna.Trial) -> Callable[[EpochRecord], None]:
    """An epoch callback that reports the validation loss and prunes a hopeless trial."""
    import optuna

    def report(record: EpochRecord) -> None:
        if "val_loss" not in record:
            return
        step = int(record["epoch"])
        trial.report(record["val_loss"], step)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {step}")

    return report


def _scored_epochs(model: Recommender[Any]) -> list[int]:
    """The epoch whose weights the model kept (its best validation epoch), if it has epochs."""
    losses = [record.get("val_loss", math.inf) for record in model.history_]
    if not losses or not hasattr(model.config, "epochs"):
        return []
    if not getattr(model.config, "restore_best", False) or not any(map(math.isfinite, losses)):
        return [len(losses)]
    return [int(np.argmin(losses)) + 1]


def _int_attr(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _record(trial: optuna.trial.FrozenTrial) -> TrialRecord:
    import optuna

    state = {
        optuna.trial.TrialState.COMPLETE: "complete",
        optuna.trial.TrialState.PRUNED: "pruned",
    }.get(trial.state, "failed")
    seconds = (
        (trial.datetime_complete - trial.datetime_start).total_seconds()
        if trial.datetime_complete is not None and trial.datetime_start is not None
        else 0.0
    )
    return TrialRecord(
        number=trial.number,
        params=dict(trial.params),
        state=state,
        value=None if trial.value is None else float(trial.value),
        seconds=seconds,
        epochs=_int_attr(trial.user_attrs.get("epochs")),
    )


def _progress_callback(
    bar: ProgressBar, started: float, timeout: float | None
) -> Callable[[Any, Any], None]:
    """After each trial: advance the bar, show the best so far and the time left."""

    def update(study: Any, trial: Any) -> None:
        try:
            best = f"best {study.best_value:.4f}"
        except ValueError:
            best = "no trial complete yet"
        left = ""
        if timeout is not None:
            left = f" · {max(0.0, timeout - (time.perf_counter() - started)):.0f}s left"
        bar.advance(1, status=f"trial {trial.number + 1}: {best}{left}")

    return update


def _protocol(split: Split, settings: TuneSettings) -> str:
    inner = (
        f"one random {settings.validation_fraction:g} validation share"
        if settings.inner_folds == 1
        else f"{settings.inner_folds} inner folds"
    )
    budget = f"{settings.trials} trials" + (
        f" or {settings.timeout:g}s" if settings.timeout else ""
    )
    return (
        f"TPE (seed {settings.seed}), {budget}, on {inner} of the training part of "
        f"{split.name}; best config refitted on that training part, scored once on its test"
    )
