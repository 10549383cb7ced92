"""What the not-music gate measures of a sound: a few numbers, each with a reason to exist.

* `speech_share` — the share of 32-ms frames that Silero VAD (`silero-vad`, MIT; its TorchScript weights ship
  inside the pip package, nothing is downloaded) calls speech. It also fires on rap, so it is never used alone.
* `pause_share` — the share of frames 30 dB or more below the sound's loud level (its 95th percentile): people
  stop between words and phrases; music, rap over a beat included, rarely falls that far for long.
* `flatness` — median spectral flatness (Wiener entropy) of the sounding frames: noise is flat (≈ 0.5 for white
  noise), music and speech are peaky (GTZAN stays below ≈ 0.1).
* `loudness_spread` — the spread (standard deviation, dB) of the sounding frames' loudness: syllables and calls
  come and go, music keeps a level.
* `level_dbfs` — the whole input's RMS level.
* `centroid_hz` — median spectral centroid of the sounding frames: birds whistle high, whales moan low.
* `beat_strength` — the highest autocorrelation of the onset envelope (spectral flux) at lags of 0.25–1.5 s:
  music, rap included, repeats a beat; speech, birds and noise do not.
* `spectral_change` — the median spectral flux (dB a frame, over the loud bins): steady tones and hum barely
  change, noise and speech change all the time.

All of it runs in torch, numpy and soxr on the decoded samples (no librosa), over at most `MAX_SECONDS` of audio
(the VAD over `VAD_SECONDS`) spread evenly over the input, so that a 10-minute upload costs what a minute does.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

SAMPLE_RATE = 22050
FRAME = 2048
HOP = 1024
"""Frames of 93 ms every 46 ms: fine enough for pauses and beats (0.25–1.5 s), half the cost of librosa's 512."""
PAUSE_DB = 30.0
"""A frame is a pause when it is this many dB below the loud frames (the 95th percentile)."""
VAD_RATE = 16000
VAD_CHUNK = 512
"""Silero VAD reads 32-ms chunks of 16-kHz audio."""
VAD_SEGMENT_SECONDS = 1.024
"""The VAD runs on segments of this length side by side (one batch), not over the whole input in sequence: its cost
is one step per 32-ms chunk of a segment whatever the batch, so 30 s cost ≈ 25 ms instead of ≈ 300 ms, and the
share of speech frames agrees within a few points with the sequential run on real speech and music."""
VAD_SECONDS = 16.0
"""At most this much of an input goes through the VAD: 1-s segments spread evenly over it (enough to tell a reading
from a song; the VAD is the gate's dearest part)."""
MAX_SECONDS = 60.0
"""At most this much of an input is measured (the VAD: `VAD_SECONDS`)."""
PIECE_SECONDS = 2.048
"""Input longer than `MAX_SECONDS` is measured in pieces of this length, spread evenly over it."""
BEAT_LAGS_SECONDS = (0.25, 1.5)
_VAD_LOCK = threading.Lock()
"""The VAD keeps its recurrent state inside the model: one input at a time (threads of `predict`, app sessions)."""
NAMES = (
    "speech_share",
    "pause_share",
    "flatness",
    "loudness_spread",
    "level_dbfs",
    "centroid_hz",
    "beat_strength",
    "spectral_change",
)


@dataclass(frozen=True)
class Measurements:
    """The gate's measurements of one sound (see the module's text for what each means)."""

    speech_share: float
    pause_share: float
    flatness: float
    loudness_spread: float
    level_dbfs: float
    centroid_hz: float
    beat_strength: float
    spectral_change: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in NAMES], dtype=np.float64)


@lru_cache(maxsize=1)
def _vad():
    """Silero VAD's TorchScript model, loaded once from the package's own files. Importing `silero_vad` sets
    torch's thread count to 1 for the whole process; the count in force before is put back."""
    import torch

    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad

        model = load_silero_vad()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return model


def _spread_segments(samples: np.ndarray, segment: int, most: int) -> np.ndarray:
    """(n, segment) pieces of `samples`: all of them when there are at most `most`, else `most` spread evenly.
    Shorter input is zero-padded to one segment."""
    if len(samples) < segment:
        return np.pad(samples, (0, segment - len(samples)))[None]
    count = len(samples) // segment
    pieces = samples[: count * segment].reshape(count, segment)
    if count > most:
        pieces = pieces[np.linspace(0, count - 1, most).round().astype(int)]
    return pieces


