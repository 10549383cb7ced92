"""Applying a model to its input: picture models over sliding windows, averaged per track; feature models to rows."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

WINDOW_COLUMNS = 112  # ≈ 10 s: the widest crop the picture models are trained on
WINDOW_HOP = 28  # ≈ 2.5 s


def window_starts(columns: int, width: int = WINDOW_COLUMNS, hop: int = WINDOW_HOP) -> np.ndarray:
    """First column of each window; the last window ends at the last column. One window if narrower."""
    if columns <= width:
        return np.array([0])
    starts = np.arange(0, columns - width + 1, hop)
    if starts[-1] != columns - width:
        starts = np.append(starts, columns - width)
    return starts


def picture_windows(picture: np.ndarray, width: int = WINDOW_COLUMNS, hop: int = WINDOW_HOP) -> torch.Tensor:
    """(128, columns) → (windows, 128, min(width, columns)) uint8 tensor."""
    picture = torch.as_tensor(np.ascontiguousarray(picture))
    starts = window_starts(picture.shape[1], width, hop)
    width = min(width, picture.shape[1])
    return torch.stack([picture[:, s : s + width] for s in starts])


WINDOW_BATCH = 16
"""Windows through the model at a time: a 30-s clip's 9 in one go, while 10 minutes (236 windows) stay
within ~50 MB of activations instead of ~750 MB."""


@torch.inference_mode()
def window_outputs(model: nn.Module, picture: np.ndarray, width: int = WINDOW_COLUMNS,
                   hop: int = WINDOW_HOP) -> tuple[np.ndarray, np.ndarray]:
    """Per-window class probabilities (windows, classes) and embeddings (windows, dim) of one picture."""
    model.eval()
    windows = picture_windows(picture, width, hop)
    outputs = [model(windows[first:first + WINDOW_BATCH]) for first in range(0, len(windows), WINDOW_BATCH)]
    logits = torch.cat([out["logits"] for out in outputs]).float()  # float32 also under a bf16 autocast
    return torch.softmax(logits, dim=1).numpy(), torch.cat([out["embedding"] for out in outputs]).float().numpy()


def track_outputs(model: nn.Module, pictures: list[np.ndarray], width: int = WINDOW_COLUMNS,
                  hop: int = WINDOW_HOP) -> tuple[np.ndarray, np.ndarray]:
    """Track-level probabilities (tracks, classes) and embeddings: the mean over each track's windows."""
    probabilities, embeddings = [], []
    for picture in pictures:
        p, e = window_outputs(model, picture, width, hop)
        probabilities.append(p.mean(axis=0))
        embeddings.append(e.mean(axis=0))
    return np.stack(probabilities), np.stack(embeddings)


@torch.inference_mode()
def feature_outputs(model: nn.Module, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (rows, classes) and embeddings of a feature model on raw rows of the 57 features.

    One row per track or clip: a feature model sees a whole input at once, there are no windows.
    """
    model.eval()
    out = model(torch.as_tensor(np.atleast_2d(rows), dtype=torch.float64))
    return torch.softmax(out["logits"], dim=1).numpy(), out["embedding"].numpy()
