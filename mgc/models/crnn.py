"""CRNN: convolutional recurrent network for music classification.

After Choi, Fazekas, Sandler & Cho, "Convolutional Recurrent Neural Networks for Music
Classification", ICASSP 2017 (arXiv 1609.04243): 2-D conv blocks with batch norm and max-pooling
summarise the spectrogram locally, two GRU layers summarise it over time, a dense layer classifies.

What we changed, and why:
* Input: Kaggle's 128-band mel pictures (colour indices, ≈ 89.6 ms per column) instead of a
  96-band log-mel at 12 kHz; normalisation per band lives inside the module. `bands` sets the input's height:
  the family `crnn-seed` is this network on the seeds' own 96-band log-mel in dB (`mgc.frontends.seed_input`),
  trained from audio; the same per-band standardisation reads its floats.
* Five conv blocks (as the seeds) with channels 32-64-64-128-128 and pooling that collapses the
  128 bands to 1 but pools time by only 4 in all: a column is already 3.87 STFT frames, so the
  paper's heavy time pooling (2·3·4·4 = 96) would leave almost no steps for the GRUs.
* The GRU output is pooled by mean and max over time (not its last step): the model is applied
  to windows of any width (2-s microphone excerpts to 30-s clips) and the pooled embedding is
  steadier than a last step that depends on where a window ends.
* Dropout after each block and before the dense layer: GTZAN has only ~700 training tracks.
* `cell` chooses the recurrent layer: GRU (the paper's, run `crnn`) or LSTM (run `cnn-lstm`, the seeds'
  CNN-LSTM), same widths, pooling and head, so the two differ in the cell alone. The layer keeps the
  attribute name `gru` (and `gru_hidden`, `gru_layers`) whatever the cell, so checkpoints keep their keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..frontends.picture import N_MELS
from .modules import PictureNormalisation, conv_stack, mean_max_over_time

RECURRENT_CELLS = {cell.__name__.lower(): cell for cell in (nn.GRU, nn.LSTM)}
"""A config's `cell` → its torch layer, named as torch names it ("gru", "lstm")."""


@dataclass
class CRNNConfig:
    channels: tuple[int, ...] = (32, 64, 64, 128, 128)
    pools: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 1), (4, 1), (4, 1))
    gru_hidden: int = 64
    gru_layers: int = 2
    cell: str = "gru"  # or "lstm"
    conv_dropout: float = 0.1
    dropout: float = 0.3
    classes: int = 10
    bands: int = N_MELS  # mel bands of the input: 128 (Kaggle's picture) or 96 (the seeds' log-mel)


class CRNN(nn.Module):
    """Mel spectrogram (batch, bands, columns) → {"logits": (batch, classes), "embedding": (batch, 2·gru_hidden)}."""

    Config = CRNNConfig

    def __init__(self, config: CRNNConfig | None = None):
        super().__init__()
        self.config = config or CRNNConfig()
        c = self.config
        self.normalise = PictureNormalisation(c.bands)
        self.convs = conv_stack(c.channels, c.pools, c.conv_dropout)
        bands_left = c.bands
        for pool in c.pools:
            bands_left = -(-bands_left // pool[0])
        if c.cell not in RECURRENT_CELLS:
            raise ValueError(f"unknown recurrent cell {c.cell!r}; use one of {', '.join(RECURRENT_CELLS)}")
        self.gru = RECURRENT_CELLS[c.cell](
            c.channels[-1] * bands_left,
            c.gru_hidden,
            num_layers=c.gru_layers,
            batch_first=True,
            dropout=c.dropout if c.gru_layers > 1 else 0.0,
        )
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(2 * c.gru_hidden, c.classes))

    def forward(self, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.normalise(pictures).unsqueeze(1)  # (batch, 1, bands, time)
        x = self.convs(x)  # (batch, channels, bands', time')
        x = x.flatten(1, 2).transpose(1, 2)  # (batch, time', channels·bands')
        sequence, _ = self.gru(x)
        embedding = mean_max_over_time(sequence)
        return {"logits": self.head(embedding), "embedding": embedding}
