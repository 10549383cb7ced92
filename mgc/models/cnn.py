"""CNN: the CRNN's convolutional front without the recurrence — the zoo's "is the GRU worth it?" control.

Five conv blocks (3×3 convolution, batch norm, ReLU, max-pooling; Choi et al. 2016's block) collapse
the 128 mel bands to one and pool time by 4 overall, exactly as in `CRNN`; the remaining time steps
are summarised by mean and max pooling instead of two GRU layers, then a dense layer classifies.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..frontends.picture import N_MELS
from .modules import PictureNormalisation, conv_stack, mean_max_over_time


@dataclass
class CNNConfig:
    channels: tuple[int, ...] = (32, 64, 64, 128, 128)
    pools: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 1), (4, 1), (4, 1))
    conv_dropout: float = 0.1
    dropout: float = 0.3
    classes: int = 10


class CNN(nn.Module):
    """Mel picture (batch, 128, columns) → {"logits": (batch, classes), "embedding": (batch, 2·channels[-1])}."""

    Config = CNNConfig

    def __init__(self, config: CNNConfig | None = None):
        super().__init__()
        self.config = config or CNNConfig()
        c = self.config
        self.normalise = PictureNormalisation(N_MELS)
        self.convs = conv_stack(c.channels, c.pools, c.conv_dropout)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(2 * c.channels[-1], c.classes))

    def forward(self, pictures: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.convs(self.normalise(pictures).unsqueeze(1))  # (batch, channels, 1, time')
        embedding = mean_max_over_time(x.amax(dim=2).transpose(1, 2))
        return {"logits": self.head(embedding), "embedding": embedding}
