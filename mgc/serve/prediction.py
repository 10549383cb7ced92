"""Classifying audio: `classify(file)` → `Prediction`.

Each model reads its input through its family's front end (`mgc.frontends`). For a picture model, a
track is cut into windows of ≈ 10 s with ≈ 2.5-s hop (one window for shorter audio); the model's
probabilities per window are the *timeline*, and their mean is the track's answer. A feature model
reads Kaggle's 57 features of the whole input (`mgc.frontends.features.extract_features`): its
timeline is one row covering the whole input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.audio import Audio, load_audio
from ..data.gtzan import GENRES
from ..errors import AudioError
from ..frontends import PICTURE, InputsOf
from ..gate import GateResult, check
from ..gate.measurements import _vad, measure
from ..models import family
from ..models.musicnn_pass import MUSICNN_PASS, MusicnnPass
from ..models.workers import submit
from ..runs.outputs import run_outputs
from ..runs.run import resolve
from ..runs.table import default_run


class UnusableAnswer(AudioError):
    """A model's answer for this input is not a set of finite probabilities (NaN or infinity): nothing is shown."""


def _not_finite(model: str) -> UnusableAnswer:
    return UnusableAnswer(
        f"{model} gave no usable answer for this audio (its probabilities are not finite numbers); "
        "try another model, or export the audio again at an ordinary level"
    )


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
    gate: GateResult | None = None
    """The not-music gate's verdict on the input (`mgc.gate`): is it music, and if not, what it sounds like."""
    unsure_margin: float = 0.0
    """The run's top-two margin under which its answer is "not sure" (`mgc.runs.calibration`)."""
    musicnn: MusicnnPass | None = None
    """musicnn's pass over the input (each 3-s patch's embedding and tags) when one was made or given for this
    request: the taggram reads it (`mgc.explain.taggram(…, musicnn=)`) instead of running musicnn again."""

    def __post_init__(self):
        # No page, table or download can be asked to rank NaN: a Prediction only exists with finite numbers.
        values = np.array(list(self.probabilities.values()), dtype=np.float64)
        windows = self.timeline[[g for g in GENRES if g in self.timeline]].to_numpy(dtype=np.float64)
        if not (np.isfinite(values).all() and np.isfinite(windows).all()):
            raise _not_finite(self.model)

    @property
    def genre(self) -> str:
        """The most probable genre."""
        return max(self.probabilities, key=self.probabilities.get)

    @property
    def confidence(self) -> float:
        return self.probabilities[self.genre]

    @property
    def runner_up(self) -> str:
        """The second most probable genre."""
        return self.top(2)[1][0]

    @property
    def is_music(self) -> bool:
        """False when the gate hears speech or another sound, not music (True when no gate was run)."""
        return self.gate is None or self.gate.is_music

    @property
    def is_unsure(self) -> bool:
        """The top two genres are too close to tell apart: on the run's valid part, the top genre is right less
        than half the time at such a margin."""
        (_, first), (_, second) = self.top(2)
        return first - second < self.unsure_margin

    @property
    def verdict(self) -> str:
        """ "not music" (the gate fired), "unsure" (the top two are too close) or "genre" (an answer)."""
        if not self.is_music:
            return "not music"
        return "unsure" if self.is_unsure else "genre"

    @property
    def headline(self) -> str:
        """What to say first: "jazz", "not sure: jazz or blues", or "closest to jazz" for what is not music."""
        if self.verdict == "not music":
            return f"closest to {self.genre}"
        if self.verdict == "unsure":
            return f"not sure: {self.genre} or {self.runner_up}"
        return self.genre

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The k most probable genres with their probabilities, best first."""
        return sorted(self.probabilities.items(), key=lambda item: -item[1])[:k]

    def timeline_csv(self) -> str:
        """The timeline as CSV text to download: `start`, `end` (seconds), the ten probabilities, and each
        window's most probable genre (`top_genre`)."""
        table = self.timeline.copy()
        values = table[list(GENRES)].to_numpy(dtype=np.float64)
        ranked = np.where(np.isnan(values), -np.inf, values)  # never idxmax: it raises on a row of NaN
        best = np.asarray(GENRES)[ranked.argmax(axis=1)] if len(table) else np.array([], dtype=str)
        table["top_genre"] = np.where(np.isnan(values).all(axis=1), "", best)
        return table.to_csv(index=False, float_format="%.6g")

    def record(self, split: str, source: str = "") -> dict:
        """The whole result as plain data (for JSON): the run, the input's name, the verdict and headline, the genre
        and confidence, all ten (calibrated) probabilities, the timeline (one dict per window), the notices, and the
        gate's verdict with its reasons and measurements."""
        gate = self.gate
        return {
            "model": self.model,
            "split": split,
            "source": source,
            "verdict": self.verdict,
            "headline": self.headline,
            "genre": self.genre,
            "confidence": self.confidence,
            "probabilities": dict(self.probabilities),
            "seconds_analysed": self.seconds,
            "timeline": [{key: float(value) for key, value in row.items()} for row in self.timeline.to_dict("records")],
            "notices": list(self.notices),
            "is_music": self.is_music,
            "sounds_like": gate.kind if gate else None,
            "not_music_reasons": list(gate.reasons) if gate else [],
            "gate_probabilities": dict(gate.probabilities) if gate else None,
            "gate_measurements": gate.measurements.as_dict() if gate else None,
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


def reads_musicnn_pass(run) -> bool:
    """Whether a resolved run (`mgc.runs.run.resolve`), or a member of it, reads musicnn's pass (`musicnn-gru`)."""
    return any(family(each.load()[1]["family"]).frontend is MUSICNN_PASS for each in run.members or (run,))


def listen(audio: Audio, musicnn: MusicnnPass | None = None) -> tuple[MusicnnPass, GateResult]:
    """musicnn's pass over decoded audio (`MUSICNN_PASS`; `musicnn` when it was made already) and the not-music
    gate's verdict on the audio, made side by side: the gate's measurements on one worker thread while musicnn's
    log-mel and patches go through the network on the others (`mgc.models.workers`; each on one torch thread, so
    none waits for another). The same numbers as `MUSICNN_PASS.from_audio(audio)` then `check(…, embeddings=)`."""
    _vad()  # Silero VAD loaded in this thread, not on a worker: loading it sets torch's thread count to the loading
    # thread's, and a worker's 1 would then become the count of every thread the process starts later
    measuring = submit(measure, audio.samples, audio.sample_rate)
    musicnn = musicnn or MUSICNN_PASS.from_audio(audio)
    gate = check(audio.samples, audio.sample_rate, embeddings=musicnn.embedding, measured=measuring.result())
    return musicnn, gate


def classify(
    source,
    model: str = default_run("uploads"),
    split: str = "random",
    gate: GateResult | None = None,
    musicnn: MusicnnPass | None = None,
) -> Prediction:
    """Classify audio (a path, bytes or binary file; wav, flac, ogg, opus, mp3, m4a with ffmpeg).

    `model` is any trained run (`crnn`, `mlp`, `logreg`, `ensemble-sum`, …) of `split`. Its probabilities are
    calibrated (`mgc.runs.calibration`) and the input goes through the not-music gate (`mgc.gate.check`; pass
    `gate` when the same audio was checked already). Raises `AudioError` for input that cannot be classified,
    with a message for the person.

    musicnn runs at most once per request: `musicnn` (`mgc.models.musicnn_pass.MUSICNN_PASS` of this same audio,
    when the caller made it already) or the pass made for a model that reads it (`musicnn-gru`) feeds the model, the
    gate (its `embeddings`) and the Prediction (`musicnn`, for the taggram).
    """
    started = time.perf_counter()
    run = resolve(model, split)  # resolved once; a missing or stale checkpoint is reported before the audio is decoded
    audio = source if isinstance(source, Audio) else load_audio(source)
    inputs = InputsOf(audio)
    # Every piece runs on the one-thread workers (`mgc.models.workers`), side by side where it can.
    drawing = submit(PICTURE.from_audio, audio)  # every Prediction carries the picture
    gating, reads_pass = None, reads_musicnn_pass(run)
    if gate is None and (musicnn is not None or reads_pass):
        musicnn, gate = listen(audio, musicnn)  # the pass, and the gate's measurements beside it
    elif musicnn is None and reads_pass:
        musicnn = MUSICNN_PASS.from_audio(audio)
    elif gate is None:  # a model without musicnn: the gate draws its own patches, beside the model
        _vad()  # loaded in this thread, not on a worker (see `listen`)
        gating = submit(check, audio.samples, audio.sample_rate)
    if musicnn is not None:
        inputs.provide(MUSICNN_PASS, musicnn)
    inputs.provide(PICTURE, drawing.result())
    outputs = submit(run_outputs, run, inputs).result()
    if not (np.isfinite(outputs.probabilities).all() and np.isfinite(outputs.window_probabilities).all()):
        raise _not_finite(model)  # before a Prediction exists: no page or table ever ranks NaN
    if gate is None:  # the gate ran beside the model (a model without musicnn)
        gate = gating.result()
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
        gate=gate,
        unsure_margin=outputs.unsure_margin,
        musicnn=musicnn,
    )
