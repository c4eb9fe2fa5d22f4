"""Torch helpers shared by the neural models: device, seeding, sparse batches, state <-> arrays.

Only the neural model modules import this module, and only they import torch (the optional
``neural`` extra), so the rest of Matinee works without it. Nothing here trains: the loops live
in :mod:`matinee.training.loop` and in each model's epoch trainer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import torch
from torch import nn

from matinee.data.ratings import Ratings
from matinee.errors import ConfigError, ModelFitError, NotFittedError
from matinee.models.base import Recommender
from matinee.models.neural._plan import StepPlan

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ModuleTrainer",
    "OptimizerName",
    "SparseRows",
    "activation",
    "check_not_diverged",
    "fitted_net",
    "fit_vectors",
    "gather_rows",
    "load_state_arrays",
    "make_optimizer",
    "pick_device",
    "seeded",
    "sparse_rows",
    "state_arrays",
    "to_tensor",
]

Activation = Literal["sigmoid", "relu", "elu", "selu", "tanh", "identity"]
"""Activation names a config may choose."""

OptimizerName = Literal["adam", "rmsprop", "sgd"]
"""Optimizer names a config may choose."""

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "tanh": nn.Tanh,
    "identity": nn.Identity,
}


def activation(name: str) -> nn.Module:
    """A fresh activation module by name; raises :class:`ConfigError` for an unknown one."""
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ConfigError(
            f"unknown activation {name!r}; valid: {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def pick_device(requested: str | None) -> torch.device:
    """The device to train on: ``requested``, or CUDA when available and else the CPU."""
    if requested is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise ConfigError(f"unknown torch device {requested!r}; use 'cpu' or 'cuda'") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {requested!r} asked for, but torch sees no CUDA device")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported torch device {requested!r}; use 'cpu' or 'cuda'")
    return device


@contextmanager
def seeded(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch for the work inside, then give back the caller's RNG state untouched.

    With the same seed two fits give identical weights on the CPU (for a fixed number of
    threads) and on one CUDA device; the CPU and CUDA weights agree up to rounding. That needs
    gathers whose backward pass sums in a fixed order (:func:`gather_rows`).
    ``torch.use_deterministic_algorithms`` is not switched on: it makes the embedding backward
    pass ten times slower on the CPU and does not change its result there.
    """
    cuda_devices = []
    if device.type == "cuda":
        cuda_devices = [torch.cuda.current_device() if device.index is None else device.index]
    with torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield


