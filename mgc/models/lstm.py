"""LSTM: a recurrent network straight over the picture's columns — the zoo's "no convolution" model.

Each column of the mel picture (128 standardised band levels, ≈ 89.6 ms) is one step of a two-layer
bidirectional LSTM (Hochreiter & Schmidhuber 1997); its outputs are pooled by mean and max over time,
as in `CRNN`, so windows of any width (2-s excerpts to 30-s clips) give a steady embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..frontends.picture import N_MELS
from .modules import PictureNormalisation, mean_max_over_time


@dataclass
class LSTMConfig:
    hidden: int = 96
    layers: int = 2
    bidirectional: bool = True
    input_dropout: float = 0.1
    dropout: float = 0.3
    classes: int = 10


class LSTM(nn.Module):
    """Mel picture (batch, 128, columns) → {"logits": (batch, classes), "embedding": (batch, 2·directions·hidden)}."""

    Config = LSTMConfig

    def __init__(self, config: LSTMConfig | None = None):
        super().__init__()
        self.config = config or LSTMConfig()
        c = self.config
        directions = 2 if c.bidirectional else 1
        self.normalise = PictureNormalisation(N_MELS)
        self.input_dropout = nn.Dropout(c.input_dropout)
        self.lstm = nn.LSTM(
            N_MELS,
            c.hidden,
            num_layers=c.layers,
            batch_first=True,
            bidirectional=c.bidirectional,
            dropout=c.dropout if c.layers > 1 else 0.0,
        )
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(2 * directions * c.hidden, c.classes))

    def forward(self, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
        frames = self.input_dropout(self.normalise(pictures).transpose(1, 2))  # (batch, columns, bands)
        sequence, _ = self.lstm(frames)
        embedding = mean_max_over_time(sequence)
        return {"logits": self.head(embedding), "embedding": embedding}
