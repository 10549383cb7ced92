"""The one audio loader: any file or bytes a person may give us → mono float32 at 22050 Hz.

Decoding goes through libsndfile (wav, flac, ogg/vorbis, opus, mp3, aiff, au …) and, for what it
cannot read (m4a/AAC and others), through an `ffmpeg` on the PATH when there is one. Everything is
decoded in memory: a path is only ever opened for reading, and uploaded bytes never touch the disk.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from .errors import AudioError

SAMPLE_RATE = 22050
MIN_SECONDS = 1.0
MAX_SECONDS = 600.0
"""Longer input is analysed over its first 10 minutes only (and the result says so): this keeps
time and memory bounded for an hour-long upload (10 min ≈ 53 MB of float32 at 22050 Hz)."""
SILENCE_PEAK_DBFS = -60.0
"""Input whose loudest sample is below this is treated as silent: a spectrogram scaled to its own
loudest bin would otherwise turn hiss into full-scale pictures."""


@dataclass(frozen=True)
class Audio:
    """Decoded audio, ready for a representation: mono float32 samples at `SAMPLE_RATE`."""

    samples: np.ndarray
    sample_rate: int
    source_seconds: float
    """Duration of the whole input, before any cut to MAX_SECONDS."""
    source_sample_rate: int
    source_channels: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def truncated(self) -> bool:
        return self.source_seconds > self.seconds + 0.5


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return f"'{Path(source).name}'"
    return "the uploaded data"


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise AudioError(f"there is no file {path}")
        if path.is_dir():
            raise AudioError(f"{path} is a folder, not an audio file")
        return path.read_bytes()
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            raise AudioError("expected binary audio data, got text")
        return bytes(data)
    raise AudioError(f"cannot read audio from a {type(source).__name__}; give a path, bytes or a binary file")


def _decoder_message(error: Exception) -> str:
    text = re.sub(r"^Error opening .*?: ", "", str(error).strip())
    return text or type(error).__name__


def _decode_libsndfile(data: bytes, max_seconds: float):
    with soundfile.SoundFile(io.BytesIO(data)) as f:
        rate, channels, frames = f.samplerate, f.channels, f.frames
        if rate <= 0:
            raise AudioError("the file declares a sample rate of 0")
        wanted = int(min(frames, max_seconds * rate)) if frames > 0 else int(max_seconds * rate)
        samples = f.read(frames=wanted, dtype="float32", always_2d=True)
        source_seconds = (frames if frames > 0 else len(samples)) / rate
    return samples, rate, channels, source_seconds


def _decode_ffmpeg(data: bytes, max_seconds: float):
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    command = [ffmpeg, "-v", "error", "-nostdin", "-i", "pipe:0", "-t", str(max_seconds),
               "-f", "f32le", "-ac", "1", "-ar", str(SAMPLE_RATE), "pipe:1"]
    try:
        done = subprocess.run(command, input=data, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        raise AudioError("decoding took too long (over 2 minutes); try a shorter or simpler file") from None
    if done.returncode != 0 or not done.stdout:
        return None
    samples = np.frombuffer(done.stdout, dtype="<f4").reshape(-1, 1).copy()
    seconds = len(samples) / SAMPLE_RATE
    return samples, SAMPLE_RATE, 1, seconds


def load_audio(source, max_seconds: float = MAX_SECONDS) -> Audio:
    """Decode `source` (a path, bytes or a binary file object) to mono float32 at 22050 Hz.

    Channels are averaged; other rates are resampled with soxr (librosa's default, high quality).
    Raises `AudioError` with a message a person can act on for empty, undecodable, damaged, silent
    and too-short input. Input over `max_seconds` is cut there (see `Audio.truncated`).
    """
    name = _describe(source)
    data = _read_bytes(source)
    if not data:
        raise AudioError(f"{name} is empty (0 bytes): choose a recording or music file")
    try:
        decoded = _decode_libsndfile(data, max_seconds)
    except AudioError:
        raise
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError, EOFError) as error:
        decoded = _decode_ffmpeg(data, max_seconds)
        if decoded is None:
            hint = "" if shutil.which("ffmpeg") else " (m4a/AAC needs ffmpeg installed)"
            raise AudioError(
                f"{name} is not audio we can read: use wav, flac, ogg, opus or mp3{hint}. "
                f"Decoder said: {_decoder_message(error)}"
            ) from None
    samples, rate, channels, source_seconds = decoded
    if samples.size == 0:
        raise AudioError(f"{name} contains no audio samples (the file is empty or cut off after its header)")
    if not np.isfinite(samples).all():
        raise AudioError(f"{name} contains invalid samples (NaN or infinity): the file is damaged")
    mono = samples.mean(axis=1, dtype=np.float32)
    if rate != SAMPLE_RATE:
        import soxr

        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    seconds = len(mono) / SAMPLE_RATE
    if seconds < MIN_SECONDS:
        raise AudioError(
            f"{name} is too short: {seconds:.2f} s of audio; at least {MIN_SECONDS:.0f} s is needed "
            "(a few seconds of music give a steadier answer)"
        )
    peak = float(np.max(np.abs(mono)))
    peak_dbfs = 20 * np.log10(peak) if peak > 0 else -np.inf
    if peak_dbfs < SILENCE_PEAK_DBFS:
        if channels > 1 and float(np.max(np.abs(samples))) > 10 ** (SILENCE_PEAK_DBFS / 20):
            raise AudioError(
                f"{name} is silent once its {channels} channels are mixed to mono (they cancel out: "
                "one channel is probably phase-inverted)"
            )
        level = "digital silence" if peak == 0 else f"its loudest sample is {peak_dbfs:.0f} dBFS"
        raise AudioError(f"{name} is silent ({level}): is the microphone on, or is the volume turned down?")
    return Audio(np.ascontiguousarray(mono), SAMPLE_RATE, float(source_seconds), int(rate), int(channels))
