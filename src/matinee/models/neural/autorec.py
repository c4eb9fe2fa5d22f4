"""AutoRec (Sedhain et al. 2015): an autoencoder over rating vectors, trained on observed entries.

Item-based AutoRec (I-AutoRec) encodes each movie's vector of user ratings, user-based AutoRec
(U-AutoRec) each user's vector of movie ratings::

    h = g(V r + mu)            (more hidden layers for the deep variant)
    r_hat = f(W h + b)
    loss = mean over observed entries of (r - r_hat)^2 + reg * sum ||weights||^2 + reg_l1 * sum |w|

The input is sparse: the first layer is an ``EmbeddingBag`` sum of the observed entries' weight
rows, so its cost grows with the number of ratings. The output loss is computed either at the
observed entries only (``sparse``: gather the decoder rows they need) or by a full decode that is
then masked (``dense``: one matrix product, faster when ratings are dense); ``auto`` chooses by
density (see ``benchmarks/bench_neural.py``).

The network learns the residual over the bias baseline: its input stays the rating vectors
(who rated what carries signal), its output ``r_hat - (mu + b_u + b_i)`` with the baseline's
biases fitted on the training ratings. RMSE ml-100k u1 0.9112 and ml-latest-small 90/10 seed 0
0.8483 (bias baseline 0.9536 and 0.8526), against 0.9208 and 0.8796 with ratings as targets; with
residuals as the input too, 0.9508 and 0.8637.

Unseen users and movies: as in the paper, a (user, movie) pair whose user or movie has no
training rating gets a default rating, here the training mean plus the known side's bias.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import torch

from matinee.data.ratings import Ratings
from matinee.models._offsets import BaselineOffsets
from matinee.models.config import EpochConfig, check_layers, fraction, setting
from matinee.models.neural._autoencoder import (
    AutoencoderModel,
    RowBatchTrainer,
    decode_pairs,
    inner_holdout,
)
from matinee.models.neural._autorec_net import AutoRecNet
from matinee.models.neural._plan import StepPlan, autoencoder_plan
from matinee.models.neural._torch import (
    Activation,
    make_optimizer,
    sparse_rows,
    to_tensor,
)
from matinee.models.ranking import RankingSpec, TasteRanked
from matinee.models.search import IntRange, space
from matinee.training.loop import EpochRecord, FitOptions, run_epochs
from matinee.types import IndexArray, RatingArray

__all__ = ["SPARSE_OUTPUT_MAX_DENSITY", "AutoRec", "AutoRecConfig", "inner_holdout"]

log = logging.getLogger(__name__)

SPARSE_OUTPUT_MAX_DENSITY = 0.015
"""Density of the rating matrix below which ``output_loss="auto"`` computes the loss at observed
entries only; above it the full decode (one matrix product) is faster. Measured on one CPU thread
in ``benchmarks/bench_neural.py``: at 5.0% (ml-100k) and 4.5% (ml-1m shape) density the dense
decode wins by 2.5x to 4x; at 0.3% (20,000 users x 8,000 movies) the two are even (44 s and 46 s
an epoch), because there the Adam step and the L2 term over every weight dominate both."""


@dataclass(frozen=True, kw_only=True)
class AutoRecConfig(EpochConfig):
    """Hyperparameters of :class:`AutoRec`; the defaults are the paper's I-AutoRec, tuned."""

    SEARCH_SPACE = space(reg=(1e-5, 0.1), learning_rate=(1e-4, 0.01), epochs=IntRange(10, 100))

    kind: Literal["item", "user"] = "item"
    """``item`` encodes each movie's ratings (I-AutoRec, the better one), ``user`` each user's."""

    hidden: tuple[int, ...] = (500,)
    """Units of each hidden layer; the deep variant is ``(1500, 500, 1500)``."""

    hidden_activation: Activation = "sigmoid"
    """Activation of every hidden layer."""

    output_activation: Activation = "identity"
    """Activation of the output layer (the paper uses identity)."""

    dropout: float = fraction(0.0)
    """Dropout rate after each hidden layer."""

    reg: float = setting(1e-3, low=0.0)
    """L2 penalty on all weight matrices, relative to the mean squared error."""

    reg_l1: float = setting(0.0, low=0.0)
    """L1 penalty on all weight matrices, relative to the mean squared error."""

    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Optimizer of the weights."""

    learning_rate: float = setting(1e-3, low=0.0, low_open=True)
    """Step size of the optimizer."""

    batch_size: int = setting(64, low=1)
    """Rating vectors (movies for ``item``, users for ``user``) per optimisation step."""

    epochs: int = 50

    patience: int | None = 3
    """Stop after this many epochs without a better validation loss (None: never stop early).
    Without a validation set in ``fit``, the loss is that of ``validation_fraction``."""

    validation_fraction: float = fraction(0.1)
    """Share of the training ratings held out of the input and the loss to stop early when
    ``fit`` gets no validation set (0: none). They go back into the input after training."""

    output_loss: Literal["auto", "dense", "sparse"] = "auto"
    """Where the output is decoded during training: observed entries only (``sparse``), every
    entry then masked (``dense``), or chosen by density (``auto``)."""

    reg_fold_in: float = setting(1.0, low=0.0)
    """Pull of a new user's decoder row towards the average user's (item AutoRec fold-in)."""

    fold_in_steps: int = setting(50, low=1)
    """Most L-BFGS iterations when folding in a new user (item AutoRec)."""

    def validate(self) -> None:
        """Check the declared ranges and the layer sizes."""
        super().validate()
        check_layers(self, "hidden")


class _Trainer(RowBatchTrainer["AutoRec"]):
    """One epoch of AutoRec over shuffled batches of rating vectors."""

    def __init__(
        self,
        model: AutoRec,
        net: AutoRecNet,
        device: torch.device,
        validation: Ratings | None,
        plan: StepPlan,
    ) -> None:
        config = model.config
        optimizer = make_optimizer(config.optimizer, list(net.parameters()), config.learning_rate)
        super().__init__(model, net, device, validation, optimizer, plan)
        self.config = config
        self.rows = np.flatnonzero(np.diff(model.input_matrix_.indptr) > 0)
        self.sparse_output = model.uses_sparse_output()
        self.offsets = model.offsets_at_entries()

    def _batch_loss(self, rows: npt.NDArray[np.int64]) -> tuple[torch.Tensor, torch.Tensor, int]:
        """The masked residual loss of some rows, plus the weight penalty."""
        config, net = self.config, self.net
        batch = sparse_rows(self.model.input_matrix_, rows, self.device)
        residuals = batch.values - sparse_rows(self.offsets, rows, self.device).values
        codes = net.encode(batch)
        if self.sparse_output:
            predicted = net.decode_at(codes, batch.row_of_entry, batch.columns)
        else:
            flat = batch.row_of_entry * net.n_outputs + batch.columns
            predicted = net.decode_dense(codes).reshape(-1)[flat]
        squared = torch.sum((predicted - residuals) ** 2)
        loss = squared / batch.values.numel() + net.penalty(config.reg, config.reg_l1)
        return loss, squared, int(batch.values.numel())

    def train_epoch(self, epoch: int) -> dict[str, float]:
        mse = self.row_pass(self.rows, self.config.batch_size, self._batch_loss, epoch)
        return {"loss": mse**0.5}

    def validation_loss(self) -> float | None:
        if self.validation is None or len(self.validation) == 0:
            return None
        self.model.forget_codes()
        predicted = self.model.predict(self.validation.user_idx, self.validation.movie_idx)
        error = predicted.astype(np.float64) - self.validation.rating
        return float(np.sqrt(np.mean(error**2)))


class AutoRec(TasteRanked[AutoRecConfig], AutoencoderModel[AutoRecConfig]):
    """Item- or user-based AutoRec with sparse input and a loss masked to observed ratings.

    Lists: ``rank_users`` / ``rank_new_user`` use a :class:`~matinee.models.ranking.RankingHead`
    over 512 random Fourier features of the unit movie vectors (item AutoRec: each movie's
    code; user AutoRec: its decoder row), kernel width 0.5, reg 10. Measured on the new-user
    protocol (hidden-ratings users=0.2 hidden=0.5, ml-100k seed 0, NDCG@10): ranking by
    predicted rating 0.196 (below ``popular``, 0.276), a head on the raw 500-unit codes 0.401
    (popularity exponent 0.3: 0.325), the kernel head 0.462. ``predict`` is unchanged.
    """

    name = "autorec"
    config_type = AutoRecConfig
    ranking_spec = RankingSpec(reg=10.0, kernel_features=512, kernel_width=0.5)

    # ---- training ---------------------------------------------------------------------------

    def _fit(
        self, train: Ratings, validation: Ratings | None, options: FitOptions
    ) -> list[EpochRecord]:
        learn, stop_on = train, validation
        if validation is None and self.config.patience is not None:
            learn, stop_on = inner_holdout(train, self.config.validation_fraction, self.config.seed)
        self.offsets_ = BaselineOffsets.fit(learn)
        self.input_matrix_ = self._matrix(learn)
        config = self.config
        plan = autoencoder_plan(
            self.name,
            self.input_matrix_,
            config,
            hidden=("hidden", config.hidden),
            optimizer=config.optimizer,
            rows_are="movies" if config.kind == "item" else "users",
        )

        def train_net(net: AutoRecNet) -> list[EpochRecord]:
            with torch.no_grad():
                net.decoder_bias.fill_(0.0)
            trainer = _Trainer(self, net, self._device, stop_on, plan)
            log.info("autorec: %s output loss", "sparse" if trainer.sparse_output else "dense")
            # An inner share too small to hold a rating drops early stopping; asking for no
            # share at all keeps patience, so the loop refuses it before epoch 1.
            keeps_patience = trainer.has_validation or self.config.validation_fraction == 0
            loop = self.config if keeps_patience else replace(self.config, patience=None)
            return run_epochs(trainer, loop, options, description="autorec")

        history = self._train_net(options.device, train_net)
        self.input_matrix_ = self._matrix(train)
        return history

    def _matrix(self, ratings: Ratings) -> sp.csr_matrix:
        """The input rating vectors: movies x users (``item``) or users x movies (``user``)."""
        matrix = (
            ratings.movie_user_matrix()
            if self.config.kind == "item"
            else ratings.user_movie_matrix()
        )
        return matrix.astype(np.float32)

    def offsets_at_entries(self) -> sp.csr_matrix:
        """The baseline offsets at every stored input entry (the input's layout)."""
        matrix = self.input_matrix_
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        cells = (matrix.indices, rows) if self.config.kind == "item" else (rows, matrix.indices)
        values = self.offsets_.at(*cells).astype(np.float32)
        return sp.csr_matrix((values, matrix.indices, matrix.indptr), shape=matrix.shape)

    def _build_net(self) -> AutoRecNet:
        config = self.config
        return AutoRecNet(
            n_inputs=self.input_matrix_.shape[1],
            hidden=config.hidden,
            hidden_activation=config.hidden_activation,
            output_activation=config.output_activation,
            dropout=config.dropout,
        )

    def uses_sparse_output(self) -> bool:
        """Whether training decodes observed entries only (``output_loss`` resolved)."""
        if self.config.output_loss != "auto":
            return self.config.output_loss == "sparse"
        rows, columns = self.input_matrix_.shape
        density = self.input_matrix_.nnz / max(rows * columns, 1)
        return bool(density < SPARSE_OUTPUT_MAX_DENSITY)

    def taste_vectors(self) -> npt.NDArray[np.floating[Any]]:
        """Movie vectors for the ranking head: item codes (``item``) or decoder rows (``user``)."""
        if self.config.kind == "item":
            return self._all_codes().cpu().numpy().astype(np.float32)
        weights = self._fitted_net().decoder_weight.detach()
        return np.asarray(weights.cpu().numpy(), dtype=np.float32)

    # ---- prediction -------------------------------------------------------------------------

    def _seen(self) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Which users and which movies have training ratings."""
        matrix = self.input_matrix_
        row_seen = np.diff(matrix.indptr) > 0
        column_seen = np.bincount(matrix.indices, minlength=matrix.shape[1]) > 0
        return (column_seen, row_seen) if self.config.kind == "item" else (row_seen, column_seen)

    @torch.no_grad()
    def _predict(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.floating[Any]]:
        net = self._fitted_net()
        rows, columns = (movies, users) if self.config.kind == "item" else (users, movies)
        unique_rows, row_position = np.unique(rows, return_inverse=True)
        codes = self._all_codes()[to_tensor(unique_rows, self._device, torch.int64)]
        predicted = decode_pairs(net, codes, row_position, columns, self._device)
        out = predicted + self.offsets_.at(users, movies)
        user_seen, movie_seen = self._seen()
        unseen = ~(user_seen[users] & movie_seen[movies])
        out[unseen] = self._fallback(users[unseen], movies[unseen])
        return out

    def _fallback(self, users: IndexArray, movies: IndexArray) -> npt.NDArray[np.float64]:
        """The rating of a pair whose user or movie has no training rating.

        The training mean plus whatever bias the baseline learned (the mean alone for a save
        without offsets).
        """
        offsets = self.offsets_
        return self.global_mean_ + offsets.at(users, movies) - offsets.level

    @torch.no_grad()
    def _score_users(self, users: IndexArray) -> npt.NDArray[np.floating[Any]]:
        net = self._fitted_net()
        if self.config.kind == "item":
            user_tensor = to_tensor(users, self._device, torch.int64)
            scores = net.decode_columns(self._all_codes(), user_tensor).T
        else:
            scores = net.decode_dense(self._encode_rows(users.astype(np.int64)))
        base = self.offsets_.rows(self.offsets_.user_bias[users])
        out = scores.cpu().numpy().astype(np.float64) + base
        user_seen, movie_seen = self._seen()
        fallback = base + (self.global_mean_ - self.offsets_.level)
        unseen = ~user_seen[users][:, None] | ~movie_seen[None, :]
        out[unseen] = fallback[unseen]
        return out

    def _score_new_user(
        self, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        net = self._fitted_net()
        user_bias = self.offsets_.new_user_bias(movies, ratings)
        base = self.offsets_.rows(np.asarray([user_bias]))[0]
        residuals = (ratings - base[movies]).astype(np.float32)
        if self.config.kind == "user":
            row = sp.csr_matrix(
                (ratings, (np.zeros(movies.size, dtype=np.int64), movies)),
                shape=(1, self.n_movies),
                dtype=np.float32,
            )
            with torch.no_grad():
                codes = net.encode(sparse_rows(row, np.zeros(1, dtype=np.int64), self._device))
                out = net.decode_dense(codes)[0].cpu().numpy()
        else:
            out = self._fold_in_item_based(net, movies, residuals)
        _, movie_seen = self._seen()
        scores: npt.NDArray[np.float64] = np.asarray(out, dtype=np.float64) + base
        scores[~movie_seen] = base[~movie_seen] + (self.global_mean_ - self.offsets_.level)
        return scores

    def _fold_in_item_based(
        self, net: AutoRecNet, movies: IndexArray, ratings: RatingArray
    ) -> npt.NDArray[np.floating[Any]]:
        """Fit the new user's decoder row on the frozen codes of the movies they rated.

        A new user is a new output unit (a new column of every movie's vector). The movie codes
        are kept as they are (one more input column would barely move them), and the user's
        decoder weights and bias are fitted by L-BFGS to their ratings, pulled towards the
        average user's by ``reg_fold_in``. Every movie's prediction then comes from its code.
        """
        user_seen, movie_seen = self._seen()
        keep = movie_seen[movies]
        with torch.no_grad():
            return (
                net.fold_in_output(
                    self._all_codes(),
                    to_tensor(movies[keep], self._device, torch.int64),
                    to_tensor(ratings[keep], self._device, torch.float32),
                    prior_units=to_tensor(user_seen, self._device, torch.bool),
                    l2=self.config.reg_fold_in,
                    steps=self.config.fold_in_steps,
                )
                .cpu()
                .numpy()
            )

    # ---- persistence ------------------------------------------------------------------------

    def _load_parameters(self, params: Mapping[str, np.ndarray]) -> None:
        users, movies = self.n_users, self.n_movies
        self._load_network(
            params, (movies, users) if self.config.kind == "item" else (users, movies)
        )
        self.offsets_ = BaselineOffsets.from_parameters(params, users, movies)

    def _parameters(self) -> dict[str, np.ndarray]:
        """The network, the input and the baseline offsets the network learns residuals over.

        A save without offsets predicts the network's output alone, as it did.
        """
        return {**super()._parameters(), **self.offsets_.parameters()}
