"""Why a model said what it said, and whether it should have said anything at all.

* `saliency` — gradient × input on the mel picture (Simonyan, Vedaldi & Zisserman 2014 for the
  gradient; Shrikumar et al. 2016 for multiplying by the input): which bands and moments pushed the
  model towards a genre.
* `music_check` — measurable reasons to doubt that the input is music at all: a genre classifier
  always answers with one of its ten genres, even for a vacuum cleaner.
* `EmbeddingMap` — the GTZAN test tracks placed in 2-D by PCA of a model's embeddings, written
  into the run folder by `python -m mgc evaluate`, and the same projection for a new piece of audio.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .checkpoints import read_json, write_json
from .dataset import GENRES, genre_of

# ---------------------------------------------------------------------------------------------
# Saliency


def saliency_model(model: str, split: str) -> str | None:
    """The run whose picture model explains `model`'s answers: the model itself when it reads the mel
    picture, the picture run a hybrid reads, an ensemble's first of those, None for a model of tabular
    features."""
    from .checkpoints import load_model
    from .ensembles import is_ensemble, load_ensemble
    from .models import PICTURE_MODELS

    for member in load_ensemble(model, split).members if is_ensemble(model, split) else (model,):
        network, saved = load_model(member, split)
        if saved["family"] in PICTURE_MODELS:
            return member
        if saved["family"] == "hybrid":
            return network.config.picture_model
    return None


SALIENCY_BATCH = 16
"""Windows per backward pass: bounds memory for a 10-minute upload (≈ 240 windows)."""


def saliency(model, picture: np.ndarray, genre: str | int) -> np.ndarray:
    """Gradient × input of `genre`'s logit with respect to the picture: an array shaped like `picture`.

    The picture is cut into the same windows the model classifies (see `mgc.inference`); each
    window's gradient lands on its own columns, and columns covered by several windows get the mean.
    Positive values pushed the model towards `genre`, negative ones away from it. The model must be
    in eval mode (as `load_picture_model` returns it), or dropout makes the map random.
    """
    import torch

    from .inference import WINDOW_COLUMNS, WINDOW_HOP, window_starts

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


# ---------------------------------------------------------------------------------------------
# "This may not be music"

UNSURE_ENTROPY = 0.85
"""Normalised entropy (0 = one genre certain, 1 = all ten equally likely) above which the model
cannot tell the genres apart: the input is unlike anything it was trained on. Measured with the
random-split CRNN (79.5 %): GTZAN clips and 2–3-s excerpts stay below 0.81 (median 0.32 and 0.46)."""
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


def frame_loudness_and_flatness(samples: np.ndarray, frame: int = 2048, hop: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame RMS and spectral flatness: `librosa.feature.rms(y, frame_length=2048, hop_length=512)` and
    `librosa.feature.spectral_flatness(y, n_fft=2048, hop_length=512)` as librosa defines them (centred
    frames, zero padding; flatness = geometric / arithmetic mean of the power spectrum floored at 1e-10),
    computed in torch so that classifying with a picture model never imports librosa (tests compare the two)."""
    import torch

    y = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    padded = torch.nn.functional.pad(y, (frame // 2, frame // 2))
    frames = padded.unfold(0, frame, hop)
    frame_rms = frames.square().mean(dim=1).sqrt()
    spectrum = torch.stft(y, frame, hop, window=torch.hann_window(frame, periodic=True), center=True,
                          pad_mode="constant", return_complex=True)
    power = spectrum.abs().square().clamp_min(1e-10)
    flatness = power.log().mean(dim=0).exp() / power.mean(dim=0)
    return frame_rms.numpy(), flatness.numpy()


def music_check(samples: np.ndarray, probabilities=None, sample_rate: int = 22050) -> MusicCheck:
    """Measure the audio (and the model's probabilities, when given) against the thresholds above."""
    samples = np.asarray(samples, dtype=np.float32)
    frame_rms, flatness_frames = frame_loudness_and_flatness(samples)
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    rms_dbfs = 20 * math.log10(rms) if rms > 0 else -math.inf
    loud = np.percentile(frame_rms, 95)
    pauses = frame_rms < loud * 10 ** (-PAUSE_DB / 20) if loud > 0 else np.ones_like(frame_rms, dtype=bool)
    pause_fraction = float(pauses.mean())
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
