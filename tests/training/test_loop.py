from __future__ import annotations

import math

import pytest

from matinee.errors import ConfigError, ModelFitError
from matinee.models.config import EpochConfig
from matinee.training.loop import EpochRecord, FitOptions, run_epochs


class ScriptedTrainer:
    """Replays given validation losses; its 'weights' are the epoch number."""

    def __init__(self, val_losses: list[float | None], train_losses: list[float] | None = None):
        self.val_losses = val_losses
        self.train_losses = train_losses or [1.0] * len(val_losses)
        self.weights = 0
        self.restored: int | None = None
        self.epochs_run = 0

    @property
    def has_validation(self) -> bool:
        return any(loss is not None for loss in self.val_losses)

    def train_epoch(self, epoch: int) -> dict[str, float]:
        self.weights = epoch
        self.epochs_run += 1
        return {"loss": self.train_losses[epoch - 1]}

    def validation_loss(self) -> float | None:
        return self.val_losses[self.weights - 1]

    def snapshot(self) -> object:
        return self.weights

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, int)
        self.weights = snapshot
        self.restored = snapshot


def test_runs_all_epochs_and_records_history() -> None:
    trainer = ScriptedTrainer([None] * 3, [3.0, 2.0, 1.0])
    history = run_epochs(trainer, EpochConfig(epochs=3), FitOptions())
    assert [r["epoch"] for r in history] == [1, 2, 3]
    assert [r["loss"] for r in history] == [3.0, 2.0, 1.0]
    assert all("val_loss" not in r and r["seconds"] >= 0 for r in history)


def test_early_stopping_restores_best_epoch() -> None:
    trainer = ScriptedTrainer([1.0, 0.8, 0.9, 0.95, 0.7])
    history = run_epochs(trainer, EpochConfig(epochs=5, patience=2), FitOptions())
    assert len(history) == 4
    assert trainer.restored == 2
    assert trainer.weights == 2


def test_min_delta_counts_small_gains_as_no_gain() -> None:
    trainer = ScriptedTrainer([1.0, 0.99, 0.98, 0.5])
    history = run_epochs(trainer, EpochConfig(epochs=4, patience=2, min_delta=0.05), FitOptions())
    assert len(history) == 3
    assert trainer.weights == 1


def test_no_restore_keeps_last_weights() -> None:
    trainer = ScriptedTrainer([0.5, 0.9, 0.9])
    run_epochs(trainer, EpochConfig(epochs=3, restore_best=False), FitOptions())
    assert trainer.restored is None
    assert trainer.weights == 3


def test_callback_sees_each_record_and_can_stop() -> None:
    seen: list[EpochRecord] = []

    def stop_at_two(record: EpochRecord) -> bool:
        seen.append(record)
        return record["epoch"] == 2

    history = run_epochs(
        ScriptedTrainer([None] * 5), EpochConfig(epochs=5), FitOptions(callbacks=[stop_at_two])
    )
    assert len(history) == 2
    assert seen == history


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_divergence_raises(bad: float) -> None:
    trainer = ScriptedTrainer([None, None], [1.0, bad])
    with pytest.raises(ModelFitError, match=r"diverged: loss is .* at epoch 2"):
        run_epochs(trainer, EpochConfig(epochs=2), FitOptions())


def test_patience_without_validation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="validation set"):
        run_epochs(ScriptedTrainer([None]), EpochConfig(epochs=1, patience=1), FitOptions())


def test_patience_without_validation_is_refused_before_epoch_one() -> None:
    trainer = ScriptedTrainer([None] * 3)
    with pytest.raises(ConfigError, match="patience=2"):
        run_epochs(trainer, EpochConfig(epochs=3, patience=2), FitOptions())
    assert trainer.epochs_run == 0


def test_every_callback_is_called_each_epoch_even_after_one_asks_to_stop() -> None:
    calls: list[tuple[str, float]] = []

    def stopper(record: EpochRecord) -> bool:
        calls.append(("stopper", record["epoch"]))
        return record["epoch"] == 2

    def watcher(record: EpochRecord) -> None:
        calls.append(("watcher", record["epoch"]))

    options = FitOptions(callbacks=[stopper, watcher])
    history = run_epochs(ScriptedTrainer([None] * 4), EpochConfig(epochs=4), options)
    assert len(history) == 2
    assert calls == [("stopper", 1), ("watcher", 1), ("stopper", 2), ("watcher", 2)]


def test_progress_bar_runs(capsys: pytest.CaptureFixture[str]) -> None:
    run_epochs(ScriptedTrainer([0.5, 0.4]), EpochConfig(epochs=2), FitOptions(progress=True))
