"""Classifying audio: `classify(file)` → `Prediction`, and the `predict` command.

For a picture model, a track is cut into windows of ≈ 10 s with ≈ 2.5-s hop (one window for
shorter audio); the model's probabilities per window are the *timeline*, and their mean is the
track's answer. A feature model reads Kaggle's 57 features of the whole input
(`mgc.features.extract_features`): its timeline is one row covering the whole input.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .audio import Audio, load_audio
from .dataset import AUDIO_EXTENSIONS, GENRES
from .errors import AudioError, MgcError
from .inference import WINDOW_COLUMNS, WINDOW_HOP, feature_outputs, window_outputs, window_starts
from .representation import COLUMN_SECONDS, render_audio


@dataclass
class Prediction:
    """What a model says about one piece of audio."""

    model: str
    probabilities: dict[str, float]
    """Genre → probability, over the whole input (mean of the windows)."""
    timeline: pd.DataFrame
    """One row per window: `start`, `end` (seconds), then one probability column per genre.
    A feature model has one row, covering the whole input."""
    embedding: np.ndarray
    """The model's embedding of the input (mean over windows; a feature model's last hidden layer)."""
    picture: np.ndarray
    """The mel picture of the input: (128 mel bands, columns) of colour indices. What a picture model
    saw; drawn for a feature model too, so the input can be shown the same way."""
    seconds: float
    """Duration analysed, in seconds."""
    elapsed: float
    """Wall-clock seconds the classification took, decoding included."""
    notices: list[str] = field(default_factory=list)
    """Things the person should know about the input (e.g. it was cut to the first 10 minutes)."""

    @property
    def genre(self) -> str:
        """The most probable genre."""
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.genre]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable genres with their probabilities, best first."""
        return sorted(self.probabilities.items(), key=lambda item: -item[1])[:k]


def _picture_model_outputs(network, picture: np.ndarray):
    """Per-window probabilities and embeddings of a picture model, and the windows' start and end seconds."""
    probabilities, embeddings = window_outputs(network, picture)
    starts = window_starts(picture.shape[1], WINDOW_COLUMNS, WINDOW_HOP)
    ends = starts + min(WINDOW_COLUMNS, picture.shape[1])
    return probabilities, embeddings, starts * COLUMN_SECONDS, ends * COLUMN_SECONDS


def _feature_model_outputs(network, features: np.ndarray, seconds: float):
    """A feature model's probabilities and embedding of the whole input: one "window" from 0 to its end."""
    probabilities, embeddings = feature_outputs(network, features)
    return probabilities, embeddings, np.array([0.0]), np.array([seconds])


