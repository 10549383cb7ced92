"""A genre head on musicnn's embedding: the pretrained network frozen, a small classifier trained over it.

musicnn (Pons & Serra 2019, `mgc.models.musicnn`) learnt music from ~200,000 songs of the Million Song
Dataset; its 200-d penultimate layer (the "embedding" of each 3-s patch) already separates GTZAN's genres
far better than anything learnt from 700 clips (issue 16: a logistic regression on it reached 0.91 in 5-fold
cross-validation over the clips with audio, the 57 Kaggle features 0.82 on the same folds). Only the head is
trained (`mgc.train.musicnn_head`): a softmax regression (`hidden=()`) or one small hidden layer over the
embedding, standardised inside the module (`FeatureStandardisation`, fitted on the train part's patches).

Each 3-s patch gets its own probabilities; as for a picture model's windows, a track's answer is the mean over
its patches (`mgc.runs.outputs`).

The pretrained network is not part of the checkpoint: `pretrained` is the served network of the shipped weights
(`load_musicnn`, loaded once and shared with the taggram), and the config records which weights
(`musicnn`) and their file's digest (`musicnn_digest`), so that a head is refused by weights other than those it
was trained over (`pretrained` checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CheckpointError
from .modules import FeatureStandardisation, dense_stack
from .musicnn import EMBEDDING_SIZE, load_musicnn, weights_file_digest


@dataclass
class MusicnnHeadConfig:
    musicnn: str = "MSD_musicnn"
    """Which of musicnn's shipped networks (`mgc.models.musicnn.MODEL_NAMES`) the head reads."""
    musicnn_digest: str = ""
    """`mgc.models.musicnn.weights_file_digest` of those weights when the head was trained ("" skips the check)."""
    embedding_size: int = EMBEDDING_SIZE
    hidden: tuple[int, ...] = ()
    """() is a softmax regression on the standardised embedding; (64,) one hidden layer of 64."""
    dropout: float = 0.0
    """Dropout before the classifier (and between hidden layers), during training."""
    classes: int = 10


class MusicnnHead(nn.Module):
    """musicnn patches (batch, 187, 96) → {"logits": (batch, classes), "embedding"}.

    The embedding is what the head's last layer reads: the standardised musicnn embedding for a softmax
    regression, the hidden layer otherwise. `classify_embeddings` is the head alone, on musicnn embeddings
    computed beforehand (how it is trained).
    """

    Config = MusicnnHeadConfig

    def __init__(self, config: MusicnnHeadConfig | None = None):
        super().__init__()
        self.config = config or MusicnnHeadConfig()
        c = self.config
        self.normalise = FeatureStandardisation(c.embedding_size)
        self.hidden, width = dense_stack(c.embedding_size, c.hidden, c.dropout)
        self.classifier = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(width, c.classes))

    @property
    def pretrained(self) -> nn.Module:
        """The frozen, served musicnn this head reads (shared, loaded once; not in this module's state dict)."""
        network = load_musicnn(self.config.musicnn)
        digest = self.config.musicnn_digest
        if digest and weights_file_digest(self.config.musicnn) != digest:
            raise CheckpointError(
                f"the shipped {self.config.musicnn} weights are not those this head was trained over: retrain it "
                "with `python -m mgc train --model musicnn`"
            )
        return network

    def classify_embeddings(self, embedding: torch.Tensor) -> dict[str, torch.Tensor]:
        """The head alone: musicnn embeddings (rows, 200) → {"logits", "embedding"}."""
        hidden = self.hidden(self.normalise(embedding))
        return {"logits": self.classifier(hidden), "embedding": hidden}

    def forward(self, patches: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():  # frozen: never trained through
            embedding = self.pretrained(patches)["embedding"]
        return self.classify_embeddings(embedding)
