"""MLP on Kaggle's 57 hand-crafted features of a 30-s clip.

The tabular seed's networks: dense ReLU layers narrowing to 64 units, dropout 0.2 between them, a
10-way softmax output, trained with Adam, SGD or RMSprop at batch 128 (the four recipes are
`mgc.train.tabular.MLP_VARIANTS`).

How it is kept honest here:
* Standardisation is fitted on the training part only and lives inside the module as buffers
  (`FeatureStandardisation`), so no valid or test row shapes it and serving cannot drift from training.
* Training stops early on the validation part; the test part is only touched by `evaluate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .modules import FeatureStandardisation, dense_stack

N_FEATURES = 57
"""len(mgc.frontends.features.FEATURE_NAMES); written out so that building a model does not import librosa."""


@dataclass
class MLPConfig:
    hidden: tuple[int, ...] = (256, 128, 64)
    dropout: float = 0.2
    features: int = N_FEATURES
    classes: int = 10


class MLP(nn.Module):
    """Raw feature rows (batch, 57) → {"logits": (batch, classes), "embedding": (batch, hidden[-1])}.

    The embedding is the last hidden layer's activation (after ReLU, before dropout).
    """

    Config = MLPConfig

    def __init__(self, config: MLPConfig | None = None):
        super().__init__()
        self.config = config or MLPConfig()
        c = self.config
        self.normalise = FeatureStandardisation(c.features)
        self.hidden, width = dense_stack(c.features, c.hidden, c.dropout)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(width, c.classes))

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        embedding = self.hidden(self.normalise(features))
        return {"logits": self.head(embedding), "embedding": embedding}
