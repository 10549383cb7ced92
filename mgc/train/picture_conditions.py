"""Listening conditions drawn directly on the Kaggle mel picture, for training the picture models.

The picture models train on Kaggle's pictures, not on audio (the audio of 846 of GTZAN's 1000 clips is not
here), so the speaker, the room, the noise and the microphone of `mgc.conditions` are reproduced on the
picture itself. A picture holds, per mel band b and column t, `X = 10·log10(S²/max S²)` floored at −80
(`mgc.frontends.picture`), i.e. the relative mel power `p = 10^(X/20)`. Then:

* a linear filter (speaker, microphone, codec band limit) multiplies each band's power by its gain:
  `X += 2·G_b` with `G_b` in dB, the filter's power response averaged over the band's mel filter;
* additive noise adds power: `p += n_b`, a noise's mel power spectrum scaled to the asked SNR;
* a room smears each band's power along time: `p(t) = Σ_k h_b[k]·p(t−k)`, the band's energy of a simulated
  room's impulse response column by column (`room_kernel`: its colouring and its decay);
* automatic gain control compresses each column's loudness;
* and, as Kaggle's drawing does, the result is renormalised to its maximum and floored at −80. (The
  picture shows one STFT frame in 3.87, so its maximum may lie below 0; it is kept where it was.)

`random_condition` draws one such chain per training example (`ConditionRecipe` says how often and how
strongly); how close they come to rendered degraded audio is in docs/real-world.md ("The picture-domain imitation
checked against the truth"; tests/test_conditions.py holds the phone speaker's case). Where the training part has
audio, `degraded_pictures` draws pictures of truly degraded audio as well.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ..frontends.picture import COLUMN_SECONDS, MEL_BASIS_FILE, SAMPLE_RATE, TOP_DB

COLOURS_PER_DB = 256 / TOP_DB  # colour indices per unit of X (X spans −80..0 over 256 indices)


@lru_cache(maxsize=1)
def mel_filters() -> tuple[np.ndarray, np.ndarray]:
    """The mel filter bank (128, 1025) over the FFT bins' frequencies (1025,), from the stored basis."""
    with np.load(MEL_BASIS_FILE) as stored:
        basis = stored["mel_basis"].astype(np.float64)
    return basis, np.linspace(0, SAMPLE_RATE / 2, basis.shape[1])


def band_gain_db(power_response: np.ndarray) -> np.ndarray:
    """A filter's power response over the FFT bins (1025,) → its gain in dB per mel band (128,)."""
    basis, _ = mel_filters()
    return 10 * np.log10(np.maximum(basis @ power_response, 1e-12) / basis.sum(axis=1))


@lru_cache(maxsize=1)
def band_bins() -> np.ndarray:
    """How many FFT bins each mel band effectively sums (its filter's area over its peak), at least 1."""
    basis, _ = mel_filters()
    return np.maximum(basis.sum(axis=1) / basis.max(axis=1), 1.0)


def band_power(power_spectrum: np.ndarray) -> np.ndarray:
    """A noise's power spectrum over the FFT bins (1025,) → its mel power per band (128,)."""
    basis, _ = mel_filters()
    return basis @ power_spectrum


def filter_response(
    highpass: float | None = None,
    highpass_order: int = 2,
    lowpass: float | None = None,
    lowpass_order: int = 2,
    tilt_db_per_octave: float = 0.0,
    peaks: tuple[tuple[float, float, float], ...] = (),
) -> np.ndarray:
    """Power response over the FFT bins of Butterworth high- and low-pass filters, a spectral tilt around
    1 kHz and peaking filters (centre Hz, gain dB, bandwidth in octaves)."""
    _, f = mel_filters()
    f = np.maximum(f, 1.0)
    response = np.ones_like(f)
    if highpass:
        response /= 1 + (highpass / f) ** (2 * highpass_order)
    if lowpass:
        response /= 1 + (f / lowpass) ** (2 * lowpass_order)
    gain_db = tilt_db_per_octave * np.log2(f / 1000.0)
    for centre, gain, octaves in peaks:
        gain_db = gain_db + gain * np.exp(-0.5 * (np.log2(f / centre) / (octaves / 2.355)) ** 2)
    return response * 10 ** (gain_db / 10)


def pink_spectrum() -> np.ndarray:
    _, f = mel_filters()
    return 1 / np.maximum(f, 20.0)


def speech_spectrum() -> np.ndarray:
    """Long-term speech-like spectrum: a band of 200–3000 Hz (second-order slopes), as `mgc.conditions.babble`."""
    _, f = mel_filters()
    f = np.maximum(f, 1.0)
    return 1 / (1 + (200 / f) ** 4) / (1 + (f / 3000) ** 4)