def _timeline(window_probabilities: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame(window_probabilities, columns=list(GENRES))
    table.insert(0, "end", ends)
    table.insert(0, "start", starts)
    return table


def classify(source, model: str = "crnn", split: str = "random") -> Prediction:
    """Classify audio (a path, bytes or binary file; wav, flac, ogg, opus, mp3, m4a with ffmpeg).

    `model` is any trained run (`crnn`, `mlp`, `logreg`, `ensemble-sum`, …) of `split`. Raises
    `AudioError` for input that cannot be classified, with a message for the person.
    """
    from . import ensembles

    started = time.perf_counter()
    if ensembles.is_ensemble(model, split):
        ensemble = ensembles.load_ensemble(model, split)
    else:
        from .checkpoints import load_model

        load_model(model, split)  # a missing or stale checkpoint is reported before the audio is decoded
        ensemble = None
    audio = source if isinstance(source, Audio) else load_audio(source)
    picture = render_audio(audio.samples)
    features = _features_once(audio)
    if ensemble is None:
        window_probabilities, embedding, starts, ends = _model_outputs(model, split, audio, picture, features)
        probabilities = window_probabilities.mean(axis=0)
    else:
        rule = ensemble.rule
        outputs = [_model_outputs(member, split, audio, picture, features) for member in ensemble.members]
        # Picture members share one grid of windows; a feature member's single row holds for every window.
        _, _, starts, ends = max(outputs, key=lambda output: len(output[2]))
        windows = np.stack([np.broadcast_to(p, (len(starts), p.shape[1])) for p, _, _, _ in outputs])
        window_probabilities = ensembles.combine(windows, rule)
        probabilities = ensembles.combine(np.stack([p.mean(axis=0) for p, _, _, _ in outputs])[:, None], rule)[0]
        embedding = np.concatenate([e for _, e, _, _ in outputs])
    notices = list(audio.notices)
    if audio.truncated:
        notices.append(f"Only the first {audio.seconds / 60:.0f} minutes of {audio.source_seconds / 60:.0f} were analysed.")
    return Prediction(
        model=model,
        probabilities={g: float(p) for g, p in zip(GENRES, probabilities)},
        timeline=_timeline(window_probabilities, starts, ends),
        embedding=embedding,
        picture=picture,
        seconds=audio.seconds,
        elapsed=time.perf_counter() - started,
        notices=notices,
    )


def _features_once(audio: Audio):
    """Kaggle's 57 features of the input, computed on first need and then reused: in an ensemble, every
    member that reads them (mlp, logreg, hybrid) shares one extraction (~0.3 s per 30 s of audio)."""
    from functools import cache

    @cache
    def features() -> np.ndarray:
        from .features import extract_features

        return extract_features(audio.samples, audio.sample_rate)

    return features


def _model_outputs(model: str, split: str, audio: Audio, picture: np.ndarray, features):
    """One trained model on the input: per-window probabilities, the mean embedding, window starts and ends (s).

    `features()` gives the input's 57 tabular features (`_features_once`)."""
    from .checkpoints import load_model
    from .models import PICTURE_MODELS

    network, saved = load_model(model, split)
    if saved["family"] in PICTURE_MODELS:
        probabilities, embeddings, starts, ends = _picture_model_outputs(network, picture)
    elif saved["family"] == "hybrid":  # each window's picture embedding joined with the whole input's 57 features
        _, picture_embeddings, starts, ends = _picture_model_outputs(network.picture, picture)
        probabilities, embeddings = network.head_outputs(picture_embeddings, features())
    else:
        probabilities, embeddings, starts, ends = _feature_model_outputs(network, features(), audio.seconds)
    return probabilities, embeddings.mean(axis=0), starts, ends


def audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder`, by extension, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _predict_row(file: Path, model: str, split: str) -> dict:
    """One file's row of the `predict` table (an error message instead of a genre for bad input)."""
    try:
        prediction = classify(file, model=model, split=split)
    except AudioError as error:
        return {"file": str(file), "genre": "", "confidence": np.nan, "error": str(error)}
    for notice in prediction.notices:  # e.g. only the first 10 minutes were analysed
        print(f"note: {file.name}: {notice}", file=sys.stderr)
    top = prediction.top(3)
    return {"file": str(file), "genre": prediction.genre, "confidence": prediction.confidence,
            "runner_up": f"{top[1][0]} {top[1][1]:.0%}", "seconds": round(prediction.seconds, 1),
            "error": "", **prediction.probabilities}


def predict_command(path: Path, model: str, split: str, csv: Path | None, jobs: int | None = None) -> int:
    """Print a table of predictions for a file or a folder; write one CSV row per file to `csv`.

    A folder is classified by `jobs` threads (default: one per CPU), each running torch on one thread:
    decoding, drawing and the model release Python's lock, so the cores work side by side.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    if path.is_dir():
        files = audio_files(path)
        if not files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {path}")
    else:
        files = [path]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    if jobs > 1:
        import torch

        torch.set_num_threads(1)
    with ThreadPoolExecutor(jobs) as pool:
        rows = list(tqdm(pool.map(lambda file: _predict_row(file, model, split), files), total=len(files),
                         desc="classifying", unit="file", disable=len(files) < 2))
    table = pd.DataFrame(rows)
    shown = table[[c for c in ("file", "genre", "confidence", "runner_up", "error") if c in table]].copy()
    shown["file"] = [Path(f).name for f in shown["file"]]
    shown["confidence"] = [f"{c:.0%}" if c == c else "" for c in shown["confidence"]]
    print(shown.fillna("").to_string(index=False))
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(csv, index=False)
        print(f"wrote {len(table)} rows to {csv}")
    failed = (table["error"] != "").sum()
    if len(files) == 1 and failed:
        raise MgcError(table["error"].iloc[0])
    return 0
