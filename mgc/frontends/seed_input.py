"""The seeds' own input: a 12-kHz, 96-band log-mel spectrogram in ≈ 29-s windows, drawn from audio in torch.

What the CRNN seed (after Choi et al., "Convolutional Recurrent Neural Networks for Music Classification",
ICASSP 2017) read, step for step:

* audio at 12 kHz, mono, resampled with soxr 'HQ' (the loader's resampler and librosa.load's default, as
  `mgc.frontends.musicnn_input` does for 16 kHz);
* a 512-point STFT with hop 256 (periodic Hann, centred frames padded with zeros), power 2, 96 Slaney mel
  filters (`seed_mel_basis.npz`: `librosa.filters.mel(sr=12000, n_fft=512, n_mels=96)`, stored once so that
  serving needs no librosa);
* in decibels: 10·log10 of the power mel, as the seed's `librosa.amplitude_to_db` gives a dB scale. Our one
  change: the 0-dB reference is the input's loudest bin (`ref=np.max`, floored 80 dB below it, as Kaggle's
  picture), not the seed's absolute 1.0, so a quiet recording gives the same input as a loud one — musicnn's
  absolute log-mel costs it 30 points on quiet audio (docs/models.md, "The seeds' own front end"). The CRNN
  standardises each band inside the module, so the dB scale's factor does not matter;
* windows of `WINDOW_FRAMES` = 1366 frames (≈ 29.1 s, the seed's input): a 30-s GTZAN clip (1407 frames) is one
  window, from its start; longer audio the most whole windows that fit, spread evenly from its first frame to its
  last (60 s: 2); audio shorter than a window is one narrower window (the CRNN pools over time, so it reads any
  width).

`SEED_INPUT` (`SeedInput`) is this input as a front end (`mgc.frontends.base`): from audio only, as float32
(96, frames), read `WINDOW_BATCH` windows at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.audio import SAMPLE_RATE as AUDIO_SAMPLE_RATE
from ..errors import AudioError
from .audio_mel import HOP_LENGTH, N_FFT, AudioFrontEnd, power_mel, resample

VERSION = "seed-logmel-12k-v1"
"""Checkpoints record the representation version they were trained on."""
SAMPLE_RATE = 12000
N_MELS = 96
TOP_DB = 80.0
WINDOW_FRAMES = 1366
"""≈ 29.1 s: the CRNN seed's input width (1366 frames of hop 256 at 12 kHz)."""
FRAME_SECONDS = HOP_LENGTH / SAMPLE_RATE
WINDOW_BATCH = 4
"""Windows through the model at a time: a 10-minute song's 20 windows in 5 batches."""

MEL_BASIS_FILE = Path(__file__).with_name("seed_mel_basis.npz")
"""`librosa.filters.mel(sr=12000, n_fft=512, n_mels=96)` (Slaney scale and norm), float32, (96, 257)."""


def resample_to_12k(samples: np.ndarray, rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at `rate` → float32 at 12 kHz (soxr 'HQ', as librosa.load resamples)."""
    return resample(samples, rate, SAMPLE_RATE)


def log_mel(samples_12k: np.ndarray) -> np.ndarray:
    """12-kHz mono samples → the seed's log-mel in dB below the loudest bin, float32 (96, 1 + samples // 256)."""
    import torch

    if len(samples_12k) < N_FFT:
        raise AudioError(f"{len(samples_12k) / SAMPLE_RATE:.3f} s of audio is too short to draw")
    power = power_mel(samples_12k, MEL_BASIS_FILE)  # (96, frames): the power mel spectrogram
    decibels = 10 * torch.log10(power.clamp_min(1e-10))  # librosa's power_to_db, amin 1e-10
    decibels = decibels - decibels.max()
    return decibels.clamp_min(-TOP_DB).contiguous().numpy()


def window_starts(frames: int) -> np.ndarray:
    """First frame of each window: the most whole windows that fit, spread evenly from the first frame to the
    last; one window (from frame 0) when fewer than two fit."""
    count = frames // WINDOW_FRAMES
    if count <= 1:
        return np.array([0])
    return np.linspace(0, frames - WINDOW_FRAMES, count).round().astype(int)


class SeedInput(AudioFrontEnd):
    """The seeds' input: float32 (96 mel bands, frames) in dB, read in windows of `WINDOW_FRAMES`."""

    version = VERSION
    kind = "seed"
    reads = (
        "the sound itself, about 29 seconds at a time, as its own spectrogram (96 bands at 12 kHz, as the seed "
        "projects drew it) — so a 30-s clip gets one answer"
    )
    reads_short = "its own spectrogram of the sound, about 29 seconds at a time"

    def from_audio(self, audio) -> np.ndarray:
        return log_mel(resample_to_12k(audio.samples, audio.sample_rate))

    def windows(self, model_input: np.ndarray):
        """(96, frames) → (windows, 96, min(WINDOW_FRAMES, frames)) float32 tensor."""
        import torch

        width = min(WINDOW_FRAMES, model_input.shape[1])
        spectrogram = torch.from_numpy(np.ascontiguousarray(model_input))
        return torch.stack([spectrogram[:, s : s + width] for s in window_starts(model_input.shape[1])])

    def batches(self, model_input: np.ndarray):
        windows = self.windows(model_input)
        for first in range(0, len(windows), WINDOW_BATCH):
            yield (windows[first : first + WINDOW_BATCH],)

    def window_times(self, model_input: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        starts = window_starts(model_input.shape[1])
        ends = (starts + min(WINDOW_FRAMES, model_input.shape[1])) * FRAME_SECONDS
        return starts * FRAME_SECONDS, np.minimum(ends, seconds)


SEED_INPUT = SeedInput()
