"""The one training loop: epochs, validation, early stopping, callbacks, progress and logging.

Models never own this loop. An iterative model hands :func:`run_epochs` an :class:`EpochTrainer`
that knows how to run one epoch and how to score the validation set; the loop does the rest.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from matinee.errors import ConfigError, ModelFitError
from matinee.logs import progress
from matinee.models.config import EpochConfig

__all__ = ["Callback", "EpochRecord", "EpochTrainer", "FitOptions", "run_epochs"]

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


class EpochTrainer(Protocol):
    """What a model gives the loop: one epoch at a time, a validation score, weight snapshots."""

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
    config: EpochConfig,
    options: FitOptions,
    *,
    description: str = "training",
) -> list[EpochRecord]:
    """Train epoch by epoch and return the history (one record per epoch run).

    Stops early after ``config.patience`` epochs without improvement of the validation loss, or
    when a callback returns True, and then restores the best weights if ``config.restore_best``.

    Raises:
        ModelFitError: a loss that is NaN or infinite (the model diverged).
        ConfigError: ``patience`` set while there is no validation set.
    """
    history: list[EpochRecord] = []
    best_loss = math.inf
    best_epoch = 0
    best_weights: object = None
    waited = 0
    with progress(description, config.epochs, enabled=options.progress) as bar:
        for epoch in range(1, config.epochs + 1):
            started = time.perf_counter()
            figures = dict(trainer.train_epoch(epoch))
            val_loss = trainer.validation_loss()
            record: EpochRecord = {"epoch": float(epoch), **figures}
            if val_loss is not None:
                record["val_loss"] = float(val_loss)
            record["seconds"] = time.perf_counter() - started
            history.append(record)
            _check_finite(record, description, epoch)
            log.info("%s: epoch %d %s", description, epoch, _format(record))
            status = _format({k: v for k, v in record.items() if k.endswith("loss")})
            bar.advance(1, status=status)
            stop = any(callback(record) for callback in options.callbacks)
            if val_loss is None:
                if config.patience is not None:
                    raise ConfigError("patience (early stopping) needs a validation set in fit")
            elif val_loss < best_loss - config.min_delta:
                best_loss, best_epoch, waited = val_loss, epoch, 0
                if config.restore_best:
                    best_weights = trainer.snapshot()
            else:
                waited += 1
                if config.patience is not None and waited >= config.patience:
                    log.info("%s: early stop at epoch %d (best %d)", description, epoch, best_epoch)
                    stop = True
            if stop:
                break
    if best_weights is not None and best_epoch != len(history):
        trainer.restore(best_weights)
        log.info("%s: restored the weights of epoch %d", description, best_epoch)
    return history


def _check_finite(record: EpochRecord, description: str, epoch: int) -> None:
    for key, value in record.items():
        if not math.isfinite(value):
            raise ModelFitError(
                f"{description} diverged: {key} is {value} at epoch {epoch}; "
                "lower the learning rate or raise the regularization"
            )


def _format(record: EpochRecord) -> str:
    return " ".join(f"{key}={value:.4f}" for key, value in record.items() if key != "epoch")