def room_kernel(impulse_response: np.ndarray) -> np.ndarray:
    """A room's impulse response (at 22050 Hz) as a power kernel per mel band over picture columns (128, k).

    Column k holds the band's energy of the response in the STFT frames of the k-th column's span (a column
    shows one frame in ≈ 3.86), divided by what a unit impulse gives, so a kernel's sum over columns is the
    room's power gain in that band (its colouring) and its shape the band's decay."""
    from ..frontends.picture import HOP_LENGTH, N_FFT, mel_basis_and_window

    basis, window = mel_basis_and_window()
    response = torch.as_tensor(np.asarray(impulse_response, dtype=np.float32))
    response = torch.nn.functional.pad(response, (N_FFT // 2, N_FFT))
    spectrum = torch.stft(response, N_FFT, HOP_LENGTH, window=window, center=False, return_complex=True)
    frames = (basis @ spectrum.abs().square()).double().numpy()  # (128, frames): the response's mel power
    unit_impulse = float(window.square().sum()) / HOP_LENGTH * basis.double().sum(dim=1).numpy()
    per_column = COLUMN_SECONDS * SAMPLE_RATE / HOP_LENGTH
    edges = np.round(np.arange(0, frames.shape[1] + per_column, per_column)).astype(int)
    kernel = np.stack([frames[:, a:b].sum(axis=1) for a, b in itertools.pairwise(edges) if b > a], axis=1)
    kernel = kernel / unit_impulse[:, None]
    last = np.nonzero(kernel.max(axis=0) > 1e-4 * kernel.max())[0].max()
    return kernel[:, : last + 1]


@dataclass(frozen=True)
class PictureCondition:
    """One chain of changes to apply to a picture; any part may be absent."""

    gain_db: np.ndarray | None = None
    """(128,) dB of power per band: a filter chain's response (`band_gain_db`)."""
    noise_power: np.ndarray | None = None
    """(128,) relative mel power spectrum of a noise (any scale; `snr_db` sets it)."""
    snr_db: float = 30.0
    reverb: np.ndarray | None = None
    """(128, k) or (k,) power kernel over columns (`room_kernel`; per band when 2-D)."""
    compression: float = 1.0
    """Ratio of an automatic gain control on column loudness (1 = none)."""
    seed: int = 0
    """Of the noise's random fluctuation."""


def apply_condition(picture, condition: PictureCondition) -> torch.Tensor:
    """A picture (128, columns) of colour indices (uint8 or float) under `condition` → float colour indices,
    renormalised to its maximum and floored as Kaggle drew them (not rounded)."""
    x = torch.as_tensor(picture).double() / COLOURS_PER_DB - TOP_DB  # X in −80..0
    shown_max = x.max()  # not always 0: the loudest STFT frame may fall between the frames a picture shows
    if condition.gain_db is not None:
        x = x + 2 * torch.as_tensor(condition.gain_db, dtype=torch.float64)[:, None]
    p = torch.pow(10.0, x / 20)  # relative mel power
    if condition.reverb is not None:
        kernel = torch.as_tensor(condition.reverb, dtype=torch.float64)
        kernel = kernel.expand(p.shape[0], -1) if kernel.ndim == 1 else kernel
        smeared = p * kernel[:, :1]
        for k in range(1, min(kernel.shape[1], p.shape[1])):  # a few taps: cheaper than a grouped conv1d
            smeared[:, k:] += kernel[:, k : k + 1] * p[:, :-k]
        p = smeared
    if condition.noise_power is not None:
        noise = torch.as_tensor(condition.noise_power, dtype=torch.float64)
        scale = p.sum() / (noise.sum() * p.shape[1]) * 10 ** (-condition.snr_db / 10)
        # Noise's power in one STFT bin fluctuates like a χ² of 2 degrees of freedom; a band sums ~`bins` of
        # them, so its power is Gamma-distributed around the mean: narrow low bands look grainier and darker in dB
        # (as a normal of the same mean and variance, floored at 0: cheaper, and alike for all but the lowest bands).
        spread = torch.as_tensor(band_bins(), dtype=torch.float64).rsqrt()[:, None]
        generator = torch.Generator().manual_seed(condition.seed)
        fluctuation = (1 + spread * torch.randn(p.shape, generator=generator, dtype=torch.float64)).clamp_min(0)
        p = p + scale * noise[:, None] * fluctuation
    if condition.compression != 1.0:
        loudness = 10 * torch.log10(p.sum(dim=0).clamp_min(1e-12))
        gain = -(1 - 1 / condition.compression) * (loudness - loudness.max())
        p = p * torch.pow(10.0, gain / 10)[None, :]
    x = 20 * torch.log10(p.clamp_min(1e-12))
    x = (x - (x.max() - shown_max)).clamp_min(-TOP_DB)  # the new loudest point is where the old one was
    return ((x + TOP_DB) * COLOURS_PER_DB).clamp(0, 255).float()


@dataclass(frozen=True)
class ConditionRecipe:
    """How often and how strongly training examples are put through listening conditions."""

    probability: float = 0.8
    """Share of training examples that get a condition at all."""
    highpass: tuple[float, float] = (80.0, 400.0)
    lowpass: tuple[float, float] = (3000.0, 9000.0)
    tilt: float = 3.0
    """± dB per octave."""
    peaks: int = 2
    peak_gain: tuple[float, float] = (-6.0, 9.0)
    snr: tuple[float, float] = (5.0, 30.0)
    compression: tuple[float, float] = (1.5, 4.0)


def random_condition(recipe: ConditionRecipe, rng: np.random.Generator) -> PictureCondition | None:
    """One random chain: a speaker/microphone filter (always), and with some probability noise, a room and
    an automatic gain control. None for the examples left clean."""
    if rng.random() >= recipe.probability:
        return None
    peaks = tuple(
        (
            float(np.exp(rng.uniform(np.log(300), np.log(5000)))),
            float(rng.uniform(*recipe.peak_gain)),
            float(rng.uniform(0.5, 2)),
        )
        for _ in range(rng.integers(0, recipe.peaks + 1))
    )
    response = filter_response(
        highpass=float(np.exp(rng.uniform(*np.log(recipe.highpass)))) if rng.random() < 0.7 else None,
        highpass_order=int(rng.integers(1, 4)),
        lowpass=float(np.exp(rng.uniform(*np.log(recipe.lowpass)))) if rng.random() < 0.5 else None,
        lowpass_order=int(rng.integers(1, 4)),
        tilt_db_per_octave=float(rng.uniform(-recipe.tilt, recipe.tilt)) if rng.random() < 0.5 else 0.0,
        peaks=peaks,
    )
    noise = None
    if rng.random() < 0.4:
        noise = band_power(pink_spectrum() if rng.random() < 0.5 else speech_spectrum())
    reverb = None
    if rng.random() < 0.4:
        kernels = random_room_kernels()
        reverb = kernels[int(rng.integers(len(kernels)))]
    compression = float(rng.uniform(*recipe.compression)) if rng.random() < 0.3 else 1.0
    seed = int(rng.integers(2**31))
    return PictureCondition(band_gain_db(response), noise, float(rng.uniform(*recipe.snr)), reverb, compression, seed)


@lru_cache(maxsize=1)
def random_room_kernels(count: int = 24, seed: int = 1234) -> tuple[np.ndarray, ...]:
    """Picture-domain kernels (`room_kernel`) of `count` simulated rooms (pyroomacoustics' image sources):
    RT60 0.2–1.2 s, 3–12 m wide, 3–10 m deep, 2.4–4 m high; made once per process."""
    from ..conditions import room_impulse_response

    rng = np.random.default_rng(seed)
    kernels = []
    for _ in range(count):
        size = (float(rng.uniform(3, 12)), float(rng.uniform(3, 10)), float(rng.uniform(2.4, 4)))
        kernels.append(room_kernel(room_impulse_response(float(rng.uniform(0.2, 1.2)), tuple(np.round(size, 1)))))
    return tuple(kernels)


def degraded_pictures(dataset, tracks, renders: int, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """For each of `tracks` with audio: `renders` pictures drawn from its audio put through random listening
    chains (`mgc.conditions.degraded_versions`), cached like `track_pictures` (one .npz per data folder and recipe)."""
    from tqdm.auto import tqdm

    from ..conditions import degraded_versions
    from ..data.audio import load_audio
    from ..frontends.picture import VERSION, _folder_key, default_cache_dir, render_audio

    with_audio = [t for t in tracks if t in dataset.audio]
    if not with_audio or renders <= 0:
        return {}
    cache = (
        default_cache_dir() / f"degraded-{VERSION}-{RENDERS_VERSION}-{renders}-{seed}-{_folder_key(dataset.root)}.npz"
    )
    stored = {}
    if cache.is_file():
        with np.load(cache) as saved:
            stored = {name: saved[name] for name in saved.files}
    missing = [t for t in with_audio if f"{t}/0" not in stored]
    for track in tqdm(missing, desc="rendering degraded audio", unit="track", disable=not missing):
        for k, samples in enumerate(degraded_versions(load_audio(dataset.audio[track]).samples, track, renders, seed)):
            stored[f"{track}/{k}"] = render_audio(samples)
    if missing:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **stored)
    return {t: [stored[f"{t}/{k}"] for k in range(renders)] for t in with_audio}


RENDERS_VERSION = "chains-v1"
"""Changes when `mgc.conditions.random_chain` changes, so cached renders are not reused."""
