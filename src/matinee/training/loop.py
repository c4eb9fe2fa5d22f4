"""The one training loop: epochs, validation, early stopping, callbacks, progress and logging.

Models never own this loop. An iterative model hands :func:`run_epochs` an :class:`EpochTrainer`
that knows how to run one epoch and how to score the validation set; the loop does the rest.
The loop sits below the models: it reads its settings through :class:`LoopConfig` and imports
no model code, so models import training and never the reverse.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy.typing as npt

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError
from matinee.logs import progress

__all__ = [
    "ArrayTrainer",
    "Callback",
    "EpochRecord",
    "EpochTrainer",
    "FitOptions",
    "LoopConfig",
    "run_epochs",
]

log = logging.getLogger(__name__)

EpochRecord = dict[str, float]
"""One epoch's figures: ``epoch``, ``seconds``, ``loss``, and ``val_loss`` when validating,
plus whatever else a trainer reports."""

Callback = Callable[[EpochRecord], bool | None]
"""Called after every epoch with its record; returning True stops training."""


@dataclass(frozen=True, kw_only=True)
class FitOptions:
    """How to run a fit (not what to learn: that is the model's config)."""

    progress: bool = False
    """Draw a Rich progress bar over epochs."""

    callbacks: Sequence[Callback] = ()
    """Called after each epoch, in order."""

    device: str | None = None
    """Torch device for neural models ("cpu", "cuda"); None picks CUDA when present."""


class LoopConfig(Protocol):
    """The settings the loop reads (a model's ``EpochConfig`` has them all)."""

    @property
    def epochs(self) -> int:
        """Most passes over the training data."""
        ...

    @property
    def patience(self) -> int | None:
        """Epochs without a better validation loss before stopping (None: never stop early)."""
        ...

    @property
    def min_delta(self) -> float:
        """Smallest drop in validation loss that counts as better."""
        ...

    @property
    def restore_best(self) -> bool:
        """Whether to go back to the weights of the best validation epoch."""
        ...


class EpochTrainer(Protocol):
    """What a model gives the loop: one epoch at a time, a validation score, weight snapshots."""

    @property
    def has_validation(self) -> bool:
        """Whether :meth:`validation_loss` scores a (non-empty) validation set."""
        ...

    def train_epoch(self, epoch: int) -> dict[str, float]:
        """Run one pass over the training data; return at least ``loss``."""
        ...

    def validation_loss(self) -> float | None:
        """The loss on the validation set (RMSE for rating models), or None without one."""
        ...

    def snapshot(self) -> object:
        """A copy of the current weights, for restoring the best epoch."""
        ...

    def restore(self, snapshot: object) -> None:
        """Put back weights taken by :meth:`snapshot`."""
        ...


def run_epochs(
    trainer: EpochTrainer,
    config: LoopConfig,
    options: FitOptions,
    *,
    description: str = "training",
) -> list[EpochRecord]:
    """Train epoch by epoch and return the history (one record per epoch run).

    Stops early after ``config.patience`` epochs without improvement of the validation loss, or
    when a callback returns True, and then restores the best weights if ``config.restore_best``.

    Raises:
        ModelFitError: a loss that is NaN or infinite (the model diverged).
        ConfigError: ``patience`` set while there is no validation set (before epoch 1).
    """
    if config.patience is not None and not trainer.has_validation:
        raise ConfigError(
            f"patience={config.patience} (early stopping) needs a validation set in fit"
        )
    history: list[EpochRecord] = []
    best = _Best(config)
    with progress(description, config.epochs, enabled=options.progress) as bar:
        for epoch in range(1, config.epochs + 1):
            record = _run_epoch(trainer, epoch)
            history.append(record)
            _check_finite(record, description, epoch)
            log.info("%s: epoch %d %s", description, epoch, _format(record))
            status = _format({k: v for k, v in record.items() if k.endswith("loss")})
            bar.advance(1, status=status)
            stop = _call_back(options.callbacks, record)
            if "val_loss" in record and best.update(trainer, epoch, record["val_loss"]):
                log.info("%s: early stop at epoch %d (best %d)", description, epoch, best.epoch)
                stop = True
            if stop:
                break
    if best.weights is not None and best.epoch != len(history):
        trainer.restore(best.weights)
        log.info("%s: restored the weights of epoch %d", description, best.epoch)
    return history


def _run_epoch(trainer: EpochTrainer, epoch: int) -> EpochRecord:
    """One epoch and its validation loss, as a record."""
    started = time.perf_counter()
    figures = dict(trainer.train_epoch(epoch))
    val_loss = trainer.validation_loss()
    record: EpochRecord = {"epoch": float(epoch), **figures}
    if val_loss is not None:
        record["val_loss"] = float(val_loss)
    record["seconds"] = time.perf_counter() - started
    return record


class _Best:
    """The best validation epoch so far, its weights, and how long since it."""

    def __init__(self, config: LoopConfig) -> None:
        self.config = config
        self.loss = math.inf
        self.epoch = 0
        self.weights: object = None
        self.waited = 0

    def update(self, trainer: EpochTrainer, epoch: int, val_loss: float) -> bool:
        """Record this epoch's validation loss; True when patience has run out."""
        if val_loss < self.loss - self.config.min_delta:
            self.loss, self.epoch, self.waited = val_loss, epoch, 0
            if self.config.restore_best:
                self.weights = trainer.snapshot()
            return False
        self.waited += 1
        patience = self.config.patience
        return patience is not None and self.waited >= patience


def _call_back(callbacks: Sequence[Callback], record: EpochRecord) -> bool:
    """Call every callback with the record (none is skipped); True when any asks to stop."""
    answers = [callback(record) for callback in callbacks]
    return any(answer is True for answer in answers)


def _check_finite(record: EpochRecord, description: str, epoch: int) -> None:
    for key, value in record.items():
        if not math.isfinite(value):
            raise ModelFitError(
                f"{description} diverged: {key} is {value} at epoch {epoch}; "
                "lower the learning rate or raise the regularization"
            )


def _format(record: EpochRecord) -> str:
    return " ".join(f"{key}={value:.4f}" for key, value in record.items() if key != "epoch")


class ArrayTrainer:
    """Weight snapshots for a trainer whose weights are a dict of numpy arrays.

    Subclasses keep their arrays in ``self.weights`` and the validation set (or None) in
    ``self.validation``.
    """

    weights: dict[str, npt.NDArray[Any]]
    validation: Ratings | None

    @property
    def has_validation(self) -> bool:
        """Whether there is a non-empty validation set."""
        return self.validation is not None and len(self.validation) > 0

    def snapshot(self) -> object:
        """A copy of every weight array."""
        return {key: value.copy() for key, value in self.weights.items()}

    def restore(self, snapshot: object) -> None:
        """Put back arrays taken by :meth:`snapshot`."""
        if not isinstance(snapshot, dict):
            raise TypeError(f"a snapshot is a dict of arrays, got {type(snapshot).__name__}")
        self.weights = snapshot
