"""What a neural fit will cost, said before its long part: memory first, then a measured epoch.

At ml-25m size one epoch of a neural model can outlast a user's patience (AutoRec's Adam step
over 2 x 81 M weights, the embedding net's 350,000 steps), so each trainer logs at INFO, as
``NAME: ...`` lines, the memory of its weights, gradients and optimizer state before they are
allocated, then, after the first steps of its first epoch, the epoch and fit time those steps
imply on this machine now, with the settings that shorten it. Nothing here changes the fit.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from matinee.models.config import EpochConfig

__all__ = ["PLAN_STEPS", "StepPlan", "autoencoder_plan", "dense_parameters"]

log = logging.getLogger("matinee.models.neural")

PLAN_STEPS = 20
"""Steps timed (after a first, warm-up step) before the epoch time is estimated and logged."""

_STATE_COPIES = {"adam": 4, "rmsprop": 3, "sgd": 3}
"""Float32 copies of each weight a step keeps: the weight, its gradient, the optimizer state
(Adam: two moments; RMSprop: the square average; SGD with momentum: the velocity)."""


def dense_parameters(sizes: Sequence[int]) -> int:
    """Weights and biases of a chain of dense layers ``sizes[0] -> sizes[1] -> ...``."""
    return sum(a * b + b for a, b in itertools.pairwise(sizes))


class StepPlan:
    """Log a fit's memory now and, after :data:`PLAN_STEPS` timed steps, its epoch time.

    ``advice`` is what to change to make it shorter or smaller (``--set batch_size=N`` ...).
    """

    def __init__(
        self,
        name: str,
        *,
        parameters: int,
        optimizer: str,
        steps_per_epoch: int,
        epochs: int,
        advice: str,
    ) -> None:
        self.name, self.steps, self.epochs, self.advice = name, steps_per_epoch, epochs, advice
        self.memory_gb = parameters * 4 * _STATE_COPIES.get(optimizer, 4) / 1e9
        self._count, self._started = 0, 0.0
        log.info(
            "%s: %s weights; with gradients and %s state %.2f GB, allocated now; "
            "%s steps an epoch, at most %d epochs",
            name, f"{parameters:,}", optimizer, self.memory_gb, f"{steps_per_epoch:,}", epochs,
        )  # fmt: skip

    def step(self) -> None:
        """Count one optimisation step; the step after the timed ones logs the estimate, once."""
        self._count += 1
        if self._count == 1:
            self._started = time.perf_counter()
        elif self._count == PLAN_STEPS + 1 and self.steps > PLAN_STEPS + 1:
            each = (time.perf_counter() - self._started) / PLAN_STEPS
            epoch = each * self.steps
            log.info(
                "%s: %.3f s a step (%d steps timed), so about %s an epoch of %s steps and "
                "%s for %d epochs on this machine now; weights, gradients and optimizer state "
                "%.2f GB. %s",
                self.name, each, PLAN_STEPS, _duration(epoch), f"{self.steps:,}",
                _duration(epoch * self.epochs), self.epochs, self.memory_gb, self.advice,
            )  # fmt: skip


def autoencoder_plan(
    name: str,
    matrix: sp.csr_matrix,
    config: EpochConfig,
    *,
    hidden: tuple[str, Sequence[int]],
    optimizer: str,
    rows_are: str,
) -> StepPlan:
    """The plan of an autoencoder over the rows of ``matrix`` (AutoRec, the movie autoencoder).

    ``hidden`` is the setting that sizes the hidden layers and its value; ``rows_are`` says
    what the rows are (``movies`` or ``users``); the inputs and outputs are the other kind.
    """
    rows, inputs = matrix.shape
    rated = int(np.count_nonzero(np.diff(matrix.indptr)))
    batch_size = int(getattr(config, "batch_size", 1))
    columns_are = "users" if rows_are == "movies" else "movies"
    key, sizes = hidden
    return StepPlan(
        name,
        parameters=dense_parameters((inputs, *sizes, inputs)),
        optimizer=optimizer,
        steps_per_epoch=-(-rated // batch_size),
        epochs=config.epochs,
        advice=(
            f"Each step's {optimizer} update and L2 term cover every weight, so a step costs "
            "about the same at any batch size. Shorter: --set epochs=N, fewer and larger "
            f"steps with --set batch_size=N (now {batch_size}), fewer hidden units with --set "
            f"{key}=N (now {','.join(map(str, sizes))}); the {inputs:,} {columns_are} are the "
            f"inputs and outputs and the {rows:,} {rows_are} the rows, so "
            f"--min-{columns_are[:-1]}-ratings and --min-{rows_are[:-1]}-ratings shrink them; "
            "or --device cuda"
        ),
    )


def _duration(seconds: float) -> str:
    """``42 s``, ``12.5 min`` or ``3.1 h``."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
