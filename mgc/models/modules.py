"""Blocks shared by the picture models: input normalisation, conv blocks, time pooling."""
from __future__ import annotations

import torch
from torch import nn

from ..representation import N_MELS


class PictureNormalisation(nn.Module):
    """Colour indices (uint8, 0..255) → standardised floats, per mel band.

    Mean and standard deviation per band are buffers, set once from the training part
    (`fit`) and saved with the weights, so serving uses exactly the numbers training used.
    """

    def __init__(self, bands: int = N_MELS):
        super().__init__()
        self.register_buffer("mean", torch.zeros(bands))
        self.register_buffer("std", torch.ones(bands))

    @torch.no_grad()
    def fit(self, pictures: list) -> None:
        """Set the per-band statistics from training pictures (arrays of shape (bands, columns))."""
        stacked = torch.cat([torch.as_tensor(p, dtype=torch.float64) for p in pictures], dim=1)
        self.mean.copy_(stacked.mean(dim=1).float())
        self.std.copy_(stacked.std(dim=1).clamp_min(1.0).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        return (x - self.mean[:, None]) / self.std[:, None]


class ConvBlock(nn.Sequential):
    """3×3 convolution, batch norm, ReLU, max-pooling (Choi et al. 2016's block), then dropout."""

    def __init__(self, c_in: int, c_out: int, pool: tuple[int, int], dropout: float = 0.1):
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(pool, ceil_mode=True),
            nn.Dropout2d(dropout),
        )


def conv_stack(channels: tuple[int, ...], pools: tuple[tuple[int, int], ...], dropout: float) -> nn.Sequential:
    """A stack of ConvBlocks from one input channel."""
    blocks, c_in = [], 1
    for c_out, pool in zip(channels, pools, strict=True):
        blocks.append(ConvBlock(c_in, c_out, tuple(pool), dropout))
        c_in = c_out
    return nn.Sequential(*blocks)


def mean_max_over_time(sequence: torch.Tensor) -> torch.Tensor:
    """(batch, time, features) → (batch, 2 × features): mean and max over time, for any length."""
    return torch.cat([sequence.mean(dim=1), sequence.amax(dim=1)], dim=1)
