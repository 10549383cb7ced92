"""The reference for `mgc.frontends.features.extract_features`: Kaggle's 57 features made with librosa's own calls.

This is the extractor mgc shipped before the features moved to torch (issue 18), unchanged: the calls its
docstring lists are how `features_30_sec.csv` was made (tools/validate_features.py measured it against the
CSV on every clip with audio). tests/test_features.py checks the torch extractor against it.
"""

from __future__ import annotations

import warnings

import numpy as np

from mgc.frontends.features import (
    _FRAME_FEATURES,
    HOP_LENGTH,
    HPSS_KERNEL,
    MIN_SAMPLES,
    N_FFT,
    N_MFCC,
    PAD_MODE,
    SAMPLE_RATE,
)


def librosa_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The 57 Kaggle GTZAN features of the mono signal `y`, as float64 in `FEATURE_NAMES` order.

    `y` is a 1-D array of samples in [-1, 1] at `sr` Hz, at least `MIN_SAMPLES` (2048) long; it is
    computed in float32, as `librosa.load` gave the CSV's authors. The CSV was made at 22050 Hz; other
    rates work (frequencies stay in Hz) but the values are then not comparable with the CSV — resample
    first (`mgc.data.audio.load_audio` does). Raises ValueError for other shapes, short or non-finite input.

    One STFT serves every spectral feature, the HPSS and the mel spectrogram:
    `D = librosa.stft(y, n_fft=2048, hop_length=512, center=True, pad_mode="reflect")`,
    `S = |D|`, `P = S**2`. Then, each `*_mean`/`*_var` being `np.mean`/`np.var` over the whole matrix:

    - chroma_stft: `librosa.feature.chroma_stft(S=P, sr=sr)` (12 bins, tuning estimated, inf-norm);
    - rms: `librosa.feature.rms(y=y, frame_length=2048, hop_length=512, center=True, pad_mode="reflect")`
      (time-domain frames: the spectral RMS of `S` would weight by the window);
    - spectral_centroid / spectral_bandwidth (p=2, centroid-relative) / rolloff (0.85):
      `librosa.feature.spectral_*(S=S, sr=sr)`;
    - zero_crossing_rate: `librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)`
      (centred with edge padding, its own default);
    - harmony / perceptr: the waveforms of `librosa.decompose.hpss(D)` (kernel 31, power 2, soft masks,
      margin 1) inverted with `librosa.istft(·, hop_length=512, dtype=float32)` **without** `length=`,
      then zero-padded to `len(y)` by `librosa.util.fix_length` — what `librosa.effects.hpss` did
      in the 0.7/0.8 era, so the last `len(y) % 512` samples are zeros (the CSV's clips of 661794 samples
      need this; librosa 0.11's `effects.hpss` reconstructs them and misses by up to 0.8 %);
    - tempo: the tempo `librosa.beat.beat_track(y=y, sr=sr)` reports, i.e.
      `librosa.feature.tempo(onset_envelope=env, sr=sr, hop_length=512)` (start 120 BPM, ac_size 8 s,
      max 320 BPM) with `env = librosa.onset.onset_strength(S=L, sr=sr, aggregate=np.median)`, and 0
      when the envelope is all zero, as beat_track does; calling `feature.tempo` directly skips the
      beat tracker's dynamic programme, whose numba code costs ~2.5 s to load;
    - mfcc1..20: `librosa.feature.mfcc(S=L, n_mfcc=20)` (DCT-II, ortho), with
      `L = librosa.power_to_db(librosa.feature.melspectrogram(S=P, sr=sr))` (128 Slaney mel bands to
      sr/2, ref 1, top_db 80) — the same log-mel that `onset_strength(y=y)` builds internally.

    Silence gives finite values (zeros, MFCC 1 at its floor, tempo 0), never NaN.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"extract_features needs a mono 1-D signal, got an array of shape {y.shape}")
    if len(y) < MIN_SAMPLES:
        raise ValueError(f"extract_features needs at least {MIN_SAMPLES} samples (~0.1 s), got {len(y)}")
    if sr <= 0:
        raise ValueError(f"the sample rate must be positive, got {sr}")
    y = y.astype(np.float32, copy=False)
    if not np.isfinite(y).all():
        raise ValueError("the signal contains NaN or infinite samples")
    import librosa

    D = librosa.stft(y, n_fft=N_FFT, hop_length=HOP_LENGTH, center=True, pad_mode=PAD_MODE)
    S, phase = librosa.magphase(D)  # S is exactly np.abs(D); the phase is for the HPSS waveforms
    del D  # large for long input: 10 min is 1025 × 25840 complex values
    frame_features = {}
    P = S**2
    with warnings.catch_warnings():
        # Silence has no peaks to estimate tuning from; librosa warns and uses 0 cents, which is right.
        warnings.filterwarnings("ignore", message="Trying to estimate tuning from empty frequency set")
        frame_features["chroma_stft"] = librosa.feature.chroma_stft(S=P, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(S=P, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH))
    del P
    frame_features["rms"] = librosa.feature.rms(
        y=y, frame_length=N_FFT, hop_length=HOP_LENGTH, center=True, pad_mode=PAD_MODE
    )
    frame_features["spectral_centroid"] = librosa.feature.spectral_centroid(
        S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH
    )
    frame_features["spectral_bandwidth"] = librosa.feature.spectral_bandwidth(
        S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH
    )
    frame_features["rolloff"] = librosa.feature.spectral_rolloff(S=S, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH)
    frame_features["zero_crossing_rate"] = librosa.feature.zero_crossing_rate(
        y, frame_length=N_FFT, hop_length=HOP_LENGTH, center=True
    )
    mask_harmonic, mask_percussive = _hpss_masks(S)
    frame_features["harmony"] = _waveform((S * mask_harmonic) * phase, len(y))
    del mask_harmonic
    frame_features["perceptr"] = _waveform((S * mask_percussive) * phase, len(y))
    del mask_percussive, S, phase

    envelope = librosa.onset.onset_strength(S=log_mel, sr=sr, n_fft=N_FFT, hop_length=HOP_LENGTH, aggregate=np.median)
    tempo = 0.0
    if envelope.any():
        tempo = float(librosa.feature.tempo(onset_envelope=envelope, sr=sr, hop_length=HOP_LENGTH)[0])
    mfcc = librosa.feature.mfcc(S=log_mel, sr=sr, n_mfcc=N_MFCC)

    values: list[float] = []
    for name in _FRAME_FEATURES:
        values += [float(np.mean(frame_features[name])), float(np.var(frame_features[name]))]
    values.append(tempo)
    for band in mfcc:
        values += [float(np.mean(band)), float(np.var(band))]
    return np.asarray(values, dtype=np.float64)


