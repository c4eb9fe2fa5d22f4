"""The network that AutoRec and the movie autoencoder train.

A sparse-input encoder, optional middle layers, and a decoder that is read densely or at chosen
entries only.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

from matinee.models.neural._torch import SparseRows, activation, fit_vectors, gather_rows

__all__ = ["AutoRecNet"]


class AutoRecNet(nn.Module):
    """The AutoRec network: sparse-input encoder, optional middle layers, decoder."""

    def __init__(
        self,
        *,
        n_inputs: int,
        hidden: tuple[int, ...],
        hidden_activation: str,
        output_activation: str,
        dropout: float,
    ) -> None:
        super().__init__()
        self.n_outputs = n_inputs
        self.code_size = hidden[-1]
        bound = 1.0 / np.sqrt(n_inputs)
        self.encoder = nn.EmbeddingBag(n_inputs, hidden[0], mode="sum")
        nn.init.uniform_(self.encoder.weight, -bound, bound)
        self.encoder_bias = nn.Parameter(torch.zeros(hidden[0]))
        layers: list[nn.Module] = [activation(hidden_activation), nn.Dropout(dropout)]
        for size_in, size_out in itertools.pairwise(hidden):
            layers += [nn.Linear(size_in, size_out), activation(hidden_activation)]
            layers.append(nn.Dropout(dropout))
        self.middle = nn.Sequential(*layers)
        bound = 1.0 / np.sqrt(self.code_size)
        self.decoder_weight = nn.Parameter(torch.empty(n_inputs, self.code_size))
        nn.init.uniform_(self.decoder_weight, -bound, bound)
        self.decoder_bias = nn.Parameter(torch.zeros(n_inputs))
        self.output = activation(output_activation)

    def encode(self, rows: SparseRows) -> torch.Tensor:
        """Codes of a batch of sparse rating vectors: cost grows with their ratings."""
        summed = self.encoder(rows.columns, rows.offsets, per_sample_weights=rows.values)
        codes: torch.Tensor = self.middle(summed + self.encoder_bias)
        return codes

    def decode_at(
        self, codes: torch.Tensor, rows: torch.Tensor, columns: torch.Tensor
    ) -> torch.Tensor:
        """Outputs at (row, column) entries only: one dot product per entry."""
        weights = gather_rows(self.decoder_weight, columns)
        dots = torch.einsum("ed,ed->e", gather_rows(codes, rows), weights)
        out: torch.Tensor = self.output(dots + gather_rows(self.decoder_bias, columns))
        return out

    def decode_dense(self, codes: torch.Tensor) -> torch.Tensor:
        """Every output of each code: ``(batch, n_outputs)``."""
        out: torch.Tensor = self.output(
            torch.addmm(self.decoder_bias, codes, self.decoder_weight.T)
        )
        return out

    def decode_columns(self, codes: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """Some outputs of every code: ``(n_codes, len(columns))``."""
        weight, bias = self.decoder_weight[columns], self.decoder_bias[columns]
        out: torch.Tensor = self.output(torch.addmm(bias, codes, weight.T))
        return out

    def fold_in_output(
        self,
        codes: torch.Tensor,
        rated: torch.Tensor,
        targets: torch.Tensor,
        *,
        prior_units: torch.Tensor,
        l2: float,
        steps: int,
        full_targets: bool = False,
    ) -> torch.Tensor:
        """Outputs of every code for a new output unit fitted to ``targets`` at ``rated`` codes.

        The new unit's weights and bias start at the mean of the ``prior_units`` (a boolean mask
        of trained units) and are fitted by L-BFGS with an L2 pull of ``l2`` towards that mean;
        the network itself stays frozen. With ``full_targets`` the unit is fitted to every code,
        with zeros where there is no target (the zero-filled loss); otherwise to ``rated`` only.
        """
        prior_weight = self.decoder_weight.detach()[prior_units].mean(0)
        prior_bias = self.decoder_bias.detach()[prior_units].mean()
        if full_targets:
            filled = torch.zeros(codes.shape[0], device=codes.device)
            filled[rated] = targets
            inputs, goals = codes, filled
        else:
            inputs, goals = codes[rated], targets
        if goals.numel():
            prior_weight, prior_bias = fit_vectors(
                lambda weight, bias: (
                    torch.sum((self.output(inputs @ weight + bias) - goals) ** 2)
                    + l2 * torch.sum((weight - prior_weight) ** 2)
                ),
                [prior_weight, prior_bias],
                steps=steps,
            )
        out: torch.Tensor = self.output(codes @ prior_weight + prior_bias)
        return out

    def penalty(self, l2: float, l1: float) -> torch.Tensor:
        """L2 and L1 penalties over the weight matrices (not the biases)."""
        weights = [self.encoder.weight, self.decoder_weight]
        weights += [layer.weight for layer in self.middle if isinstance(layer, nn.Linear)]
        total = torch.zeros((), device=self.decoder_weight.device)
        for weight in weights:
            if l2:
                total = total + l2 * torch.sum(weight**2)
            if l1:
                total = total + l1 * torch.sum(torch.abs(weight))
        return total
