"""The config block the factor models share (MF, SVD++, NMF): one place for their common fields."""

from __future__ import annotations

from dataclasses import dataclass

from matinee.models.config import EpochConfig, setting

__all__ = ["FactorConfig", "SGDFactorConfig"]


@dataclass(frozen=True, kw_only=True)
class FactorConfig(EpochConfig):
    """Fields of every model that learns a vector per user and per movie."""

    epochs: int = 40
    """Passes over the training ratings."""

    n_factors: int = setting(50, low=1, high=4096)
    """Length of each user and movie vector."""


@dataclass(frozen=True, kw_only=True)
class SGDFactorConfig(FactorConfig):
    """Fields of factor models trained by SGD with a decaying step and L2 on the factors."""

    learning_rate: float = setting(0.01, low=0.0, low_open=True, high=1.0)
    """SGD step size of the first epoch."""

    lr_decay: float = setting(0.95, low=0.0, low_open=True, high=1.0)
    """Factor applied to the learning rate after every epoch (1.0: constant)."""

    reg: float = setting(0.05, low=0.0)
    """L2 penalty on the factors, applied at each rating's update."""

    init_std: float = setting(0.1, low=0.0)
    """Standard deviation of the random part of the initial factors."""
