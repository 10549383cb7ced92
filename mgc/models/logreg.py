"""Multinomial logistic regression on Kaggle's 57 features: the scikit-learn baseline, as a torch module.

scikit-learn fits it (`StandardScaler` + `LogisticRegression`, see `mgc.train.tabular.fit_logreg`);
this module holds the scaler's mean and scale as buffers and the coefficients in an `nn.Linear`, so
the checkpoint loads with `torch.load(weights_only=True)` and runs through the same evaluation and
prediction code as every other model. softmax(logits) equals scikit-learn's `predict_proba`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .mlp import N_FEATURES
from .modules import FeatureStandardisation


@dataclass
class SoftmaxRegressionConfig:
    features: int = N_FEATURES
    classes: int = 10


class SoftmaxRegression(nn.Module):
    """Raw feature rows (batch, 57) → {"logits": (batch, classes), "embedding": the standardised rows}.

    It has no hidden layer, so the embedding is what its one linear layer reads.
    """

    Config = SoftmaxRegressionConfig

    def __init__(self, config: SoftmaxRegressionConfig | None = None):
        super().__init__()
        self.config = config or SoftmaxRegressionConfig()
        self.normalise = FeatureStandardisation(self.config.features)
        self.linear = nn.Linear(self.config.features, self.config.classes)

    @torch.no_grad()
    def load_sklearn(self, scaler, classifier) -> None:
        """Copy a fitted `StandardScaler` and multinomial `LogisticRegression` (classes 0..classes-1) in."""
        if list(classifier.classes_) != list(range(self.config.classes)):
            raise ValueError(
                f"the classifier was fitted on classes {list(classifier.classes_)}, "
                f"expected 0..{self.config.classes - 1}"
            )
        self.normalise.mean.copy_(torch.from_numpy(np.asarray(scaler.mean_, dtype=np.float64)))
        self.normalise.std.copy_(torch.from_numpy(np.asarray(scaler.scale_, dtype=np.float64)))
        self.linear.weight.copy_(torch.from_numpy(classifier.coef_).float())
        self.linear.bias.copy_(torch.from_numpy(classifier.intercept_).float())

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        embedding = self.normalise(features)
        return {"logits": self.linear(embedding), "embedding": embedding}
