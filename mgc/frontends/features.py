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

Measured agreement (`python tools/validate_features.py`, all 154 clips with audio): all 57 columns are
within 1 % relative error of the CSV on 154/154 clips. 56 columns agree to ≤ 9.3e-5 relative (per-column
medians ≤ 2e-7: float32 rounding); `tempo` is identical on every clip. The loosest is `harmony_mean`, a
near-zero mean — the CSV's values go down to 1.6e-9 while the harmonic waveform's RMS is ~0.1 — where
float32 rounding alone decides the last digits: worst relative error 7.0e-3 (jazz.00096, CSV 1.587e-9,
here 1.576e-9), largest absolute error 1.9e-9. So the two HPSS means are also judged absolutely (≤ 1e-8,
i.e. 1e-7 of the waveform's RMS): 17 of the CSV's 1000 clips have |harmony_mean| < 1e-7, where 1 %
relative would ask for agreement beyond float32 precision. (librosa's own calls, which mgc used until
issue 18, measured the same: ≤ 7e-5 on 56 columns, 9.2e-3 on `harmony_mean`.)

The numbers come from torch and numpy, not from librosa's calls: one STFT serves every spectral
feature, the HPSS and the mel spectrogram, and librosa (with its numba and scipy.signal stack, ~200 MB of
a server's memory) is never imported. tests/test_features.py keeps librosa's calls as the reference
(tests/librosa_features.py): every column agrees to ≤ 1e-4 relative and the tempo exactly, on synthetic
signals and on two real clips per genre.

Cost (`python -m mgc bench --parts latency`, 2 cores, a 30-s clip): ~170 ms, of which the HPSS's two median
filters (31 values wide, over 1025 × 1293 values each) take ~100 ms — scipy's 1-D rank filter, once over all
rows laid end to end, on one core (it holds Python's lock) — and everything else (the STFT, two inverse
STFTs, the masks, chroma with its tuning estimate, the tempo) ~70 ms.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

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
TOP_DB = 80.0
"""`power_to_db`'s floor under the loudest value of the log-mel spectrogram the MFCCs and the tempo read."""
ZERO_CROSSING_THRESHOLD = 1e-10
ROLLOFF_SHARE = 0.85
TUNING_FMIN, TUNING_FMAX, TUNING_THRESHOLD, TUNING_BINS = 150.0, 4000.0, 0.1, 100
"""`estimate_tuning`'s defaults: peaks at 150–4000 Hz above a tenth of the frame's maximum, 0.01-semitone bins."""
TEMPO_WINDOW_SECONDS, TEMPO_START_BPM, TEMPO_MAX_BPM = 8.0, 120.0, 320.0
"""`beat_track`'s tempo: 8-s autocorrelation windows, a prior around 120 BPM, nothing at or above 320 BPM."""
CONTEXT_FRAMES = 16
"""Frames a piece of a long input reads beyond its own on either side: the HPSS's median filters reach 15."""
TEMPO_FRAMES_AT_ONCE = 2048
"""Frames whose tempogram rows are computed together (a 30-s clip's 1293 in one go)."""

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

    What librosa computes, step for step, from **one** STFT in torch, without importing librosa:
    `D = stft(y, n_fft=2048, hop_length=512, center=True, pad_mode="reflect")` (periodic Hann),
    `S = |D|`, `P = S**2`; each `*_mean` / `*_var` is `np.mean` / `np.var` over the whole frame matrix (float32, or
    float64 where librosa's is: centroid, bandwidth, roll-off).

    - chroma_stft: `librosa.feature.chroma_stft(S=P, sr=sr)` — the tuning estimated from `P` as
      `estimate_tuning` does it (`piptrack` peaks between 150 and 4000 Hz above a tenth of each frame's
      maximum, those at or above the median peak, a histogram of their deviation from equal temperament
      at 0.01-semitone resolution), librosa's chroma filter bank for that tuning (`chroma_filter_bank`),
      each frame divided by its maximum;
    - rms: `librosa.feature.rms(y=y, frame_length=2048, hop_length=512, center=True, pad_mode="reflect")`
      (time-domain frames);
    - spectral_centroid, spectral_bandwidth (p = 2, about the centroid, of the frame's normalised
      spectrum), rolloff (85 % of the frame's summed magnitude): librosa's `spectral_*(S=S, sr=sr)`;
    - zero_crossing_rate: `librosa.feature.zero_crossing_rate(y, frame_length=2048, hop_length=512)`
      (edge padding; values within ±1e-10 count as zero, zero counts as positive);
    - harmony / perceptr: `librosa.decompose.hpss(D)` (median filters of 31 along time and along
      frequency, soft masks of power 2, margin 1) inverted without `length=` and zero-padded to `len(y)`,
      as the 0.7/0.8-era `librosa.effects.hpss` that made the CSV did (the last `len(y) % 512` samples are
      zeros; today's `effects.hpss` reconstructs them and misses the CSV by up to 0.8 %). The median
      filters are scipy's 1-D rank filter over the rows laid end to end (librosa's 2-D `median_filter`
      gives the same values ~10× slower); they are most of this function's time;
    - tempo: what `librosa.beat.beat_track(y=y, sr=sr)` reports, i.e. `librosa.feature.tempo` (start 120
      BPM, ac_size 8 s, max 320 BPM) of the onset envelope `onset_strength(S=L, aggregate=np.median)`;
      0 when the envelope is all zero, as beat_track does;
    - mfcc1..20: the orthonormal DCT-II of `L = power_to_db(mel · P)` (128 Slaney mel bands to sr/2,
      ref 1, top_db 80: the picture front end's mel basis, `mel_basis.npz`).

    Input longer than 31 s (`mgc.frontends.picture.PIECE_MAX_SECONDS`) is analysed in equal pieces of at most
    that length, cut at multiples of the hop, one after another: each piece reads its own STFT frames and 16
    more either side (the HPSS's median filters and the inverse STFT need them), what the whole input fixes is
    computed first (the loudest mel value, which floors the log-mel, and the tuning from every frame's peaks),
    each column's mean and variance are pooled over the pieces (`pooled`), and the tempo reads the pieces'
    log-mel frames end to end. That is the whole input's computation to float rounding (test: three GTZAN clips
    end to end against librosa's calls on the whole), in about the memory of a 30-s clip: 10 minutes take
    ~100 MB more, not ~1.4 GB. A 30-s clip is one piece.

    tests/test_features.py checks every column against librosa's own calls (tests/librosa_features.py,
    the extractor mgc used before) on real clips and synthetic signals. Silence gives finite values
    (zeros, MFCC 1 at its floor, tempo 0), never NaN.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"extract_features needs a mono 1-D signal, got an array of shape {y.shape}")
    if len(y) < MIN_SAMPLES:
        raise ValueError(f"extract_features needs at least {MIN_SAMPLES} samples (~0.1 s), got {len(y)}")
    if sr <= 0:
        raise ValueError(f"the sample rate must be positive, got {sr}")
    y = np.array(y, dtype=np.float32)  # a writable float32 copy, which torch.from_numpy needs
    if not np.isfinite(y).all():
        raise ValueError("the signal contains NaN or infinite samples")
    pieces = [_Piece(start, end, len(y)) for start, end in _piece_bounds(len(y), sr)]
    loudest_db, tuning = _whole_input_references(y, sr, pieces) if len(pieces) > 1 else (None, None)
    analysed = [_piece_statistics(y, sr, piece, loudest_db, tuning) for piece in pieces]
    values: list[float] = []
    for name in (*_FRAME_FEATURES, *(f"mfcc{k}" for k in range(1, N_MFCC + 1))):
        mean, variance = pooled([statistics[name] for statistics, _ in analysed])
        values += [mean, variance]
    log_mel = np.concatenate([piece_log_mel for _, piece_log_mel in analysed], axis=1)  # the whole input's frames
    values.insert(2 * len(_FRAME_FEATURES), _tempo(_onset_envelope(log_mel), sr))
    return np.asarray(values, dtype=np.float64)


def _piece_bounds(n_samples: int, sr: int) -> list[tuple[int, int]]:
    """Sample ranges of the fewest equal pieces of at most `PIECE_MAX_SECONDS` covering the input, cut at multiples
    of the hop, so that every piece's frames are frames of the whole input."""
    from .picture import PIECE_MAX_SECONDS

    count = max(1, int(np.ceil(n_samples / (PIECE_MAX_SECONDS * sr))))
    edges = (np.linspace(0, n_samples, count + 1) / HOP_LENGTH).round().astype(int) * HOP_LENGTH
    edges[0], edges[-1] = 0, n_samples
    return list(itertools.pairwise(edges.tolist()))


class _Piece:
    """A piece of the input: the STFT frames it owns (frame t is centred on sample 512·t; the whole input has
    1 + n // 512) and its samples, and the frames it reads around them (`CONTEXT_FRAMES` either side: the HPSS's
    median filters and the inverse STFT need them to give what the whole input gives)."""

    def __init__(self, start: int, end: int, n_samples: int):
        frames = 1 + n_samples // HOP_LENGTH
        self.start, self.end, self.n_samples = start, end, n_samples
        self.first = start // HOP_LENGTH
        self.stop = frames if end == n_samples else end // HOP_LENGTH
        self.read_first = max(0, self.first - CONTEXT_FRAMES)
        self.read_stop = min(frames, self.stop + CONTEXT_FRAMES)

    @property
    def own(self) -> slice:
        """The piece's own frames among those it reads."""
        return slice(self.first - self.read_first, self.stop - self.read_first)

    def samples(self, y: np.ndarray, mode: str, own_only: bool = False) -> np.ndarray:
        """The samples its frames read (2048 around each, 512 apart), padded beyond the input's ends as centred
        frames are (`mode`: "reflect" for the STFT and RMS, "edge" for the zero-crossing rate)."""
        first, stop = (self.first, self.stop) if own_only else (self.read_first, self.read_stop)
        low, high = first * HOP_LENGTH - N_FFT // 2, (stop - 1) * HOP_LENGTH + N_FFT // 2
        inside = y[max(low, 0) : min(high, len(y))]
        return np.pad(inside, (max(0, -low), max(0, high - len(y))), mode=mode)


def pooled(statistics: list[tuple[int, float, float]]) -> tuple[float, float]:
    """Mean and variance of the union of groups given as (count, mean, variance) each — Chan et al.'s pairwise
    update; one group's own mean and variance as they are."""
    count, mean, variance = statistics[0]
    for other_count, other_mean, other_variance in statistics[1:]:
        total = count + other_count
        delta = other_mean - mean
        squares = variance * count + other_variance * other_count + delta * delta * count * other_count / total
        count, mean, variance = total, mean + delta * other_count / total, squares / total
    return float(mean), float(variance)


def _piece_statistics(
    y: np.ndarray, sr: int, piece: _Piece, loudest_db: float | None = None, tuning: float | None = None
) -> tuple[dict[str, tuple[int, float, float]], np.ndarray]:
    """One piece's (count, mean, variance) of each frame feature and MFCC band over its own frames and samples,
    and its log-mel frames (128 × frames: 13 MB for 10 minutes, kept for the tempo). The log-mel is floored
    under `loudest_db` and chroma folded with `tuning`, the whole input's (None: the piece's own — it is all)."""
    import torch

    own = piece.own
    with torch.inference_mode():
        padded = piece.samples(y, PAD_MODE)  # what the STFT and the RMS frames both read
        D = _stft(padded)
        S = D.abs().contiguous()
        P = S[:, own].square()
        frequencies = torch.from_numpy(np.fft.rfftfreq(N_FFT, 1 / sr))
        frame_features = {
            "chroma_stft": _chroma(P.contiguous().numpy(), sr, tuning),
            "rms": _frame_rms(padded)[own],
            **_spectral_shape(S[:, own], frequencies),
            "zero_crossing_rate": _zero_crossing_rate(piece.samples(y, "edge"))[own],
        }
        mask_harmonic, mask_percussive = _hpss_masks(S)
        del S
        frame_features["harmony"] = _waveform(D * mask_harmonic, piece)
        del mask_harmonic
        frame_features["perceptr"] = _waveform(D * mask_percussive, piece)
        del D, mask_percussive
        log_mel = _power_to_db(_mel_basis() @ P, loudest_db)
        del P
        mfcc = (_dct_matrix() @ log_mel).numpy()
        log_mel = log_mel.numpy()
    statistics = {}
    for name, frame_values in (*frame_features.items(), *((f"mfcc{k + 1}", band) for k, band in enumerate(mfcc))):
        frame_values = np.asarray(frame_values)
        statistics[name] = (frame_values.size, float(np.mean(frame_values)), float(np.var(frame_values)))
    return statistics, log_mel


def _stft(samples: np.ndarray):
    """The frames of already padded samples (2048 wide, 512 apart, periodic Hann): complex (1025, frames)."""
    import torch

    return torch.stft(
        torch.from_numpy(np.ascontiguousarray(samples)), N_FFT, HOP_LENGTH, window=_window(), center=False,
        return_complex=True,
    )  # fmt: skip


def table_features(table: pd.DataFrame, tracks) -> np.ndarray:
    """Rows of Kaggle's feature table (`GTZAN.features`) for `tracks`: float64 (tracks, 57) in `FEATURE_NAMES` order."""
    missing_columns = [name for name in FEATURE_NAMES if name not in table.columns]
    if missing_columns:
        raise DatasetError(f"the feature table lacks the columns {missing_columns}")
    missing_tracks = [t for t in tracks if t not in table.index]
    if missing_tracks:
        raise DatasetError(f"the feature table has no row for {len(missing_tracks)} tracks, e.g. {missing_tracks[:3]}")
    return table.loc[list(tracks), list(FEATURE_NAMES)].to_numpy(dtype=np.float64)


@lru_cache(maxsize=1)
def _window():
    import torch

    return torch.hann_window(N_FFT, periodic=True)  # periodic: scipy's get_window("hann"), as librosa


def _mel_basis():
    from .picture import N_MELS, mel_basis_and_window

    basis, _ = mel_basis_and_window()
    assert basis.shape == (N_MELS, N_FFT // 2 + 1)
    return basis


@lru_cache(maxsize=1)
def _dct_matrix():
    """The first N_MFCC rows of the orthonormal DCT-II over 128 mel bands (scipy.fft.dct(type=2, norm="ortho"))."""
    import torch

    from .picture import N_MELS

    k = np.arange(N_MFCC)[:, None]
    n = np.arange(N_MELS)[None, :]
    matrix = np.cos(np.pi * k * (2 * n + 1) / (2 * N_MELS)) * np.sqrt(2 / N_MELS)
    matrix[0] /= np.sqrt(2)
    return torch.from_numpy(matrix.astype(np.float32))


def _frame_rms(padded: np.ndarray) -> np.ndarray:
    """librosa.feature.rms(y=y, frame_length=2048, hop_length=512, center=True, pad_mode="reflect") of the samples
    as `_Piece.samples` pads them: each frame's root mean square, from a running sum of squares in float64 (exact
    to ~1e-8 of the quietest frame)."""
    running = np.concatenate([[0.0], np.cumsum(np.square(padded, dtype=np.float64))])
    starts = np.arange(0, len(padded) - N_FFT + 1, HOP_LENGTH)
    return np.sqrt(np.maximum(running[starts + N_FFT] - running[starts], 0.0) / N_FFT).astype(np.float32)


def _zero_crossing_rate(padded: np.ndarray) -> np.ndarray:
    """librosa's zero_crossing_rate of the samples as `_Piece.samples` pads them (edge padding): per frame, the
    share of its 2048 samples whose sign differs from the previous sample's — the frame's first sample never
    counts; |x| ≤ 1e-10 counts as +0."""
    negative = padded < -ZERO_CROSSING_THRESHOLD
    changes = np.zeros(len(padded), dtype=np.int64)
    changes[1:] = negative[1:] != negative[:-1]
    running = np.cumsum(changes)
    starts = np.arange(0, len(padded) - N_FFT + 1, HOP_LENGTH)
    counts = running[starts + N_FFT - 1] - running[starts]  # changes at start+1 … start+2047
    return (counts / N_FFT).astype(np.float32)


def _spectral_shape(S, frequencies) -> dict:
    """Spectral centroid, bandwidth (p = 2) and 85 % roll-off of each frame of the magnitude spectrogram S.

    As librosa: each frame normalised to sum 1, then centroid and bandwidth in float64 — a pure tone's
    bandwidth sums leakage ~1e-7 of its peak times squared distances of kHz, which float32 misses by ~3 %.
    Both come from the frame's first two moments (bandwidth² = E[f²] − centroid², exact in float64)."""
    import torch

    total = S.sum(dim=0)
    normalised = (S / torch.where(total < np.finfo(np.float32).tiny, 1.0, total)).double()
    hertz = frequencies.double()
    first, second = torch.stack([hertz, hertz.square()]) @ normalised
    centroid = first
    bandwidth = (second - first.square()).clamp_min(0.0).sqrt()
    cumulative = torch.cumsum(S, dim=0)
    reached = cumulative >= ROLLOFF_SHARE * cumulative[-1]
    rolloff = hertz[reached.to(torch.uint8).argmax(dim=0)]
    return {"spectral_centroid": centroid, "spectral_bandwidth": bandwidth, "rolloff": rolloff}


def _power_to_db(power, loudest_db=None):
    """librosa.power_to_db(power) with its defaults: 10·log10(max(1e-10, power)), floored 80 dB under the loudest
    value — of `power` itself, or `loudest_db` when the whole input's loudest value lies in another piece."""
    import torch

    decibels = 10 * torch.log10(power.clamp_min(1e-10))
    top = decibels.max() if loudest_db is None else torch.tensor(loudest_db, dtype=decibels.dtype)
    return torch.maximum(decibels, top - TOP_DB)


def _whole_input_references(y: np.ndarray, sr: int, pieces: list[_Piece]) -> tuple[float, float]:
    """What the whole input fixes for every piece of it: the largest mel power in dB (`power_to_db`'s reference)
    and the tuning (`estimate_tuning` over every frame's peaks) — so a long input's pieces are floored and
    folded into pitch classes as the whole would be."""
    import torch

    loudest, pitches, magnitudes = 0.0, [], []
    with torch.inference_mode():
        for piece in pieces:
            P = _stft(piece.samples(y, PAD_MODE, own_only=True)).abs().square()
            loudest = max(loudest, float((_mel_basis() @ P).max()))
            piece_pitches, piece_magnitudes = _tuning_peaks(P.contiguous().numpy(), sr)
            pitches.append(piece_pitches)
            magnitudes.append(piece_magnitudes)
    return float(10 * np.log10(max(loudest, 1e-10))), _tuning(np.concatenate(pitches), np.concatenate(magnitudes))


def _chroma(P: np.ndarray, sr: int, tuning: float | None = None) -> np.ndarray:
    """librosa.feature.chroma_stft(S=P, sr=sr): the filter bank for `tuning` (None: estimated from P), each frame
    over its max."""
    raw = chroma_filter_bank(sr, _tuning(*_tuning_peaks(P, sr)) if tuning is None else tuning) @ P
    peak = raw.max(axis=0, keepdims=True).astype(np.float64)
    peak[peak < np.finfo(np.float32).tiny] = 1.0
    return (raw / peak).astype(np.float32)


def _tuning_peaks(P: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """`piptrack`'s peaks of the power spectrogram P, as `librosa.estimate_tuning(S=P, sr=sr, n_fft=2048)` finds
    them: (pitches in Hz, magnitudes) of the local maxima along frequency between 150 and 4000 Hz of the
    spectrogram with every value under a tenth of its frame's maximum zeroed, placed by parabolic interpolation
    (a magnitude plus half the gradient times the shift). Computed on the band's rows (and one row either
    side) only: outside them piptrack finds nothing."""
    frequencies = np.fft.rfftfreq(N_FFT, 1 / sr)
    band = np.flatnonzero((frequencies >= TUNING_FMIN) & (frequencies < min(TUNING_FMAX, sr / 2)))
    if len(band) == 0:
        return np.zeros(0, np.float32), np.zeros(0, np.float32)
    lo, hi = max(band[0] - 1, 0), min(band[-1] + 2, len(P))
    X = P[lo:hi]
    rows = band - lo  # the band's rows in X; never X's first or last row unless the band touches 0 or Nyquist
    above = X * (TUNING_THRESHOLD * P.max(axis=0) < X)
    peak = np.zeros(X.shape, dtype=bool)
    peak[1:-1] = (above[1:-1] > above[:-2]) & (above[1:-1] >= above[2:])
    if hi == len(P):  # the last row is a peak when it exceeds its neighbour, as librosa's localmax says
        peak[-1] = above[-1] > above[-2]
    a = X[2:] + X[:-2] - 2 * X[1:-1].astype(np.float64)
    b = (X[2:] - X[:-2]) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a).astype(np.float32)
    shift = np.concatenate([np.zeros((1, X.shape[1]), np.float32), shift, np.zeros((1, X.shape[1]), np.float32)])
    gradient = np.gradient(X, axis=0)
    in_band = np.zeros(X.shape, dtype=bool)
    in_band[rows] = True
    f_idx, t_idx = np.nonzero(in_band & peak)
    pitches = ((f_idx + lo + shift[f_idx, t_idx]) * float(sr) / N_FFT).astype(np.float32)
    magnitudes = X[f_idx, t_idx] + (0.5 * gradient * shift)[f_idx, t_idx]
    found = pitches > 0
    return pitches[found], magnitudes[found]


def _tuning(pitches: np.ndarray, magnitudes: np.ndarray) -> float:
    """`estimate_tuning` from piptrack's peaks: the peaks at or above their median magnitude vote in a histogram of
    their deviation from equal temperament (0.01-semitone bins); the fullest bin, in fractions of a semitone."""
    if len(pitches) == 0:
        return 0.0  # silence: no peaks; librosa warns and uses 0 cents, which is right
    voters = pitches[magnitudes >= np.median(magnitudes)]
    residual = np.mod(12 * np.log2(voters / (440.0 / 16)), 1.0)
    residual[residual >= 0.5] -= 1.0
    counts, edges = np.histogram(residual, np.linspace(-0.5, 0.5, TUNING_BINS + 1))
    return float(edges[np.argmax(counts)])


@lru_cache(maxsize=128)
def chroma_filter_bank(sr: int, tuning: float) -> np.ndarray:
    """librosa.filters.chroma(sr=sr, n_fft=2048, tuning=tuning): float32 (12, 1025), C first.

    Each FFT bin's Gaussian weight on each pitch class (one semitone wide, at least one bin), each bin's
    weights of unit L2 norm, times a Gaussian over octaves centred on C5 (≈ 523 Hz) two octaves wide."""
    n_chroma = 12
    frequencies = np.linspace(0, sr, N_FFT, endpoint=False)[1:]
    a440 = 440.0 * 2.0 ** (tuning / n_chroma)
    bins = n_chroma * np.log2(frequencies / (a440 / 16))
    bins = np.concatenate(([bins[0] - 1.5 * n_chroma], bins))
    widths = np.concatenate((np.maximum(bins[1:] - bins[:-1], 1.0), [1]))
    D = np.subtract.outer(bins, np.arange(0, n_chroma, dtype="d")).T
    half = np.round(float(n_chroma) / 2)
    D = np.remainder(D + half + 10 * n_chroma, n_chroma) - half
    weights = np.exp(-0.5 * (2 * D / np.tile(widths, (n_chroma, 1))) ** 2)
    norms = np.sqrt(np.sum(weights**2, axis=0, keepdims=True))
    weights = weights / np.where(norms < np.finfo(np.float64).tiny, 1.0, norms)
    weights *= np.tile(np.exp(-0.5 * ((bins / n_chroma - 5.0) / 2.0) ** 2), (n_chroma, 1))
    weights = np.roll(weights, -3, axis=0)
    return np.ascontiguousarray(weights[:, : 1 + N_FFT // 2], dtype=np.float32)


def _hpss_masks(S):
    """The harmonic and percussive soft masks of the magnitude spectrogram S (torch), as `decompose.hpss` makes them.

    librosa median-filters S with 2-D kernels (1×31 along time, 31×1 along frequency); scipy's 1-D rank
    filter, row by row, gives the same values much faster. The masks: H² / (H² + P²) and P² / (H² + P²),
    ½ each where both filtered values are 0."""
    import torch

    magnitudes = S.numpy()
    harmonic = torch.from_numpy(np.ascontiguousarray(_median_rows(magnitudes)))
    percussive = torch.from_numpy(np.ascontiguousarray(_median_rows(np.ascontiguousarray(magnitudes.T)).T))
    peak = torch.maximum(harmonic, percussive)
    silent = peak < np.finfo(np.float32).tiny
    peak.masked_fill_(silent, 1.0)
    h = harmonic.div_(peak).square_()  # in place: each of these arrays is as large as the spectrogram
    p = percussive.div_(peak).square_()
    total = peak.copy_(h).add_(p)
    return h.div_(total).masked_fill_(silent, 0.5), p.div_(total).masked_fill_(silent, 0.5)


def _median_rows(X: np.ndarray) -> np.ndarray:
    """Each row of X median-filtered (31 wide, scipy's "reflect" edges) — as one 1-D filter over all rows.

    scipy's fast 1-D rank filter has a per-call cost that 2,300 rows pay 2,300 times; so the rows, each
    mirrored by 15 values on both sides (numpy's "symmetric" is scipy's "reflect"), are laid end to end and
    filtered at once: no window centred on a row's own values reaches past its mirrored edges."""
    import scipy.ndimage

    half = HPSS_KERNEL // 2
    padded = np.pad(X, ((0, 0), (half, half)), mode="symmetric")
    filtered = scipy.ndimage.median_filter(padded.ravel(), size=HPSS_KERNEL, mode="reflect")
    return filtered.reshape(padded.shape)[:, half:-half]


def _waveform(stft_matrix, piece: _Piece) -> np.ndarray:
    """The piece's own samples of the inverse STFT as 0.7/0.8-era `librosa.effects.hpss` made it: the whole input's
    inverse without `length=` (it ends at sample 512 · (n // 512)), then zero-padded to the input's length.

    `stft_matrix` holds the frames the piece reads; their centred inverse covers samples from 512 · read_first to
    512 · (read_stop − 1), and within `CONTEXT_FRAMES` of its ends only where those are the input's ends."""
    import torch

    y = torch.istft(stft_matrix, N_FFT, HOP_LENGTH, window=_window(), center=True).numpy()
    offset = piece.read_first * HOP_LENGTH
    out = np.zeros(piece.end - piece.start, dtype=np.float32)
    covered = y[piece.start - offset : piece.end - offset]
    out[: len(covered)] = covered
    return out


def _onset_envelope(log_mel: np.ndarray) -> np.ndarray:
    """librosa.onset.onset_strength(S=log_mel, aggregate=np.median): the median over bands of each frame's rise
    from the one before (negative rises count 0), delayed by 3 frames (lag 1 + centring) and cut to the frames."""
    rise = np.maximum(0.0, log_mel[:, 1:] - log_mel[:, :-1])
    envelope = np.median(rise, axis=0)
    delay = 1 + N_FFT // (2 * HOP_LENGTH)
    return np.concatenate([np.zeros(delay, dtype=envelope.dtype), envelope])[: log_mel.shape[1]]


def periodic_hann(size: int) -> np.ndarray:
    """scipy.signal.get_window("hann", size, fftbins=True), computed as scipy computes it (scipy.signal alone
    would add ~50 MB to a server's memory)."""
    angles = np.linspace(-np.pi, np.pi, size + 1)
    window = np.zeros(size + 1)
    for k, weight in enumerate((0.5, 0.5)):  # scipy's general cosine window, term by term
        window += weight * np.cos(k * angles)
    return window[:-1]


def _tempo(envelope: np.ndarray, sr: int) -> float:
    """librosa.feature.tempo(onset_envelope=envelope, sr=sr) with beat_track's defaults; 0 for a flat envelope.

    The envelope's autocorrelation in 8-s Hann windows around each frame (each window's autocorrelation over
    its maximum), averaged over the clip, weighted by a log-normal prior around 120 BPM (one octave wide),
    tempi of 320 BPM and above excluded; the best lag's tempo."""
    if not envelope.any():
        return 0.0
    import scipy.fft

    n = len(envelope)
    win = int(np.floor(TEMPO_WINDOW_SECONDS * sr / HOP_LENGTH))
    half = win // 2
    padded = np.pad(envelope, (half, half), mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[:n]  # (n, win), a view
    size = scipy.fft.next_fast_len(2 * win - 1, real=True)
    total = np.zeros(win)
    for first in range(0, n, TEMPO_FRAMES_AT_ONCE):  # 10 minutes at once would hold ~500 MB of spectra
        windowed = frames[first : first + TEMPO_FRAMES_AT_ONCE] * periodic_hann(win)
        spectrum = scipy.fft.rfft(windowed, n=size, axis=1)
        autocorrelation = scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, n=size, axis=1)[:, :win]
        peak = np.max(np.abs(autocorrelation), axis=1, keepdims=True)
        peak[peak < np.finfo(autocorrelation.dtype).tiny] = 1.0
        total += np.sum(autocorrelation / peak, axis=0)
    tempogram = total / n  # np.mean's own arithmetic when one batch holds every frame
    bpms = np.full(win, np.inf)
    bpms[1:] = 60.0 * sr / (HOP_LENGTH * np.arange(1.0, win))
    with np.errstate(divide="ignore"):
        log_prior = -0.5 * ((np.log2(bpms) - np.log2(TEMPO_START_BPM)) / 1.0) ** 2
    log_prior[: int(np.argmax(bpms < TEMPO_MAX_BPM))] = -np.inf
    return float(bpms[np.argmax(np.log1p(1e6 * tempogram) + log_prior)])


class KaggleFeatures(FrontEnd):
    """Kaggle's 57 features of a whole input: one float64 row (57,), read as a single window covering it all.

    A dataset track's row comes from `features_30_sec.csv`; audio's from `extract_features`."""

    version = VERSION
    describes = "a row in features_30_sec.csv"
    kind = "features"
    reads = (
        "57 numbers that sum up the whole clip — the tempo, and the average and the spread of its loudness, "
        "brightness (spectral centroid, bandwidth, roll-off), noisiness (zero crossings), harmony, percussion, "
        "pitch classes (chroma) and 20 timbre coefficients (MFCCs). It never sees the spectrogram, and it "
        "answers once for the whole clip"
    )
    reads_short = "the 57 numbers that sum up the whole clip"

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
