"""MovieAutoencoder: a dense autoencoder that gives every movie a vector (the clustering notebook).

Each movie's row of the zero-filled movie x viewer matrix is encoded and decoded::

    h = sigmoid(V r + mu)                     (50 units; the movie's vector)
    r_hat = W h + b                           (linear output, one unit per viewer)
    loss = mean over the whole row of (r - r_hat)^2 + 0.2 * ||V||^2

trained by SGD with Nesterov momentum. As in the notebook the loss covers the full zero-filled
row, so an unrated cell counts as a 0 rating and predictions of unrated cells are pulled towards 0;
``masked_loss`` counts observed ratings only instead (AutoRec's loss). The input is multiplied as a
sparse matrix, which gives the same numbers as the dense product at a cost that grows with the
ratings. When ``fit`` gets no validation set, a share of the movies is held out to stop early.

A new user is a new output unit: their decoder weights are fitted by L-BFGS on the frozen movie
vectors (to the zero-filled column of their ratings, or to their ratings only with
``masked_loss``), pulled towards the average viewer's weights.

Ratings: the reconstruction of a zero-filled row is no rating (RMSE about 2.7 to 3.0), so
``predict`` is the bias baseline plus a linear correction on the reconstruction
(:mod:`matinee.models._calibration`), fitted on a tenth of the training ratings held out of the
input while the network trains; they go back into the input after. Lists rank by the
reconstruction itself, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from matinee.data.ratings import Ratings
from matinee.models._calibration import (
    CalibratedReconstruction,
    Calibration,
    Reconstruction,
    fit_calibration,
)
from matinee.models._offsets import BaselineOffsets
from matinee.models.config import EpochConfig, fraction, setting
from matinee.models.neural._autoencoder import AutoencoderModel, RowBatchTrainer, decode_pairs
from matinee.models.neural._autorec_net import AutoRecNet
from matinee.models.neural._plan import StepPlan, autoencoder_plan
from matinee.models.neural._torch import (
    Activation,
    make_optimizer,
    sparse_rows,
    to_tensor,
)
from matinee.models.search import space
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray

__all__ = ["VALIDATION_CELLS", "MovieAutoencoder", "MovieAutoencoderConfig"]

VALIDATION_CELLS = 2**24
"""Most zero-filled cells (held-out movie rows x viewers) in one block of the validation loss:
its dense output, target and error take about 200 MB. All 5,900 held-out rows of ml-25m at once
(x 162,541 viewers) took 16.9 GB."""


@dataclass(frozen=True, kw_only=True)
class MovieAutoencoderConfig(EpochConfig):
    """Hyperparameters of :class:`MovieAutoencoder`; the defaults are the notebook's."""

    SEARCH_SPACE = space(n_factors=(8, 128), reg=(0.001, 1.0), learning_rate=(0.001, 0.3))

    n_factors: int = setting(50, low=1)
    """Size of each movie's vector (the hidden layer)."""

    hidden_activation: Activation = "sigmoid"
    """Activation of the hidden layer."""

    reg: float = setting(0.2, low=0.0)
    """L2 penalty on the encoder weights (Keras ``kernel_regularizer=l2(0.2)``)."""

    masked_loss: bool = False
    """Count observed ratings only in the loss, instead of the whole zero-filled row."""

    learning_rate: float = setting(0.1, low=0.0, low_open=True)
    """SGD step size (Nesterov momentum 0.9)."""

    batch_size: int = setting(32, low=1)
    """Movies per optimisation step."""

    epochs: int = 100

    patience: int | None = 5
    """Stop after this many epochs without a better validation loss (None: never stop early)."""

    validation_fraction: float = fraction(0.1)
    """Share of the movies held out to stop early when ``fit`` gets no validation set (0: none)."""

    reg_fold_in: float = setting(1.0, low=0.0)
    """Pull of a new viewer's decoder weights towards the average viewer's."""

    fold_in_steps: int = setting(50, low=1)
    """Most L-BFGS iterations when folding in a new viewer."""


