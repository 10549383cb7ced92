"""Hybrid: a trained picture model's embedding beside Kaggle's 57 features, read by a small MLP head.

The seeds' "Model 2.0" (CNN embedding concatenated with the tabular features), built the cheap way:
the picture model is a trained `cnn` or `crnn` run of the same split, **frozen**; only the head is
trained (`mgc.train.hybrid`). Per ≈ 10-s window of the mel picture, the picture model's embedding
is joined with the features of the whole input (Kaggle's CSV row in training and evaluation,
`mgc.frontends.features.extract_features` for new audio), and the head gives that window's probabilities; as
for a picture model, a track's answer is the mean over its windows.

How it is kept honest:
* Both halves are standardised inside the module (`FeatureStandardisation`, fitted on the train part).
* The picture model's weights are not copied into this module's checkpoint. The config names the
  run (`picture_model`) and the digest of its weights (`picture_digest`); `mgc.runs.load_model`
  attaches that run and refuses it when its weights have changed since the head was trained.
* Embeddings of training tracks come from a network trained on those very tracks, so they separate
  the genres far better than on any new track (on the filtered split the `crnn` is right on 96 % of
  its training tracks and 61 % of the valid ones). A head fitted to them learns to trust the
  embedding blindly. `embedding_dropout` and `embedding_noise` (training only) are the remedies;
  `mgc.train.hybrid` chooses among them on the valid part.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .mlp import N_FEATURES
from .modules import FeatureStandardisation, dense_stack


@dataclass
class HybridConfig:
    picture_model: str = ""
    """The run (of the same split) whose embedding the head reads (the family's default: `mgc.models.FAMILIES`)."""
    picture_digest: str = ""
    """`mgc.runs.checkpoints.weights_digest` of that run's weights when the head was trained."""
    embedding_size: int = 256
    features: int = N_FEATURES
    hidden: tuple[int, ...] = (128,)
    dropout: float = 0.3
    embedding_dropout: float = 0.5
    """Dropout on the (standardised) picture embedding alone, during training."""
    embedding_noise: float = 0.0
    """Standard deviation of Gaussian noise added to the standardised picture embedding, during training."""
    classes: int = 10


class Hybrid(nn.Module):
    """Mel pictures (windows, 128, columns) and feature rows (1 or windows, 57) → {"logits", "embedding"}.

    The embedding is the head's last hidden layer (after ReLU, before dropout). `picture` is the
    frozen picture model, attached after loading (`attach_picture`); it is not part of `state_dict`
    until then, so a saved hybrid holds only the head and its standardisation.
    """

    Config = HybridConfig

    def __init__(self, config: HybridConfig | None = None):
        super().__init__()
        self.config = config or HybridConfig()
        c = self.config
        self.register_module("picture", None)
        self.normalise_embedding = FeatureStandardisation(c.embedding_size)
        self.normalise = FeatureStandardisation(c.features)
        self.embedding_dropout = nn.Dropout(c.embedding_dropout)
        self.hidden, width = dense_stack(c.embedding_size + c.features, c.hidden, c.dropout)
        self.head = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(width, c.classes))

    def attach_picture(self, picture: nn.Module) -> None:
        """Use the trained picture model `picture` (in eval mode) for the embedding half.

        It stays frozen: the head is trained on embeddings computed beforehand, without it attached.
        """
        self.picture = picture.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.picture is not None:
            self.picture.eval()  # frozen: its dropout and batch norm stay in inference mode
        return self

    def classify_embeddings(self, picture_embedding: torch.Tensor, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """The head alone: picture embeddings (rows, embedding_size) and raw feature rows (rows or 1, 57)."""
        embedding = self.normalise_embedding(picture_embedding)
        if self.training and self.config.embedding_noise > 0:
            embedding = embedding + self.config.embedding_noise * torch.randn_like(embedding)
        embedding = self.embedding_dropout(embedding)
        features = self.normalise(features).expand(len(embedding), -1)
        hidden = self.hidden(torch.cat([embedding, features], dim=1))
        return {"logits": self.head(hidden), "embedding": hidden}

    def forward(self, pictures: torch.Tensor, features: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.picture is None:
            raise RuntimeError("no picture model attached: load the hybrid with mgc.runs.load_model")
        return self.classify_embeddings(self.picture(pictures)["embedding"], features)
