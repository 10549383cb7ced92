"""Saliency: gradient × input on the mel picture (Simonyan, Vedaldi & Zisserman 2014 for the gradient;
Shrikumar et al. 2016 for multiplying by the input) — which bands and moments pushed a model towards a genre."""

from __future__ import annotations

import numpy as np

from ..data.gtzan import GENRES
from ..frontends.picture import WINDOW_COLUMNS, WINDOW_HOP, window_starts
from ..runs.run import locate
from ..runs.table import reads_picture, reads_run


def saliency_model(model: str, split: str) -> str | None:
    """The run whose picture model explains `model`'s answers: the model itself when it reads the mel
    picture, the picture run a hybrid reads, an ensemble's first of those, None for a model of tabular
    features."""
    run = locate(model, split)
    for member in run.members or (run,):
        network, saved = member.load()
        if reads_picture(saved["family"]):
            return member.name
        if reads_run(saved["family"]):  # it reads the embedding of a picture run
            return network.config.picture_model
    return None


SALIENCY_BATCH = 16
"""Windows per backward pass: bounds memory for a 10-minute upload (≈ 240 windows)."""


def saliency(model, picture: np.ndarray, genre: str | int) -> np.ndarray:
    """Gradient × input of `genre`'s logit with respect to the picture: an array shaped like `picture`.

    The picture is cut into the same windows the model classifies (`mgc.frontends.picture`); each
    window's gradient lands on its own columns, and columns covered by several windows get the mean.
    Positive values pushed the model towards `genre`, negative ones away from it. The model must be
    in eval mode (as `load_picture_model` returns it), or dropout makes the map random.
    """
    import torch

    index = GENRES.index(genre) if isinstance(genre, str) else int(genre)
    picture = np.asarray(picture)
    inputs = torch.tensor(picture, dtype=torch.float32, requires_grad=True)
    starts = window_starts(picture.shape[1], WINDOW_COLUMNS, WINDOW_HOP)
    width = min(WINDOW_COLUMNS, picture.shape[1])
    total = torch.zeros_like(inputs)
    with torch.enable_grad():
        for first in range(0, len(starts), SALIENCY_BATCH):
            windows = torch.stack([inputs[:, s : s + width] for s in starts[first : first + SALIENCY_BATCH]])
            score = model(windows)["logits"][:, index].sum()
            # autograd.grad, not backward(): the model is shared between sessions, its .grad stays untouched
            total += torch.autograd.grad(score, inputs)[0]
    coverage = np.zeros(picture.shape[1])
    for s in starts:
        coverage[s : s + width] += 1
    gradient = total.numpy() / np.maximum(coverage, 1)[None, :]
    return (gradient * picture).astype(np.float32)
