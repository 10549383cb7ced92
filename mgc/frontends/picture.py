"""The Kaggle mel picture front end: GTZAN's mel-spectrogram pictures as arrays, from a PNG or from any audio.

The models see a `uint8` array of shape (128 mel bands, columns), lowest band first, whose values
are colour indices 0..255 of matplotlib's `magma` map, exactly as Kaggle drew them. Facts measured
on all 999 pictures and the clips with audio (see the dataset's README.md):

* audio at 22050 Hz → `librosa.feature.melspectrogram(n_fft=2048, hop_length=512, n_mels=128,
  power=2.0, pad_mode="reflect")` → `librosa.amplitude_to_db(S, ref=np.max, top_db=80)` applied to
  the *power* spectrogram (so 40 dB of real power range is visible) → colour index
  `min(floor((X + 80) / 80 * 256), 255)`; `render_audio` computes those librosa steps in torch
  (`_render_piece`: equal to float rounding, faster, and without librosa's import on the serving path);
* 334 columns per clip, column `c` showing STFT frame `min(floor((c + 1.99785) * n / 334.8), n - 1)`
  for a clip of `n` frames (one whole frame, no averaging: ≈ 89.6 ms per column);
* the picture's data area is rows 36..251 and columns 55..388 of the 432×288 PNG, 128 bands drawn
  over 216 pixel rows.

Audio of other lengths (our own rule, so uploads of any length look like the training pictures):
the audio is cut into the fewest equal pieces of at most `PIECE_MAX_SECONDS` (31 s); each piece is
drawn as Kaggle drew a clip, with its own 0-dB reference (its loudest bin), at Kaggle's column rate
of 334 columns per 1293 frames — exactly 334 columns for pieces of 29–31 s, as Kaggle drew every
GTZAN clip of 29.9–30.6 s — and the pieces' columns are joined. A 30-s GTZAN clip therefore
renders to exactly its picture; a 3-s excerpt to 33 columns; a 2-minute song to 4 pieces of 334.

Models read a picture in windows of ≈ 10 s (`WINDOW_COLUMNS`) with a hop of ≈ 2.5 s (`WINDOW_HOP`), one
window for narrower pictures; `KagglePicture` (the front end object, `PICTURE`) cuts them.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import AudioError, DatasetError
from .base import FrontEnd

VERSION = "kaggle-mel-v1"
"""Checkpoints record the representation version they were trained on."""
SAMPLE_RATE = 22050
N_FFT = 2048
HOP_LENGTH = 512
N_MELS = 128
TOP_DB = 80.0
COLUMNS_PER_CLIP = 334
FRAMES_PER_CLIP = 1293  # a 661794-sample GTZAN clip: 1 + 661794 // 512
COLUMN_SECONDS = FRAMES_PER_CLIP * HOP_LENGTH / SAMPLE_RATE / COLUMNS_PER_CLIP  # ≈ 0.0896 s
PIECE_MAX_SECONDS = 31.0
PIECE_EXACT_RANGE = (29.0, 31.0)
_FIRST_COLUMN_OFFSET = 1.99785  # measured on the pictures
_EXTRA_WIDTH = 0.8  # matplotlib spreads n frames over 334.8 column widths

# Picture geometry (rows/columns of the data area inside the 432×288 PNG).
_DATA_ROWS = slice(36, 252)
_DATA_COLUMNS = slice(55, 389)
_BAND_ROW_STEP = 1.6985  # pixel rows per band as drawn; measured: 127 row boundaries over 999 pictures
_BAND_ROW_OFFSET = -1.42


@lru_cache(maxsize=1)
def _magma_lookup() -> tuple[np.ndarray, np.ndarray]:
    """Sorted packed RGB keys of the 256 magma colours and the colour index of each key."""
    from matplotlib import colormaps  # only picture inversion needs matplotlib

    rgb = np.round(colormaps["magma"](np.arange(256))[:, :3] * 255).astype(np.int64)
    keys = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    order = np.argsort(keys)
    return keys[order], order.astype(np.uint8)


def _band_top_rows() -> np.ndarray:
    """The first pixel row (from the top of the data area) of each of the 128 drawn bands."""
    k = np.arange(N_MELS)
    return np.maximum(0, np.ceil(k * _BAND_ROW_STEP + _BAND_ROW_OFFSET)).astype(int)


def invert_picture(png) -> np.ndarray:
    """A Kaggle mel PNG (path or bytes) → uint8 array (128, 334) of colour indices, lowest band first."""
    import io

    from PIL import Image

    source = io.BytesIO(png) if isinstance(png, (bytes, bytearray)) else png
    try:
        pixels = np.asarray(Image.open(source).convert("RGB"))
    except Exception as error:  # PIL raises many types for a bad file
        raise DatasetError(f"cannot read the picture {png if not isinstance(png, bytes) else ''}: {error}") from None
    if pixels.shape[:2] != (288, 432):
        raise DatasetError(f"{png}: expected a 432×288 Kaggle picture, got {pixels.shape[1]}×{pixels.shape[0]}")
    area = pixels[_DATA_ROWS, _DATA_COLUMNS].astype(np.int64)
    packed = (area[..., 0] << 16) | (area[..., 1] << 8) | area[..., 2]
    keys, index_of_key = _magma_lookup()
    position = np.clip(np.searchsorted(keys, packed), 0, 255)
    if not np.array_equal(keys[position], packed):
        raise DatasetError(f"{png}: pixels outside the magma colour map; not a Kaggle GTZAN picture")
    indices = index_of_key[position]
    return np.ascontiguousarray(indices[_band_top_rows()][::-1])


def _piece_columns(frames: int, seconds: float) -> int:
    if PIECE_EXACT_RANGE[0] <= seconds <= PIECE_EXACT_RANGE[1]:
        return COLUMNS_PER_CLIP
    return max(1, round(frames * COLUMNS_PER_CLIP / FRAMES_PER_CLIP))


def frame_of_column(columns: int, frames: int) -> np.ndarray:
    """Which STFT frame each picture column shows (Kaggle's measured mapping)."""
    c = np.arange(columns)
    return np.minimum(np.floor((c + _FIRST_COLUMN_OFFSET) * frames / (columns + _EXTRA_WIDTH)).astype(int), frames - 1)


MEL_BASIS_FILE = Path(__file__).with_name("mel_basis.npz")
"""`librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128)` (Slaney scale and norm), stored once: building it
imports librosa's numba and scipy.signal stack, ~130 MB that a server classifying with a picture model
never needs otherwise. tests/test_representation.py checks it still equals librosa's."""


@lru_cache(maxsize=1)
def mel_basis_and_window():
    """(mel basis, Hann window) as torch tensors, built on first use."""
    import torch

    with np.load(MEL_BASIS_FILE) as stored:
        basis = torch.from_numpy(stored["mel_basis"])
    return basis, torch.hann_window(N_FFT, periodic=True)  # periodic: scipy's get_window("hann"), as librosa


def _render_piece(samples: np.ndarray) -> np.ndarray:
    """librosa's `melspectrogram` and `amplitude_to_db(ref=np.max)` step for step, in torch (float32).

    The same picture to float rounding, 2–3× faster: on 40 GTZAN clips 8 of 1.7 million pixels
    differ from librosa's by one colour index — as close as librosa's own rendering is to Kaggle's PNGs.
    """
    import torch

    basis, window = mel_basis_and_window()
    spectrum = torch.stft(
        torch.from_numpy(samples),
        N_FFT,
        HOP_LENGTH,
        window=window,
        center=True,
        pad_mode="reflect",
        return_complex=True,
    )
    power = basis @ spectrum.abs().square()  # the mel power spectrogram (librosa: S = |D|**2, mel · S)
    # amplitude_to_db(S, ref=np.max) squares its input and calls power_to_db with amin 1e-10 on that square.
    squared = power.square()
    decibels = 10 * torch.log10(squared.clamp_min(1e-10)) - 10 * torch.log10(squared.max().clamp_min(1e-10))
    decibels = decibels.clamp_min(decibels.max() - TOP_DB)
    frames = power.shape[1]
    columns = torch.from_numpy(frame_of_column(_piece_columns(frames, len(samples) / SAMPLE_RATE), frames))
    return torch.floor((decibels[:, columns] + TOP_DB) / TOP_DB * 256).clamp_max(255).to(torch.uint8).numpy()


def piece_bounds(n_samples: int) -> list[tuple[int, int]]:
    """Sample ranges of the fewest equal pieces of at most PIECE_MAX_SECONDS covering the audio."""
    pieces = max(1, math.ceil(n_samples / (PIECE_MAX_SECONDS * SAMPLE_RATE)))
    edges = np.linspace(0, n_samples, pieces + 1).round().astype(int)
    return list(itertools.pairwise(edges))


def render_audio(samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono audio at 22050 Hz → uint8 array (128, columns), drawn as Kaggle drew GTZAN's pictures.

    Use `mgc.load_audio` first for files, other rates and channels.
    """
    if sample_rate != SAMPLE_RATE:
        raise AudioError(f"render_audio needs {SAMPLE_RATE} Hz audio, got {sample_rate} Hz; use load_audio")
    samples = np.asarray(samples, dtype=np.float32)
    if not samples.flags.writeable:  # torch.from_numpy wants memory it may write (it never does here)
        samples = samples.copy()
    if samples.ndim != 1:
        raise AudioError("render_audio needs mono audio (one dimension); use load_audio")
    if len(samples) < N_FFT:
        raise AudioError(f"{len(samples) / SAMPLE_RATE:.3f} s of audio is too short to draw")
    return np.concatenate([_render_piece(samples[a:b]) for a, b in piece_bounds(len(samples))], axis=1)


def column_times(columns: int) -> np.ndarray:
    """Approximate start time in seconds of each column."""
    return np.arange(columns) * COLUMN_SECONDS


def track_pictures(data_root: Path, tracks, cache_dir: Path | None = None) -> dict[str, np.ndarray]:
    """The picture of each track: Kaggle's PNG inverted, else drawn from the track's audio.

    Tracks with neither are left out. Results are cached as one .npz per data folder
    (`$MGC_CACHE`, default ~/.cache/mgc), so a second training run starts at once.
    """
    from tqdm.auto import tqdm

    from ..data.audio import load_audio
    from ..data.gtzan import GTZAN

    dataset = GTZAN(data_root)
    cache_dir = Path(cache_dir or default_cache_dir())
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"pictures-{VERSION}-{_folder_key(dataset.root)}.npz"
    arrays: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as stored:
            arrays = {name: stored[name] for name in stored.files}
    missing = [t for t in tracks if t not in arrays and (t in dataset.pictures or t in dataset.audio)]
    if missing:
        for track in tqdm(missing, desc="reading mel pictures", unit="track"):
            if track in dataset.pictures:
                arrays[track] = invert_picture(dataset.pictures[track])
            else:
                arrays[track] = render_audio(load_audio(dataset.audio[track]).samples)
        np.savez(cache, **arrays)
    return {t: arrays[t] for t in tracks if t in arrays}


def default_cache_dir() -> Path:
    import os

    return Path(os.environ.get("MGC_CACHE", Path.home() / ".cache" / "mgc"))


def _folder_key(root: Path) -> str:
    import hashlib

    return hashlib.sha1(str(Path(root).resolve()).encode()).hexdigest()[:10]


# ---------------------------------------------------------------------------------------------
# Windows: what a picture model classifies at a time

WINDOW_COLUMNS = 112  # ≈ 10 s: the widest crop the picture models are trained on
WINDOW_HOP = 28  # ≈ 2.5 s
WINDOW_BATCH = 16
"""Windows through the model at a time: a 30-s clip's 9 in one go, while 10 minutes (236 windows) stay
within ~50 MB of activations instead of ~750 MB."""


def window_starts(columns: int, width: int = WINDOW_COLUMNS, hop: int = WINDOW_HOP) -> np.ndarray:
    """First column of each window; the last window ends at the last column. One window if narrower."""
    if columns <= width:
        return np.array([0])
    starts = np.arange(0, columns - width + 1, hop)
    if starts[-1] != columns - width:
        starts = np.append(starts, columns - width)
    return starts


def picture_windows(picture: np.ndarray, width: int = WINDOW_COLUMNS, hop: int = WINDOW_HOP):
    """(128, columns) → (windows, 128, min(width, columns)) uint8 tensor."""
    import torch

    picture = torch.as_tensor(np.ascontiguousarray(picture))
    starts = window_starts(picture.shape[1], width, hop)
    width = min(width, picture.shape[1])
    return torch.stack([picture[:, s : s + width] for s in starts])


class KagglePicture(FrontEnd):
    """The Kaggle mel picture: uint8 (128 mel bands, columns), read in windows of `WINDOW_COLUMNS`."""

    version = VERSION
    describes = "a picture or audio"
    kind = "picture"
    reads = (
        "a picture of the sound: the mel spectrogram below, 128 pitch bands (low at the bottom) over time, "
        "about 10 seconds at a time in steps of 2.5 s — so it can change its mind over time"
    )
    reads_short = "the spectrogram, about 10 seconds at a time"

    def from_audio(self, audio) -> np.ndarray:
        return render_audio(audio.samples, audio.sample_rate)

    def from_dataset(self, dataset, tracks) -> dict[str, np.ndarray]:
        """Kaggle's PNG of each track, inverted, else drawn from its audio (`track_pictures`, cached)."""
        return track_pictures(dataset.root, tracks)

    def batches(self, picture: np.ndarray):
        windows = picture_windows(picture)
        for first in range(0, len(windows), WINDOW_BATCH):
            yield (windows[first : first + WINDOW_BATCH],)

    def window_times(self, picture: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        starts = window_starts(picture.shape[1])
        return starts * COLUMN_SECONDS, (starts + min(WINDOW_COLUMNS, picture.shape[1])) * COLUMN_SECONDS


PICTURE = KagglePicture()
