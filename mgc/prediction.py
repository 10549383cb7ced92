"""Classifying audio: `classify(file)` → `Prediction`, and the `predict` command.

A track is cut into windows of ≈ 10 s with ≈ 2.5-s hop (one window for shorter audio); the
model's probabilities per window are the *timeline*, and their mean is the track's answer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .audio import Audio, load_audio
from .dataset import AUDIO_EXTENSIONS, GENRES
from .errors import AudioError, MgcError
from .inference import WINDOW_COLUMNS, WINDOW_HOP, window_outputs, window_starts
from .representation import COLUMN_SECONDS, render_audio


@dataclass
class Prediction:
    """What a model says about one piece of audio."""

    model: str
    probabilities: dict[str, float]
    """Genre → probability, over the whole input (mean of the windows)."""
    timeline: pd.DataFrame
    """One row per window: `start`, `end` (seconds), then one probability column per genre."""
    embedding: np.ndarray
    """The model's embedding of the input (mean over windows)."""
    picture: np.ndarray
    """The representation the model saw: (128 mel bands, columns) of colour indices."""
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


def _timeline(window_probabilities: np.ndarray, columns: int) -> pd.DataFrame:
    starts = window_starts(columns, WINDOW_COLUMNS, WINDOW_HOP)
    width = min(WINDOW_COLUMNS, columns)
    table = pd.DataFrame(window_probabilities, columns=list(GENRES))
    table.insert(0, "end", (starts + width) * COLUMN_SECONDS)
    table.insert(0, "start", starts * COLUMN_SECONDS)
    return table


def classify(source, model: str = "crnn", split: str = "random") -> Prediction:
    """Classify audio (a path, bytes or binary file; wav, flac, ogg, opus, mp3, m4a with ffmpeg).

    Raises `AudioError` for input that cannot be classified, with a message for the person.
    """
    from .checkpoints import load_picture_model

    started = time.perf_counter()
    network, _ = load_picture_model(model, split)
    audio = source if isinstance(source, Audio) else load_audio(source)
    picture = render_audio(audio.samples)
    window_probabilities, window_embeddings = window_outputs(network, picture)
    notices = []
    if audio.truncated:
        notices.append(f"Only the first {audio.seconds / 60:.0f} minutes of {audio.source_seconds / 60:.0f} were analysed.")
    mean = window_probabilities.mean(axis=0)
    return Prediction(
        model=model,
        probabilities={g: float(p) for g, p in zip(GENRES, mean)},
        timeline=_timeline(window_probabilities, picture.shape[1]),
        embedding=window_embeddings.mean(axis=0),
        picture=picture,
        seconds=audio.seconds,
        elapsed=time.perf_counter() - started,
        notices=notices,
    )


def audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder`, by extension, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def predict_command(path: Path, model: str, split: str, csv: Path | None) -> int:
    """Print a table of predictions for a file or a folder; write one CSV row per file to `csv`."""
    from tqdm.auto import tqdm

    if path.is_dir():
        files = audio_files(path)
        if not files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {path}")
    else:
        files = [path]
    rows = []
    for file in tqdm(files, desc="classifying", unit="file", disable=len(files) < 2):
        try:
            prediction = classify(file, model=model, split=split)
        except AudioError as error:
            rows.append({"file": str(file), "genre": "", "confidence": np.nan, "error": str(error)})
            continue
        top = prediction.top(3)
        rows.append({"file": str(file), "genre": prediction.genre, "confidence": prediction.confidence,
                     "runner_up": f"{top[1][0]} {top[1][1]:.0%}", "seconds": round(prediction.seconds, 1),
                     "error": "", **prediction.probabilities})
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
