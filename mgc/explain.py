"""Why a model said what it said, and whether it should have said anything at all.

* `saliency` — gradient × input on the mel picture (Simonyan, Vedaldi & Zisserman 2014 for the
  gradient; Shrikumar et al. 2016 for multiplying by the input): which bands and moments pushed the
  model towards a genre.
* `music_check` — measurable reasons to doubt that the input is music at all: a genre classifier
  always answers with one of its ten genres, even for a vacuum cleaner.
* `EmbeddingMap` — the GTZAN test tracks placed in 2-D by PCA of a model's embeddings, cached as
  plain files in the run folder, and the same projection for a new piece of audio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .checkpoints import read_json, run_dir, write_json
from .dataset import GENRES, genre_of

# ---------------------------------------------------------------------------------------------
# Saliency


def saliency(model, picture: np.ndarray, genre: str | int) -> np.ndarray:
    """Gradient × input of `genre`'s logit with respect to the picture: an array shaped like `picture`.

    The picture is cut into the same windows the model classifies (see `mgc.inference`); each
    window's gradient lands on its own columns, and columns covered by several windows get the mean.
    Positive values pushed the model towards `genre`, negative ones away from it.
    """
    import torch

    from .inference import window_starts, WINDOW_COLUMNS, WINDOW_HOP

    index = GENRES.index(genre) if isinstance(genre, str) else int(genre)
    picture = np.asarray(picture)
    inputs = torch.tensor(picture, dtype=torch.float32, requires_grad=True)
    starts = window_starts(picture.shape[1], WINDOW_COLUMNS, WINDOW_HOP)
    width = min(WINDOW_COLUMNS, picture.shape[1])
    model.eval()
    with torch.enable_grad():
        windows = torch.stack([inputs[:, s : s + width] for s in starts])
        logits = model(windows)["logits"]
        logits[:, index].sum().backward()
    coverage = np.zeros(picture.shape[1])
    for s in starts:
        coverage[s : s + width] += 1
    gradient = inputs.grad.numpy() / np.maximum(coverage, 1)[None, :]
    return (gradient * picture).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# "This may not be music"

UNSURE_ENTROPY = 0.85
"""Normalised entropy (0 = one genre certain, 1 = all ten equally likely) above which the model
cannot tell the genres apart: the input is unlike anything it was trained on."""
NOISE_FLATNESS = 0.25
"""Median spectral flatness (Wiener entropy) above which a sound is noise-like: white noise is
≈ 0.56, GTZAN music stays below ≈ 0.1."""
QUIET_RMS_DBFS = -45.0
"""Overall RMS level below which the input is too quiet to be music that was meant to be heard
(GTZAN clips lie between ≈ -30 and -10 dBFS)."""
PAUSE_DB = 30.0
"""A frame is a pause when it is this many dB below the loud frames (the 95th percentile)."""
SPEECH_PAUSE_FRACTION = 0.2
"""Fraction of pause frames above which the input is intermittent like speech: people stop
between words and phrases, music rarely falls 30 dB below its loud parts for long."""


@dataclass(frozen=True)
class MusicCheck:
    """The measurements behind "this may not be music", and the reasons that fired (if any)."""

    entropy: float | None
    flatness: float
    rms_dbfs: float
    pause_fraction: float
    reasons: tuple[str, ...]

    @property
    def may_not_be_music(self) -> bool:
        return bool(self.reasons)


def normalised_entropy(probabilities) -> float:
    """Shannon entropy of a probability vector divided by its maximum, log(number of classes)."""
    p = np.asarray(list(probabilities.values()) if isinstance(probabilities, dict) else probabilities, dtype=float)
    p = p / p.sum()
    nonzero = p[p > 0]
    return float(-(nonzero * np.log(nonzero)).sum() / math.log(len(p)))


def music_check(samples: np.ndarray, probabilities=None, sample_rate: int = 22050) -> MusicCheck:
    """Measure the audio (and the model's probabilities, when given) against the thresholds above."""
    import librosa

    samples = np.asarray(samples, dtype=np.float32)
    frame_rms = librosa.feature.rms(y=samples, frame_length=2048, hop_length=512)[0]
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    rms_dbfs = 20 * math.log10(rms) if rms > 0 else -math.inf
    loud = np.percentile(frame_rms, 95)
    pauses = frame_rms < loud * 10 ** (-PAUSE_DB / 20) if loud > 0 else np.ones_like(frame_rms, dtype=bool)
    pause_fraction = float(pauses.mean())
    flatness_frames = librosa.feature.spectral_flatness(y=samples, n_fft=2048, hop_length=512)[0]
    sounding = flatness_frames[~pauses] if (~pauses).any() else flatness_frames
    flatness = float(np.median(sounding))
    entropy = normalised_entropy(probabilities) if probabilities is not None else None

    reasons = []
    if rms_dbfs < QUIET_RMS_DBFS:
        reasons.append(f"it is very quiet ({rms_dbfs:.0f} dBFS RMS, below {QUIET_RMS_DBFS:.0f})")
    if flatness > NOISE_FLATNESS:
        reasons.append(f"it sounds like noise (spectral flatness {flatness:.2f}, above {NOISE_FLATNESS})")
    if pause_fraction > SPEECH_PAUSE_FRACTION:
        reasons.append(f"it stops and starts like speech ({pause_fraction:.0%} of it is pauses, "
                       f"above {SPEECH_PAUSE_FRACTION:.0%})")
    if entropy is not None and entropy > UNSURE_ENTROPY:
        reasons.append(f"the model cannot tell the genres apart (normalised entropy {entropy:.2f}, "
                       f"above {UNSURE_ENTROPY})")
    return MusicCheck(entropy, flatness, rms_dbfs, pause_fraction, tuple(reasons))


# ---------------------------------------------------------------------------------------------
# Embedding map

EMBEDDING_MAP_FILE = "embedding_map.csv"
EMBEDDING_PROJECTION_FILE = "embedding_projection.json"


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
        points = pd.DataFrame({"track": list(tracks), "genre": [genre_of(t) for t in tracks],
                               "x": xy[:, 0], "y": xy[:, 1]})
        return cls(points, mean, components, explained)

    def save(self, folder: Path) -> None:
        """Write `embedding_map.csv` and `embedding_projection.json` into a run folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.points.to_csv(folder / EMBEDDING_MAP_FILE, index=False, float_format="%.5f")
        write_json(folder / EMBEDDING_PROJECTION_FILE, {
            "mean": self.mean.tolist(), "components": self.components.tolist(), "explained": list(self.explained),
        })

    @classmethod
    def load(cls, folder: Path) -> EmbeddingMap | None:
        """The cached map of a run folder, or None when it has not been built."""
        folder = Path(folder)
        if not (folder / EMBEDDING_MAP_FILE).is_file() or not (folder / EMBEDDING_PROJECTION_FILE).is_file():
            return None
        saved = read_json(folder / EMBEDDING_PROJECTION_FILE)
        return cls(pd.read_csv(folder / EMBEDDING_MAP_FILE), np.array(saved["mean"]),
                   np.array(saved["components"]), tuple(saved["explained"]))


def embedding_map(model: str, split: str, data=None) -> EmbeddingMap:
    """The run's embedding map: read from its folder, else computed from the test pictures and saved.

    Computing needs the GTZAN folder (`data`, default $MGC_DATA or ../shared/gtzan) and the run's
    picture model; it runs the model once over the test part of the split.
    """
    folder = run_dir(model, split)
    cached = EmbeddingMap.load(folder)
    if cached is not None:
        return cached
    from .checkpoints import load_picture_model
    from .dataset import GTZAN
    from .errors import DatasetError
    from .inference import track_outputs
    from .representation import track_pictures

    dataset = GTZAN(data)
    test = dataset.split(split).test
    pictures = track_pictures(dataset.root, test)
    tracks = [t for t in test if t in pictures]
    if len(tracks) < 3:
        raise DatasetError(f"too few test pictures in {dataset.root} to draw an embedding map")
    network, _ = load_picture_model(model, split)
    _, embeddings = track_outputs(network, [pictures[t] for t in tracks])
    built = EmbeddingMap.fit(tracks, embeddings)
    built.save(folder)
    return built
