"""musicnn's input drawn a few patches at a time (`mgc.frontends.musicnn_input`): the same numbers as the whole
piece's log-mel at once, without its memory (issue 28: +271 MB per 10-minute request before)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mgc.data.audio import Audio
from mgc.frontends import musicnn_input
from mgc.frontends.musicnn_input import (
    HOP_LENGTH,
    LEVEL_DBFS,
    MUSICNN_INPUT,
    PATCH_FRAMES,
    levelled,
    levelled_16k,
    log_mel,
    patches,
    patches_in_chunks,
    resample_to_16k,
)

SR = 22050


def _music_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Chords that change every second over noise: every patch and every chunk boundary differs from its neighbours."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    pitch = 110 * 2 ** (rng.integers(0, 24, size=int(seconds) + 1) / 12)[t.astype(int)]
    tone = np.sin(2 * np.pi * pitch * t) + 0.5 * np.sin(2 * np.pi * 1.5 * pitch * t)
    return (0.2 * tone + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


def _reference_patches(samples: np.ndarray, rate: int = SR) -> np.ndarray:
    """The unchunked input as it was drawn before: the levelled copy (RMS over the whole piece at once), resampled
    whole, the whole piece's log-mel, cut into patches."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    whole = samples * np.float32(10 ** (LEVEL_DBFS / 20) / rms) if rms >= 1e-7 else samples
    return patches(log_mel(resample_to_16k(whole, rate)))


@pytest.mark.parametrize("chunk", [1, 3, 10, 1000])
@pytest.mark.parametrize("extra", [0, 1, HOP_LENGTH - 1, 5000])
def test_the_log_mel_drawn_in_chunks_is_the_whole_pieces(chunk, extra):
    """Lengths where the last patch's last frame reads past the end of the piece (extra 0) and where it does not;
    chunks of one patch, of a few, and one chunk for everything."""
    samples_16k = np.random.default_rng(chunk + extra).standard_normal((7 * PATCH_FRAMES - 1) * HOP_LENGTH + extra)
    samples_16k = samples_16k.astype(np.float32)
    whole = patches(log_mel(samples_16k))
    chunked = patches_in_chunks(samples_16k, chunk)
    assert chunked.shape == whole.shape == (7, PATCH_FRAMES, 96)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-5)  # bit-equal here; BLAS may sum differently


def test_less_than_one_patch_of_frames_gives_no_patch_in_chunks_either():
    assert patches_in_chunks(np.zeros(0, dtype=np.float32)).shape == (0, PATCH_FRAMES, 96)
    assert patches_in_chunks(np.ones(100 * HOP_LENGTH, dtype=np.float32)).shape == (0, PATCH_FRAMES, 96)


@pytest.mark.parametrize("seconds", [0.5, 7.0, 31.0])
def test_levelling_and_resampling_a_block_at_a_time_gives_the_whole_pieces_samples(monkeypatch, seconds):
    monkeypatch.setattr(musicnn_input, "LEVEL_BLOCK", 10_000)  # many blocks, and one that ends the piece short
    samples = _music_like(seconds)
    np.testing.assert_array_equal(levelled_16k(samples, SR), resample_to_16k(levelled(samples), SR))
    silence = np.zeros(SR * 2, dtype=np.float32)
    np.testing.assert_array_equal(levelled_16k(silence, SR), resample_to_16k(silence, SR))
    at_16k = resample_to_16k(samples, SR)
    np.testing.assert_array_equal(levelled_16k(at_16k, 16000), levelled(at_16k))


def test_the_served_input_of_a_long_piece_is_the_unchunked_one(monkeypatch):
    """70 s over several level blocks and log-mel chunks against the whole-piece computation written out above."""
    monkeypatch.setattr(musicnn_input, "LEVEL_BLOCK", 100_000)
    monkeypatch.setattr(musicnn_input, "CHUNK_PATCHES", 4)
    samples = _music_like(70.0, seed=3)
    served = MUSICNN_INPUT.from_audio(Audio(samples, SR, len(samples) / SR, SR, 1))
    reference = _reference_patches(samples)
    assert served.shape == reference.shape == (23, PATCH_FRAMES, 96)
    np.testing.assert_allclose(served, reference, rtol=0, atol=1e-5)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads and resets the peak in Linux's /proc")
def test_a_ten_minute_pieces_input_never_holds_its_whole_log_mel():
    """The peak while drawing a 10-minute piece's input, over what was resident before: the whole piece's STFT at
    once took +271 MB (its levelled copy, float64 squares, resampled copy and spectrum); drawn in chunks, about the
    16-kHz samples and the patches (38 + 14 MB) and one chunk's spectrum."""
    samples = np.tile(_music_like(30.0, seed=5), 20)
    audio = Audio(samples, SR, len(samples) / SR, SR, 1)
    MUSICNN_INPUT.from_audio(Audio(samples[: SR * 30], SR, 30.0, SR, 1))  # torch and the filter bank loaded first
    before = _status_mb("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
    except OSError:
        pytest.skip("cannot reset the peak resident memory here")
    model_input = MUSICNN_INPUT.from_audio(audio)
    grew = _status_mb("VmHWM") - before
    assert model_input.shape == (200, PATCH_FRAMES, 96)
    assert grew < 120, f"drawing the input raised the peak by {grew:.0f} MB"
