"""What the front ends that read audio itself share (musicnn's and the seeds' log-mel): soxr resampling, a
stored mel filter bank and a centred 512-point power mel spectrogram in torch, and reading a dataset's tracks
that have audio."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import AudioError
from .base import FrontEnd

N_FFT = 512
HOP_LENGTH = 256


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Mono float32 samples at `rate` → float32 at `target` Hz (soxr 'HQ', as librosa.load resamples)."""
    import soxr

    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if rate == target:
        return samples
    return soxr.resample(samples, rate, target, quality="HQ").astype(np.float32, copy=False)


@lru_cache(maxsize=4)
def _mel_basis_and_window(basis_file: Path):
    import torch

    with np.load(basis_file) as stored:
        basis = torch.from_numpy(stored["mel_basis"])
    return basis, torch.hann_window(N_FFT, periodic=True)  # periodic: scipy's get_window("hann"), as librosa


def power_mel(samples: np.ndarray, basis_file: Path):
    """The power mel spectrogram (bands, 1 + samples // 256) of mono samples, as a torch tensor: a 512-point STFT
    with hop 256, centred frames padded with zeros, |X|², through the filter bank stored in `basis_file` (librosa's
    `filters.mel`, stored once so that serving needs no librosa)."""
    import torch

    basis, window = _mel_basis_and_window(basis_file)
    spectrum = torch.stft(
        torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)),
        N_FFT,
        HOP_LENGTH,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    return basis @ spectrum.abs().square()


class AudioFrontEnd(FrontEnd):
    """A front end that reads audio only: a dataset's tracks are the ones whose audio is there and decodes."""

    describes = "audio"

    def from_dataset(self, dataset, tracks) -> dict[str, np.ndarray]:
        """Each track's input from its audio; tracks without audio (Kaggle ships pictures of all 1000, audio of
        few), or whose audio does not decode, are left out."""
        from ..data.audio import load_audio

        inputs = {}
        for track in tracks:
            if track in dataset.audio:
                try:
                    inputs[track] = self.from_audio(load_audio(dataset.audio[track]))
                except AudioError:
                    continue
        return inputs
