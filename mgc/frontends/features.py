"""The 57-feature front end: Kaggle's hand-crafted GTZAN features, from audio exactly as `features_30_sec.csv` has them.

The Kaggle copy of GTZAN ("GTZAN Dataset - Music Genre Classification") ships `features_30_sec.csv`:
one row per 30-s clip with 57 numbers, each the mean or the variance over the clip of a librosa
frame feature — chroma (STFT), RMS energy, spectral centroid, bandwidth and roll-off, zero-crossing
rate, the harmonic and percussive waveforms of an HPSS ("harmony", "perceptr"), the tempo, and 20
MFCCs. The tabular models are trained on that CSV; `extract_features` computes the same 57 numbers
for any audio (an upload, a recording), so what a model sees live is what it was trained on.

How the CSV was made (reverse-engineered; Kaggle publishes no code): librosa of the 0.7/0.8 era, defaults —
n_fft 2048, hop 512, centred frames with **reflect** padding (librosa ≥ 0.10 pads with zeros by
default, which moves the means by up to ~0.1 %); `effects.hpss` as that era wrote it,
`util.fix_length(istft(stft_harm), len(y))` — the inverse STFT taken without `length=`, so the last
`len(y) % 512` samples are zeros (today's `effects.hpss` passes `length=` and reconstructs them, which
moves the harmony/perceptr variances of the CSV's 661794-sample clips by up to 0.8 %); the tempo of
`beat.beat_track`; and plain `np.mean` / `np.var` over all values of each float32 frame matrix.
`extract_features`'s docstring lists the calls.

Measured agreement (`python tools/validate_features.py`, all 154 clips with audio, librosa 0.11.0):
all 57 columns are within 1 % relative error of the CSV on 154/154 clips. 56 columns agree to
≤ 7e-5 relative (per-column medians ≤ 3.1e-7: float32 rounding); `tempo` is identical on every
clip. The loosest is `harmony_mean`, a near-zero mean — the CSV's values go down to 1.6e-9 while the harmonic
waveform's RMS is ~0.1 — where float32 rounding alone decides the last digits: worst relative error
9.2e-3 (jazz.00096, CSV 1.587e-9, here 1.573e-9), largest absolute error 1.9e-9. So the two HPSS
means are also judged absolutely (≤ 1e-8, i.e. 1e-7 of the waveform's RMS): 17 of the CSV's 1000
clips have |harmony_mean| < 1e-7, where 1 % relative would ask for agreement beyond float32 precision.

Cost (one core, librosa 0.11, after the first call): ~0.5–0.7 s per 30-s clip, of which the HPSS and
its two inverse STFTs take ~0.25–0.5 s — librosa's own `decompose.hpss` alone takes 1.5–2.2 s; the
same median filters, run as 1-D filters row by row, give bit-identical values. The first call in a
process pays ~1.5–2.5 s of one-off librosa/scipy/numba loading (plus ~0.6 s to import). 10 minutes of
audio take ~15 s and ~1.7 GB of memory.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import DatasetError
from .base import FrontEnd

VERSION = "kaggle-features-30s-v1"
"""Checkpoints of the feature models record the feature version they were trained on."""
SAMPLE_RATE = 22050
N_FFT = 2048
HOP_LENGTH = 512
PAD_MODE = "reflect"
"""librosa's default before 0.10, and what the Kaggle CSV (and its mel pictures) used."""
N_MFCC = 20
HPSS_KERNEL = 31
MIN_SAMPLES = N_FFT
"""Shorter input has no full analysis frame; `extract_features` refuses it (1 s is 22050 samples)."""

_FRAME_FEATURES = (
    "chroma_stft",
    "rms",
    "spectral_centroid",
    "spectral_bandwidth",
    "rolloff",
    "zero_crossing_rate",
    "harmony",
    "perceptr",
)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{name}_{stat}" for name in _FRAME_FEATURES for stat in ("mean", "var")),
    "tempo",
    *(f"mfcc{k}_{stat}" for k in range(1, N_MFCC + 1) for stat in ("mean", "var")),
)
"""The 57 feature columns of Kaggle's features_30_sec.csv, in its order (filename, length, label left out)."""


def extract_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
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
    import librosa  # here, not at the top: a server classifying with a picture model never loads it (~130 MB)

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


def table_features(table: pd.DataFrame, tracks) -> np.ndarray:
    """Rows of Kaggle's feature table (`GTZAN.features`) for `tracks`: float64 (tracks, 57) in `FEATURE_NAMES` order."""
    missing_columns = [name for name in FEATURE_NAMES if name not in table.columns]
    if missing_columns:
        raise DatasetError(f"the feature table lacks the columns {missing_columns}")
    missing_tracks = [t for t in tracks if t not in table.index]
    if missing_tracks:
        raise DatasetError(f"the feature table has no row for {len(missing_tracks)} tracks, e.g. {missing_tracks[:3]}")
    return table.loc[list(tracks), list(FEATURE_NAMES)].to_numpy(dtype=np.float64)


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


class KaggleFeatures(FrontEnd):
    """Kaggle's 57 features of a whole input: one float64 row (57,), read as a single window covering it all.

    A dataset track's row comes from `features_30_sec.csv`; audio's from `extract_features`."""

    version = VERSION
    describes = "a row in features_30_sec.csv"

    def from_audio(self, audio) -> np.ndarray:
        return extract_features(audio.samples, audio.sample_rate)

    def from_dataset(self, dataset, tracks) -> dict[str, np.ndarray]:
        table = dataset.features
        present = [t for t in tracks if t in table.index]
        return dict(zip(present, table_features(table, present)))

    def batches(self, row: np.ndarray):
        import torch

        yield (torch.as_tensor(np.atleast_2d(row), dtype=torch.float64),)

    def window_times(self, row: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        return np.array([0.0]), np.array([seconds])


FEATURES = KaggleFeatures()