def gather_rows(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` (rows of a matrix, or entries of a vector) with a deterministic backward.

    The backward pass sums the gradients of repeated rows. On the CPU with several threads that
    of ``table[index]`` adds them atomically, in an order that changes from run to run, while the
    embedding lookup's sums in a fixed order. On CUDA it was the other way round (measured on an
    H100 with torch 2.11): ``table[index]`` sorts the indices and sums in order, while the
    embedding backward changed the last bits of AutoRec's code gradients from run to run.
    """
    if table.is_cuda:
        return table[index]
    if table.ndim == 1:
        return nn.functional.embedding(index, table.unsqueeze(1)).squeeze(1)
    return nn.functional.embedding(index, table)


def make_optimizer(
    name: str, parameters: Iterator[nn.Parameter] | list[nn.Parameter], learning_rate: float
) -> torch.optim.Optimizer:
    """An optimizer by name (Adam, RMSProp, or SGD with Nesterov momentum 0.9).

    When every parameter is on CUDA, Adam and SGD run their fused kernels (``fused=True``): the
    steps of these small networks are bound by kernel launches, and the fused update needs few.
    """
    params = list(parameters)
    fused = True if params and all(param.is_cuda for param in params) else None
    if name == "adam":
        return torch.optim.Adam(params, lr=learning_rate, fused=fused)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=learning_rate)
    if name == "sgd":
        return torch.optim.SGD(params, lr=learning_rate, momentum=0.9, nesterov=True, fused=fused)
    raise ConfigError(f"unknown optimizer {name!r}; valid: adam, rmsprop, sgd")


def to_tensor(array: npt.ArrayLike, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """A tensor on ``device`` holding ``array`` (read-only arrays are copied first)."""
    values = np.asarray(array)
    if not values.flags.writeable:
        values = values.copy()
    return torch.as_tensor(values, dtype=dtype, device=device)


@torch.no_grad()
def scored_in_blocks(
    score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    first: npt.NDArray[np.integer],
    second: npt.NDArray[np.integer],
    device: torch.device,
    block: int,
) -> npt.NDArray[Any]:
    """``score`` of many aligned index pairs, ``block`` pairs at a time to bound memory."""
    parts = [
        score(
            to_tensor(first[start : start + block], device, torch.int64),
            to_tensor(second[start : start + block], device, torch.int64),
        )
        .cpu()
        .numpy()
        for start in range(0, first.size, block)
    ]
    return np.concatenate(parts) if parts else np.empty(0, np.float32)


@dataclass(frozen=True)
class SparseRows:
    """Some rows of a CSR matrix as flat tensors, ready for ``EmbeddingBag`` and gathers.

    Row ``k`` of the batch owns the entries ``offsets[k]`` up to ``offsets[k + 1]`` (exclusive)
    of ``columns`` and ``values``; ``row_of_entry`` repeats ``k`` once per entry.
    """

    columns: torch.Tensor
    """Column index of each stored entry (int64)."""
    values: torch.Tensor
    """Value of each stored entry (float32)."""
    offsets: torch.Tensor
    """Start of each row's entries (int64, one per row, as ``EmbeddingBag`` wants)."""
    row_of_entry: torch.Tensor
    """Batch row of each stored entry (int64)."""
    n_rows: int
    """Rows in the batch."""


def sparse_rows(
    matrix: sp.csr_matrix, rows: npt.NDArray[np.integer], device: torch.device
) -> SparseRows:
    """Cut ``rows`` out of ``matrix`` as :class:`SparseRows` on ``device``."""
    indptr = matrix.indptr
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    row_of_entry = np.repeat(np.arange(rows.size, dtype=np.int64), lengths)
    offsets = np.zeros(rows.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=offsets[1:])
    positions = np.arange(int(lengths.sum()), dtype=np.int64) - offsets[row_of_entry]
    positions += starts[row_of_entry]
    return SparseRows(
        columns=to_tensor(matrix.indices[positions], device, torch.int64),
        values=to_tensor(matrix.data[positions], device, torch.float32),
        offsets=to_tensor(offsets, device, torch.int64),
        row_of_entry=to_tensor(row_of_entry, device, torch.int64),
        n_rows=int(rows.size),
    )


def check_not_diverged(model: str, rmse: float, scale: tuple[float, float], epoch: int) -> None:
    """Raise :class:`ModelFitError` when the training RMSE is far beyond the rating scale.

    An error ten times the highest rating cannot come from a fit that is converging: stop at once
    instead of training on until the weights overflow.
    """
    if not rmse < 10.0 * max(abs(scale[0]), abs(scale[1]), 1.0):
        raise ModelFitError(
            f"{model} diverged: training RMSE {rmse:.3g} at epoch {epoch}; "
            "lower the learning rate or raise the regularization"
        )


def fit_vectors(
    loss: Callable[..., torch.Tensor], initial: Sequence[torch.Tensor], *, steps: int
) -> list[torch.Tensor]:
    """Minimise ``loss(*vectors)`` by L-BFGS from ``initial`` (for folding in a new user).

    Only the vectors move; whatever ``loss`` closes over stays as it is.
    """
    vectors = [vector.detach().clone().requires_grad_(True) for vector in initial]
    solver = torch.optim.LBFGS(vectors, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        solver.zero_grad()
        value = loss(*vectors)
        value.backward()  # type: ignore[no-untyped-call]
        return value

    with torch.enable_grad():
        solver.step(closure)  # type: ignore[no-untyped-call]
    return [vector.detach() for vector in vectors]


def state_arrays(module: nn.Module) -> dict[str, np.ndarray]:
    """The module's state dict as float32 numpy arrays on the CPU (copies)."""
    return {
        name: tensor.detach().to("cpu", torch.float32).numpy().copy()
        for name, tensor in module.state_dict().items()
    }


def load_state_arrays(module: nn.Module, params: Mapping[str, np.ndarray]) -> None:
    """Load arrays from :func:`state_arrays` into ``module``, checking names and shapes.

    Raises:
        ValueError: a missing or unexpected name, or an array of the wrong shape.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(params))
    unexpected = sorted(set(params) - set(expected))
    if missing or unexpected:
        raise ValueError(f"missing arrays {missing}, unexpected arrays {unexpected}")
    state = {}
    for name, tensor in expected.items():
        array = np.asarray(params[name])
        if tuple(array.shape) != tuple(tensor.shape):
            raise ValueError(
                f"array {name!r} has shape {array.shape}, the model needs {tuple(tensor.shape)}"
            )
        state[name] = torch.as_tensor(array, dtype=tensor.dtype, device=tensor.device)
    module.load_state_dict(state)


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def fitted_net(model: Recommender[Any], net: ModuleT | None) -> ModuleT:
    """``model``'s trained network, switched to evaluation mode (trainers switch it back).

    Raises:
        NotFittedError: ``model`` is not fitted.
    """
    if not model.is_fitted:
        raise NotFittedError(f"{type(model).__name__} is not fitted; call fit first")
    if net is None:
        raise AssertionError(f"fitted {type(model).__name__} without a network")
    net.eval()
    return net


class ModuleTrainer(Generic[ModuleT]):
    """Snapshot and restore for an epoch trainer whose weights are one ``nn.Module``.

    It keeps the network, the device it trains on, the validation set (or None) and the
    :class:`StepPlan` each optimisation step reports to, which every neural trainer needs.
    """

    def __init__(
        self, net: ModuleT, device: torch.device, validation: Ratings | None, plan: StepPlan
    ) -> None:
        self.net, self.device, self.validation, self.plan = net, device, validation, plan

    @property
    def has_validation(self) -> bool:
        """Whether there is a non-empty validation set."""
        return self.validation is not None and len(self.validation) > 0

    def snapshot(self) -> object:
        """A copy of the weights as numpy arrays."""
        return state_arrays(self.net)

    def restore(self, snapshot: object) -> None:
        """Put back weights taken by :meth:`snapshot`."""
        if not isinstance(snapshot, dict):
            raise TypeError(f"a snapshot is a dict of arrays, got {type(snapshot).__name__}")
        load_state_arrays(self.net, snapshot)
