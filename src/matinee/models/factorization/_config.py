"""The config block the factor models share (MF, SVD++, NMF): one place for their common fields."""

from __future__ import annotations

from dataclasses import dataclass

from matinee.models.config import EpochConfig, check_range

__all__ = ["FactorConfig", "SGDFactorConfig"]


@dataclass(frozen=True, kw_only=True)
class FactorConfig(EpochConfig):
    """Fields of every model that learns a vector per user and per movie."""

    epochs: int = 40
    """Passes over the training ratings."""

    n_factors: int = 50
    """Length of each user and movie vector."""

    def validate(self) -> None:
        """Check ranges."""
        super().validate()
        check_range(self, "n_factors", low=1, high=4096)


@dataclass(frozen=True, kw_only=True)
class SGDFactorConfig(FactorConfig):
    """Fields of factor models trained by SGD with a decaying step and L2 on the factors."""

    learning_rate: float = 0.01
    """SGD step size of the first epoch."""

    lr_decay: float = 0.95
    """Factor applied to the learning rate after every epoch (1.0: constant)."""

    reg: float = 0.05
    """L2 penalty on the factors, applied at each rating's update."""

    init_std: float = 0.1
    """Standard deviation of the random part of the initial factors."""

    def validate(self) -> None:
        """Check ranges."""
        super().validate()
        check_range(self, "learning_rate", low=0.0, low_open=True, high=1.0)
        check_range(self, "lr_decay", low=0.0, low_open=True, high=1.0)
        check_range(self, "reg", low=0.0)
        check_range(self, "init_std", low=0.0)