def speech_share(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> float:
    """Share of 32-ms frames in which Silero VAD hears speech (probability ≥ 0.5), over at most `VAD_SECONDS`."""
    import soxr
    import torch

    audio16 = soxr.resample(np.asarray(samples, dtype=np.float32), sample_rate, VAD_RATE, "HQ")
    segment = int(VAD_SEGMENT_SECONDS * VAD_RATE) // VAD_CHUNK * VAD_CHUNK
    pieces = _spread_segments(audio16.astype(np.float32), segment, int(VAD_SECONDS / VAD_SEGMENT_SECONDS))
    model = _vad()
    with _VAD_LOCK, torch.inference_mode():
        model.reset_states()
        probabilities = model.audio_forward(torch.from_numpy(np.ascontiguousarray(pieces)), VAD_RATE)
        model.reset_states()
    return float((probabilities >= 0.5).float().mean())


def frame_loudness_and_flatness(samples: np.ndarray, frame: int = FRAME, hop: int = HOP):
    """Per-frame RMS, spectral flatness and power spectrum: RMS and flatness as librosa's `feature.rms` and
    `feature.spectral_flatness` define them (centred frames, zero padding; flatness = geometric / arithmetic mean
    of the power spectrum floored at 1e-10), computed in torch so that the gate never imports librosa (tests
    compare the two)."""
    import torch

    y = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))
    padded = torch.nn.functional.pad(y, (frame // 2, frame // 2))
    frames = padded.unfold(0, frame, hop)
    frame_rms = frames.square().mean(dim=1).sqrt()
    spectrum = torch.stft(
        y,
        frame,
        hop,
        window=torch.hann_window(frame, periodic=True),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    power = spectrum.abs().square().clamp_min(1e-10)
    flatness = power.log().mean(dim=0).exp() / power.mean(dim=0)
    return frame_rms.numpy(), flatness.numpy(), power.numpy()


def measure(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Measurements:
    """The gate's measurements of mono float samples at `sample_rate` (22050 Hz for everything mgc decodes)."""
    samples = np.asarray(samples, dtype=np.float32)
    spread = _spread_segments(samples, int(PIECE_SECONDS * sample_rate), int(MAX_SECONDS / PIECE_SECONDS))
    measured = spread.reshape(-1) if len(samples) > MAX_SECONDS * sample_rate else samples
    frame_rms, flatness_frames, power = frame_loudness_and_flatness(measured)
    rms = float(np.sqrt(np.mean(measured.astype(np.float64) ** 2)))
    loud = float(np.percentile(frame_rms, 95))
    frame_db = 20 * np.log10(np.maximum(frame_rms, 1e-10))
    pauses = frame_db < 20 * math.log10(max(loud, 1e-10)) - PAUSE_DB
    sounding = ~pauses if (~pauses).any() else np.ones_like(pauses)
    frequencies = np.fft.rfftfreq(FRAME, 1 / sample_rate)
    centroid = (frequencies[:, None] * power).sum(axis=0) / power.sum(axis=0)
    beat_strength, spectral_change = _onsets(power, sample_rate)
    return Measurements(
        speech_share=speech_share(measured, sample_rate),
        pause_share=float(pauses.mean()),
        flatness=float(np.median(flatness_frames[sounding])),
        loudness_spread=float(np.std(frame_db[sounding])),
        level_dbfs=20 * math.log10(rms) if rms > 0 else -120.0,
        centroid_hz=float(np.median(centroid[sounding])),
        beat_strength=beat_strength,
        spectral_change=spectral_change,
    )


def _onsets(power: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """(beat strength, spectral change) of a power spectrogram (bins, frames); see the module's text."""
    decibels = 10 * np.log10(power)
    decibels = np.maximum(decibels, decibels.max() - 80.0)
    flux = np.maximum(np.diff(decibels, axis=1), 0.0).mean(axis=0)
    change = float(np.median(flux)) if len(flux) else 0.0
    low, high = (round(lag * sample_rate / HOP) for lag in BEAT_LAGS_SECONDS)
    envelope = flux - flux.mean()
    if len(envelope) <= low + 1 or not envelope.any():
        return 0.0, change
    spectrum = np.fft.rfft(envelope, n=2 * len(envelope))
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: len(envelope)]
    autocorrelation /= autocorrelation[0]
    # each lag's correlation over the overlapping frames only (an unbiased estimate)
    lags = np.arange(low, min(high, len(envelope) - 1) + 1)
    unbiased = autocorrelation[lags] * len(envelope) / (len(envelope) - lags)
    return float(np.clip(unbiased.max(), 0.0, 1.0)), change
