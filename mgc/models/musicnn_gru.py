"""A CNN + GRU with pretrained ears: musicnn's frozen convolutional front end, then a GRU over its patches.

The CRNN of this project (`mgc.models.crnn`) learns its convolutions from ~700 Kaggle pictures; this one borrows
them from musicnn (Pons & Serra 2019, `mgc.models.musicnn`), trained on ~200,000 songs of the Million Song Dataset,
and keeps only the CRNN's recurrent back end to train: musicnn sums up each 3-s patch of the sound in its 200-d
embedding (`mgc.models.musicnn_pass.MUSICNN_PASS`, computed once per input and shared with the gate and the taggram),
and a bidirectional GRU follows those summaries through the piece, so each patch is read in the context of the
others. A linear head gives each patch's genre probabilities: the timeline; the answer for the whole input is their
mean (`mgc.runs.outputs`), as for every windowed model.

Differences from the musicnn head (`mgc.models.musicnn_head`), which classifies each patch alone and averages: the
GRU's context across patches, and the recipe (`mgc.train.musicnn_gru`: recordings through speakers, real and
simulated rooms, people and microphones). musicnn stays frozen (unfreezing its last block was not tried: training
through it costs the 2 CPU cores ~100× more per example than training on its cached embeddings).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import CheckpointError
from .modules import FeatureStandardisation
from .musicnn import EMBEDDING_SIZE, load_musicnn, weights_file_digest
from .musicnn_pass import PASS_MODEL


@dataclass
class MusicnnGRUConfig:
    musicnn: str = PASS_MODEL
    """Which of musicnn's shipped networks the GRU reads (the one `MUSICNN_PASS` runs)."""
    musicnn_digest: str = ""
    """`weights_file_digest` of those weights when the GRU was trained ("" skips the check)."""
    embedding_size: int = EMBEDDING_SIZE
    hidden: int = 64
    """GRU units per direction."""
    bidirectional: bool = True
    dropout: float = 0.3
    """Dropout on the embedding and on the GRU's output, during training."""
    classes: int = 10


class MusicnnGRU(nn.Module):
    """One input's musicnn embeddings (patches, 200) → {"logits": (patches, classes), "embedding": (patches, 2·hidden)}.

    `sequences` is the same for a batch of equal-length sequences (batch, patches, 200), how it is trained.
    """

    Config = MusicnnGRUConfig

    def __init__(self, config: MusicnnGRUConfig | None = None):
        super().__init__()
        self.config = config or MusicnnGRUConfig()
        c = self.config
        self.normalise = FeatureStandardisation(c.embedding_size)
        self.dropout = nn.Dropout(c.dropout)
        self.gru = nn.GRU(c.embedding_size, c.hidden, batch_first=True, bidirectional=c.bidirectional)
        self.classifier = nn.Linear(c.hidden * (2 if c.bidirectional else 1), c.classes)

    @property
    def pretrained(self) -> nn.Module:
        """The frozen musicnn whose embeddings this GRU reads (shared, loaded once; not in this module's state)."""
        digest = self.config.musicnn_digest
        if digest and weights_file_digest(self.config.musicnn) != digest:
            raise CheckpointError(
                f"the shipped {self.config.musicnn} weights are not those this model was trained over: retrain it"
            )
        return load_musicnn(self.config.musicnn)

    def sequences(self, embeddings: torch.Tensor) -> dict[str, torch.Tensor]:
        """(batch, patches, 200) → {"logits": (batch, patches, classes), "embedding": (batch, patches, features)}."""
        batch, patches, size = embeddings.shape
        x = self.normalise(embeddings.reshape(-1, size)).float().reshape(batch, patches, size)
        hidden, _ = self.gru(self.dropout(x))
        return {"logits": self.classifier(self.dropout(hidden)), "embedding": hidden}

    def forward(self, embeddings: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs = self.sequences(embeddings[None])
        return {"logits": outputs["logits"][0], "embedding": outputs["embedding"][0]}