class _Trainer(RowBatchTrainer["MovieAutoencoder"]):
    """One epoch of SGD over shuffled movie rows, and the validation loss."""

    def __init__(
        self,
        model: MovieAutoencoder,
        net: AutoRecNet,
        validation: Ratings | None,
        device: torch.device,
        plan: StepPlan,
    ) -> None:
        config = model.config
        optimizer = make_optimizer("sgd", list(net.parameters()), config.learning_rate)
        super().__init__(model, net, device, validation, optimizer, plan)
        self.config = config
        rated = np.flatnonzero(np.diff(model.input_matrix_.indptr) > 0)
        held_out = np.zeros(rated.size, dtype=bool)
        if validation is None and config.validation_fraction > 0:
            count = max(1, round(config.validation_fraction * rated.size))
            held_out[
                self.rng.choice(rated.size, size=min(count, rated.size - 1), replace=False)
            ] = True
        self.train_rows, self.validation_rows = rated[~held_out], rated[held_out]
        plan.steps = -(-self.train_rows.size // config.batch_size)

    @property
    def has_validation(self) -> bool:
        """A non-empty validation set, or (without one) held-out movie rows."""
        if self.validation is not None:
            return len(self.validation) > 0
        return self.validation_rows.size > 0

    def _row_loss(self, rows: npt.NDArray[np.int64]) -> tuple[torch.Tensor, int]:
        """Summed squared error of some movie rows and how many cells it covers."""
        batch = sparse_rows(self.model.input_matrix_, rows, self.device)
        output = self.net.decode_dense(self.net.encode(batch))
        flat = batch.row_of_entry * self.net.n_outputs + batch.columns
        if self.model.config.masked_loss:
            return torch.sum((output.reshape(-1)[flat] - batch.values) ** 2), batch.values.numel()
        target = torch.zeros_like(output).reshape(-1).index_put((flat,), batch.values)
        return torch.sum((output.reshape(-1) - target) ** 2), output.numel()

    def _batch_loss(self, rows: npt.NDArray[np.int64]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The row loss of a batch plus the L2 penalty on the encoder weights."""
        squared, count = self._row_loss(rows)
        penalty = self.config.reg * torch.sum(self.net.encoder.weight**2)
        return squared / count + penalty, squared, count

    def train_epoch(self, epoch: int) -> dict[str, float]:
        mse = self.row_pass(self.train_rows, self.config.batch_size, self._batch_loss, epoch)
        return {"loss": mse}

    @torch.no_grad()
    def validation_loss(self) -> float | None:
        if self.validation is not None:
            if len(self.validation) == 0:
                return None
            data, scale = self.validation, self.model.rating_scale_
            raw = self.model.reconstructed(data.user_idx, data.movie_idx)
            return float(np.sqrt(np.mean((np.clip(raw, *scale) - data.rating) ** 2)))
        if self.validation_rows.size == 0:
            return None
        self.net.eval()
        rows = self.validation_rows
        block = max(1, VALIDATION_CELLS // self.net.n_outputs)
        squared, count = 0.0, 0
        for start in range(0, rows.size, block):
            part, cells = self._row_loss(rows[start : start + block])
            squared, count = squared + float(part), count + cells
        return squared / count


class MovieAutoencoder(CalibratedReconstruction, AutoencoderModel[MovieAutoencoderConfig]):
    """A dense autoencoder over movies' zero-filled rating rows; its codes are movie vectors.

    RMSE ml-100k u1 0.9530 and ml-latest-small 90/10 seed 0 0.8520 (bias baseline 0.9536 and
    0.8526); the raw reconstruction scored 2.69 and 3.00.
    """

    name = "movie-autoencoder"
    config_type = MovieAutoencoderConfig

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        history: list[EpochRecord] = []

        def reconstruct(part: Ratings) -> Reconstruction:
            self.input_matrix_ = part.movie_user_matrix().astype(np.float32)
            config = self.config
            plan = autoencoder_plan(
                self.name,
                self.input_matrix_,
                config,
                hidden=("n_factors", (config.n_factors,)),
                optimizer="sgd",
                rows_are="movies",
            )

            def train_net(net: AutoRecNet) -> list[EpochRecord]:
                trainer = _Trainer(self, net, validation, self._device, plan)
                return run_epochs(trainer, self.config, options, description=self.name)

            history.extend(self._train_net(options.device, train_net))
            return self._reconstruction()

        self.calibration_ = fit_calibration(train, reconstruct, self.config.seed)
        self.input_matrix_ = train.movie_user_matrix().astype(np.float32)
        self.forget_codes()
        return history

    def _build_net(self) -> AutoRecNet:
        return AutoRecNet(
            n_inputs=self.n_users,
            hidden=(self.config.n_factors,),
            hidden_activation=self.config.hidden_activation,
            output_activation="identity",
            dropout=0.0,
        )

    def movie_vectors(self) -> npt.NDArray[np.floating[Any]]:
        """Each movie's hidden activations (``n_movies x n_factors``), for analysis."""
        return self._all_codes().cpu().numpy().astype(np.float32)

    @torch.no_grad()
    def reconstructed(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """The raw reconstruction of (user, movie) cells (what ``predict`` calibrates)."""
        net = self._fitted_net()
        return decode_pairs(net, self._all_codes(), movies, users, self._device)

    @torch.no_grad()
    def _reconstruction(self) -> Reconstruction:
        """The cells and, the output being linear, each viewer's and movie's mean cell."""
        net, codes = self._fitted_net(), self._all_codes()
        weight, bias = net.decoder_weight, net.decoder_bias
        user_means = weight @ codes.mean(0) + bias
        movie_means = codes @ weight.mean(0) + bias.mean()
        return Reconstruction(
            self.reconstructed,
            user_means.cpu().numpy().astype(np.float64),
            movie_means.cpu().numpy().astype(np.float64),
        )

    @torch.no_grad()
    def _raw_rows(self, users: IndexArray) -> npt.NDArray[np.float64]:
        net = self._fitted_net()
        scores = net.decode_columns(self._all_codes(), to_tensor(users, self._device, torch.int64))
        return scores.T.cpu().numpy().astype(np.float64)

    def _raw_new_user(
        self, movies: IndexArray, ratings: npt.NDArray[np.floating]
    ) -> npt.NDArray[np.float64]:
        net = self._fitted_net()
        rated_viewers = np.bincount(self.input_matrix_.indices, minlength=self.n_users) > 0
        with torch.no_grad():
            scores = net.fold_in_output(
                self._all_codes(),
                to_tensor(movies, self._device, torch.int64),
                to_tensor(ratings, self._device, torch.float32),
                prior_units=to_tensor(rated_viewers, self._device, torch.bool),
                l2=self.config.reg_fold_in,
                steps=self.config.fold_in_steps,
                full_targets=not self.config.masked_loss,
            )
        return scores.cpu().numpy().astype(np.float64)

    def _parameters(self) -> dict[str, np.ndarray]:
        return {**super()._parameters(), **self.calibration_.parameters()}

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        """The network and input; a save from before the calibration predicts its raw output."""
        self._load_network(params, (self.n_movies, self.n_users))
        offsets = BaselineOffsets.from_parameters(params, self.n_users, self.n_movies)
        self.calibration_ = Calibration.load(params, offsets)
