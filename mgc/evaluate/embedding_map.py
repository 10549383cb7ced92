"""The embedding map: the GTZAN test tracks placed in 2-D by PCA of a model's embeddings, written into the
run folder by `python -m mgc evaluate`, and the same projection for a new piece of audio (Classify)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.gtzan import genre_of
from ..runs.checkpoints import EMBEDDING_MAP_FILE, EMBEDDING_PROJECTION_FILE, read_json, write_json


@dataclass
class EmbeddingMap:
    """GTZAN test tracks in 2-D (`points`: track, genre, x, y) and the projection that put them there."""

    points: pd.DataFrame
    mean: np.ndarray
    components: np.ndarray
    """(2, embedding dimension): the first two principal axes."""
    explained: tuple[float, float]
    """Fraction of the embeddings' variance along each axis."""

    def project(self, embedding: np.ndarray) -> tuple[float, float]:
        """Where a new embedding lands on the map."""
        x, y = (np.asarray(embedding, dtype=np.float64) - self.mean) @ self.components.T
        return float(x), float(y)

    @classmethod
    def fit(cls, tracks, embeddings: np.ndarray) -> EmbeddingMap:
        """PCA of `embeddings` (one row per track) to 2-D, with deterministic signs."""
        embeddings = np.asarray(embeddings, dtype=np.float64)
        mean = embeddings.mean(axis=0)
        centred = embeddings - mean
        _, singular, axes = np.linalg.svd(centred, full_matrices=False)
        components = axes[:2]
        # The sign of a principal axis is arbitrary; fix it so the map does not flip between runs.
        components = components * np.sign(components[np.arange(2), np.abs(components).argmax(axis=1)])[:, None]
        variance = singular**2
        explained = tuple(float(v) for v in variance[:2] / variance.sum())
        xy = centred @ components.T
        points = pd.DataFrame(
            {"track": list(tracks), "genre": [genre_of(t) for t in tracks], "x": xy[:, 0], "y": xy[:, 1]}
        )
        return cls(points, mean, components, explained)

    def save(self, folder: Path) -> None:
        """Write `embedding_map.csv` and `embedding_projection.json` into a run folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.points.to_csv(folder / EMBEDDING_MAP_FILE, index=False, float_format="%.5f")
        write_json(
            folder / EMBEDDING_PROJECTION_FILE,
            {
                "mean": self.mean.tolist(),
                "components": self.components.tolist(),
                "explained": list(self.explained),
            },
        )

    @classmethod
    def load(cls, folder: Path) -> EmbeddingMap | None:
        """The cached map of a run folder, or None when it has not been built."""
        folder = Path(folder)
        if not (folder / EMBEDDING_MAP_FILE).is_file() or not (folder / EMBEDDING_PROJECTION_FILE).is_file():
            return None
        saved = read_json(folder / EMBEDDING_PROJECTION_FILE)
        return cls(
            pd.read_csv(folder / EMBEDDING_MAP_FILE),
            np.array(saved["mean"]),
            np.array(saved["components"]),
            tuple(saved["explained"]),
        )
