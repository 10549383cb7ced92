"""A head on a frozen embedding: the hybrid (a picture run's windows + Kaggle's features) and the musicnn head
(musicnn's patches) train with this one recipe.

The train examples are rows of a frozen network's embedding — every window or patch of every train track, and,
for the musicnn head's robust recipe, those of the track's degraded versions — each labelled with its track's
genre; with `Embedded.rows`, each also reads its track's row of extra inputs (the hybrid's 57 features). Adam on
shuffled mini-batches; after every epoch the valid tracks are answered as they are evaluated (the mean of a
track's rows' probabilities). `train_heads` fits each candidate (its model configuration and weight decay) from
the same seed, and `best_head` keeps the best by validation accuracy, then loss.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..models import build_model
from .common import mean_per_track, validation_scores
from .loop import Fitted, MinibatchRecipe, fit


@dataclass
class Embedded:
    """A frozen network's embedding of every row (window, patch) of some tracks (rows, size), the track each row
    comes from, the tracks' genre indices (tracks,), and optionally a row of extra inputs per track (tracks, k)."""

    embeddings: np.ndarray
    track_index: np.ndarray
    labels: np.ndarray
    rows: np.ndarray | None = None


class HeadRecipe(MinibatchRecipe):
    """The head of `family` (configured by `model_config`) on `train`'s rows, validated on `valid`'s tracks, by Adam
    with `weight_decay`; `settings` (a trainer's config) gives `lr`, `batch_size`, `epochs`, `patience` and `seed`."""

    def __init__(
        self, family: str, model_config: dict, train: Embedded, valid: Embedded, settings, weight_decay: float
    ):
        super().__init__()
        self.family, self.model_config, self.train, self.valid = family, model_config, train, valid
        self.lr, self.weight_decay, self.batch_size = settings.lr, weight_decay, settings.batch_size
        self.epochs, self.patience, self.seed = settings.epochs, settings.patience, settings.seed

    def build(self) -> nn.Module:
        """The head, standardising its inputs as the train rows have them. A head that also reads a row per track
        (the hybrid) standardises the embedding in `normalise_embedding` and those rows (one per train track, as the
        feature models do) in `normalise`; a head of the embedding alone standardises it in `normalise`."""
        model = build_model(self.family, self.model_config)
        if self.train.rows is None:
            model.normalise.fit(self.train.embeddings)
        else:
            model.normalise_embedding.fit(self.train.embeddings)
            model.normalise.fit(self.train.rows)
        return model

    def optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        device = next(model.parameters()).device
        self.x = torch.from_numpy(self.train.embeddings).float().to(device)
        self.track_index = torch.from_numpy(self.train.track_index).to(device)
        self.rows = None if self.train.rows is None else torch.from_numpy(self.train.rows).to(device)
        self.labels = torch.from_numpy(self.train.labels).to(device)[self.track_index]
        self.generator = torch.Generator().manual_seed(self.seed)
        return torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)

    def logits(self, model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        extra = () if self.rows is None else (self.rows[self.track_index[batch]],)
        return model.classify_embeddings(self.x[batch], *extra)["logits"]

    def validate(self, model: nn.Module, device: str) -> dict[str, float]:
        model.cpu()
        probabilities = head_probabilities(model, self.valid)
        model.to(device)
        return validation_scores(probabilities, self.valid.labels)


def head_probabilities(model: nn.Module, examples: Embedded) -> np.ndarray:
    """(tracks, classes): the mean over each track's rows of the head's probabilities."""
    model.eval()
    extra = () if examples.rows is None else (torch.from_numpy(examples.rows[examples.track_index]),)
    with torch.inference_mode():
        logits = model.classify_embeddings(torch.from_numpy(examples.embeddings).float(), *extra)["logits"]
    probabilities = torch.softmax(logits, dim=1).numpy().astype(np.float64)
    return mean_per_track(probabilities, examples.track_index, len(examples.labels))


@dataclass
class Candidate:
    """One head to try: its recipe, what training.json lists of it, and its words in the trainer's printout."""

    recipe: HeadRecipe
    facts: dict
    words: str
    fitted: Fitted | None = field(default=None, repr=False)

    @property
    def listed(self) -> dict:
        """Its entry in training.json's `candidates`: its facts and its best epoch's validation."""
        best = self.fitted.best
        scores = {"valid_accuracy": best["valid_accuracy"], "valid_loss": best["valid_loss"]}
        return {**self.facts, "best_epoch": best["epoch"], **scores}


def train_heads(candidates, device: str = "cpu") -> list[Candidate]:
    """Fit every candidate (each from its seed), printing its validation; returns them, fitted."""
    fitted = []
    for candidate in candidates:
        candidate.fitted = fit(candidate.recipe, device, seed=candidate.recipe.seed)
        best = candidate.fitted.best
        print(f"  {candidate.words}: valid accuracy {best['valid_accuracy']:.3f} (epoch {best['epoch']})")
        fitted.append(candidate)
    return fitted


def best_head(candidates: list[Candidate]) -> Candidate:
    """The candidate with the best validation accuracy, then loss."""
    return max(candidates, key=lambda c: (c.listed["valid_accuracy"], -c.listed["valid_loss"]))
