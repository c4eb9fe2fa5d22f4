"""What AutoRec and the movie autoencoder share: a sparse input matrix, a network, cached codes.

Both encode rows of a sparse matrix (movies or users) with an :class:`AutoRecNet`; predictions
decode the hidden codes of every row, which are computed once and dropped whenever the weights
change. Saved parameters are the network's arrays plus the input matrix, as plain arrays.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import torch

from matinee.data.ratings import Ratings
from matinee.models._csr import pack_csr, unpack_csr
from matinee.models.base import Recommender
from matinee.models.config import EpochConfig
from matinee.models.neural._autorec_net import AutoRecNet
from matinee.models.neural._plan import StepPlan
from matinee.models.neural._torch import (
    ModuleTrainer,
    check_not_diverged,
    fitted_net,
    load_state_arrays,
    pick_device,
    scored_in_blocks,
    seeded,
    sparse_rows,
    state_arrays,
)
from matinee.training.loop import EpochRecord

__all__ = [
    "DECODE_PAIRS",
    "ENCODE_BATCH",
    "AutoencoderModel",
    "RowBatchTrainer",
    "decode_pairs",
    "inner_holdout",
]

C = TypeVar("C", bound=EpochConfig)

ENCODE_BATCH = 4096
"""Input rows encoded at once when computing the codes of every row."""

DECODE_PAIRS = 65_536
"""(row, column) cells decoded at once by :func:`decode_pairs`: at 500 hidden units its two
gathered ``cells x units`` float32 blocks take 262 MB, where all 2.5 M test cells of ml-25m at
once took 10 GB."""


@torch.no_grad()
def decode_pairs(
    net: AutoRecNet,
    codes: torch.Tensor,
    rows: npt.NDArray[np.integer],
    columns: npt.NDArray[np.integer],
    device: torch.device,
) -> npt.NDArray[np.float64]:
    """``net.decode_at`` of many cells, :data:`DECODE_PAIRS` at a time to bound memory."""
    blocks = scored_in_blocks(
        lambda row, column: net.decode_at(codes, row, column), rows, columns, device, DECODE_PAIRS
    )
    return blocks.astype(np.float64)


def inner_holdout(train: Ratings, fraction: float, seed: int) -> tuple[Ratings, Ratings | None]:
    """Split ``fraction`` of the ratings off ``train`` (seeded) to stop early on.

    Returns ``(train, None)`` when the fraction is 0 or would leave nothing to learn from.
    """
    count = round(fraction * len(train))
    if count == 0 or count >= len(train):
        return train, None
    held = np.zeros(len(train), dtype=bool)
    held[np.random.default_rng([seed, 14]).choice(len(train), size=count, replace=False)] = True
    return train.take(~held), train.take(held)


class AutoencoderModel(Recommender[C]):
    """Base of models whose network encodes the rows of ``input_matrix_``."""

    def __init__(self, config: C | None = None) -> None:
        super().__init__(config)
        self.input_matrix_: sp.csr_matrix = sp.csr_matrix((0, 0), dtype=np.float32)
        self._net: AutoRecNet | None = None
        self._device = torch.device("cpu")
        self._codes: torch.Tensor | None = None

    @abstractmethod
    def _build_net(self) -> AutoRecNet:
        """A fresh network shaped by the config and ``input_matrix_``."""

    def _train_net(
        self, device: str | None, train: Callable[[AutoRecNet], list[EpochRecord]]
    ) -> list[EpochRecord]:
        """Build a fresh network on ``device`` and ``train`` it, seeded; drop the codes after."""
        self._device = pick_device(device)
        with seeded(self.config.seed, self._device):
            self._net = self._build_net().to(self._device)
            history = train(self._net)
        self.forget_codes()
        return history

    def forget_codes(self) -> None:
        """Drop the cached hidden codes (after the weights change)."""
        self._codes = None

    def to_device(self, device: str) -> None:
        """Move the fitted network to ``device`` (``"cpu"``, ``"cuda"``) to score there."""
        self._device = pick_device(device)
        self._net = self._fitted_net().to(self._device)
        self.forget_codes()

    def _fitted_net(self) -> AutoRecNet:
        """The trained network, in evaluation mode (trainers switch it back to training)."""
        return fitted_net(self, self._net)

    @torch.no_grad()
    def _encode_rows(self, rows: npt.NDArray[np.integer]) -> torch.Tensor:
        """Last hidden layer of the given input rows, encoded in batches."""
        net = self._fitted_net()
        parts = [
            net.encode(
                sparse_rows(self.input_matrix_, rows[start : start + ENCODE_BATCH], self._device)
            )
            for start in range(0, rows.size, ENCODE_BATCH)
        ]
        return torch.cat(parts) if parts else torch.empty((0, net.code_size), device=self._device)

    def _all_codes(self) -> torch.Tensor:
        """Last hidden layer of every input row, computed once."""
        if self._codes is None:
            self._codes = self._encode_rows(np.arange(self.input_matrix_.shape[0]))
        return self._codes

    def _parameters(self) -> dict[str, np.ndarray]:
        arrays = {f"net.{name}": value for name, value in state_arrays(self._fitted_net()).items()}
        return {**arrays, **pack_csr(self.input_matrix_, "input", values="values")}

    def _load_network(self, params: Mapping[str, np.ndarray], shape: tuple[int, int]) -> None:
        """Rebuild the input matrix (of ``shape``) and the network from saved arrays."""
        self.input_matrix_ = unpack_csr(params, "input", shape, values="values")
        self._device = pick_device(None)
        self._net = self._build_net().to(self._device)
        net_arrays = {k.removeprefix("net."): v for k, v in params.items() if k.startswith("net.")}
        load_state_arrays(self._net, net_arrays)
        self.forget_codes()


BatchLoss = Callable[[npt.NDArray[np.int64]], tuple[torch.Tensor, torch.Tensor, int]]
"""Rows of a batch -> (loss to minimise, summed squared error, cells it covers)."""


M = TypeVar("M", bound="AutoencoderModel[Any]")


class RowBatchTrainer(ModuleTrainer[AutoRecNet], Generic[M]):
    """An autoencoder's epoch: its input rows in a seeded random order, one optimiser step a batch.

    AutoRec and the movie autoencoder differ in their loss only; the pass, the step, the error
    it sums and the divergence check after it are this one.
    """

    def __init__(
        self,
        model: M,
        net: AutoRecNet,
        device: torch.device,
        validation: Ratings | None,
        optimizer: torch.optim.Optimizer,
        plan: StepPlan,
    ) -> None:
        super().__init__(net, device, validation, plan)
        self.model, self.optimizer = model, optimizer
        self.rng = np.random.default_rng(model.config.seed)

    def row_pass(
        self, rows: npt.NDArray[np.int64], batch_size: int, batch_loss: BatchLoss, epoch: int
    ) -> float:
        """Train on ``rows`` in batches; the mean squared error over the cells seen."""
        self.net.train()
        order = self.rng.permutation(rows)
        total, cells = 0.0, 0
        for start in range(0, order.size, batch_size):
            loss, squared, count = batch_loss(order[start : start + batch_size])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            self.optimizer.step()
            self.plan.step()
            total, cells = total + float(squared.detach()), cells + count
        self.model.forget_codes()
        mse = total / max(cells, 1)
        check_not_diverged(self.model.name, mse**0.5, self.model.rating_scale_, epoch)
        return mse
