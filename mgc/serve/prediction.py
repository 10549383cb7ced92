"""Classifying audio: `classify(file)` → `Prediction`.

Each model reads its input through its family's front end (`mgc.frontends`). For a picture model, a
track is cut into windows of ≈ 10 s with ≈ 2.5-s hop (one window for shorter audio); the model's
probabilities per window are the *timeline*, and their mean is the track's answer. A feature model
reads Kaggle's 57 features of the whole input (`mgc.frontends.features.extract_features`): its
timeline is one row covering the whole input.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.audio import Audio, load_audio
from ..data.gtzan import GENRES
from ..runs import is_ensemble, load_ensemble, load_model
from ..runs.outputs import audio_outputs


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

    def timeline_csv(self) -> str:
        """The timeline as CSV text to download: `start`, `end` (seconds), the ten probabilities, and each
        window's most probable genre (`top_genre`)."""
        table = self.timeline.copy()
        table["top_genre"] = table[list(GENRES)].idxmax(axis=1)
        return table.to_csv(index=False, float_format="%.6g")

    def record(self, split: str, source: str = "", may_not_be_music: Sequence[str] = ()) -> dict:
        """The whole result as plain data (for JSON): the run, the input's name, the genre and confidence, all ten
        probabilities, the timeline (one dict per window), the notices, and the reasons to doubt that the input is
        music (`mgc.explain.music_check`'s, passed in by the caller)."""
        return {
            "model": self.model,
            "split": split,
            "source": source,
            "genre": self.genre,
            "confidence": self.confidence,
            "probabilities": dict(self.probabilities),
            "seconds_analysed": self.seconds,
            "timeline": [{key: float(value) for key, value in row.items()} for row in self.timeline.to_dict("records")],
            "notices": list(self.notices),
            "may_not_be_music": bool(may_not_be_music),
            "may_not_be_music_reasons": list(may_not_be_music),
        }


def _timeline(window_probabilities: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame(window_probabilities, columns=list(GENRES))
    table.insert(0, "end", ends)
    table.insert(0, "start", starts)
    return table


def _cut_notice(seconds: float, source_seconds: float) -> str:
    """What was analysed of a long input: its first 10 minutes, or (many channels at a high rate, see
    `mgc.data.audio.MAX_DECODED_SAMPLES`) a shorter start."""
    if seconds >= 120:
        return f"Only the first {seconds / 60:.0f} minutes of {source_seconds / 60:.0f} were analysed."
    return (
        f"Only the first {seconds:.0f} s of {source_seconds:.0f} s were analysed "
        "(the file has many channels or a high sample rate)."
    )


def classify(source, model: str = "crnn", split: str = "random") -> Prediction:
    """Classify audio (a path, bytes or binary file; wav, flac, ogg, opus, mp3, m4a with ffmpeg).

    `model` is any trained run (`crnn`, `mlp`, `logreg`, `ensemble-sum`, …) of `split`. Raises
    `AudioError` for input that cannot be classified, with a message for the person.
    """
    started = time.perf_counter()
    if is_ensemble(model, split):
        load_ensemble(model, split)
    else:
        load_model(model, split)  # a missing or stale checkpoint is reported before the audio is decoded
    audio = source if isinstance(source, Audio) else load_audio(source)
    outputs = audio_outputs(model, split, audio)
    notices = list(audio.notices)
    if audio.truncated:
        notices.append(_cut_notice(audio.seconds, audio.source_seconds))
    return Prediction(
        model=model,
        probabilities={g: float(p) for g, p in zip(GENRES, outputs.probabilities)},
        timeline=_timeline(outputs.window_probabilities, outputs.starts, outputs.ends),
        embedding=outputs.embedding,
        picture=outputs.picture,
        seconds=audio.seconds,
        elapsed=time.perf_counter() - started,
        notices=notices,
    )
