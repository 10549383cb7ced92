"""“This may not be music”: measurable reasons to doubt that the input is music at all. A genre classifier
always answers with one of its ten genres, even for a vacuum cleaner."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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


def frame_loudness_and_flatness(
    samples: np.ndarray, frame: int = 2048, hop: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame RMS and spectral flatness: `librosa.feature.rms(y, frame_length=2048, hop_length=512)` and
    `librosa.feature.spectral_flatness(y, n_fft=2048, hop_length=512)` as librosa defines them (centred
    frames, zero padding; flatness = geometric / arithmetic mean of the power spectrum floored at 1e-10),
    computed in torch so that classifying with a picture model never imports librosa (tests compare the two)."""
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
        reasons.append(
            f"it stops and starts like speech ({pause_fraction:.0%} of it is pauses, above {SPEECH_PAUSE_FRACTION:.0%})"
        )
    if entropy is not None and entropy > UNSURE_ENTROPY:
        reasons.append(
            f"the model cannot tell the genres apart (normalised entropy {entropy:.2f}, above {UNSURE_ENTROPY})"
        )
    return MusicCheck(entropy, flatness, rms_dbfs, pause_fraction, tuple(reasons))