def _hpss(D: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`librosa.decompose.hpss(D)` with its defaults (kernel 31, power 2, margin 1): same values, ~5× faster."""
    import librosa

    S, phase = librosa.magphase(D)
    mask_harmonic, mask_percussive = _hpss_masks(S)
    return (S * mask_harmonic) * phase, (S * mask_percussive) * phase


def _hpss_masks(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The harmonic and percussive soft masks of the magnitude spectrogram `S`, as `decompose.hpss` makes them.

    librosa median-filters `S` with 2-D kernels (1×31 along time, 31×1 along frequency); scipy has a
    much faster path for 1-D arrays, so the same filters run row by row here (identical values).
    """
    import librosa

    harmonic = _median_rows(S)
    percussive = _median_rows(np.ascontiguousarray(S.T)).T
    return (
        librosa.util.softmask(harmonic, percussive, power=2.0, split_zeros=True),
        librosa.util.softmask(percussive, harmonic, power=2.0, split_zeros=True),
    )


def _median_rows(X: np.ndarray) -> np.ndarray:
    import scipy.ndimage

    out = np.empty_like(X)
    for i, row in enumerate(X):
        out[i] = scipy.ndimage.median_filter(row, size=HPSS_KERNEL, mode="reflect")
    return out


def _waveform(stft_matrix: np.ndarray, length: int) -> np.ndarray:
    """Inverse STFT as 0.7/0.8-era `librosa.effects.hpss` did it: no `length=`, then zero-padded to `length`."""
    import librosa

    y = librosa.istft(stft_matrix, n_fft=N_FFT, hop_length=HOP_LENGTH, dtype=np.float32)
    return librosa.util.fix_length(y, size=length)
