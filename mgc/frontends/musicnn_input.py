"""musicnn's input: 3-s patches of a 16-kHz, 96-band log-mel spectrogram, drawn without librosa.

What `musicnn.extractor.batch_data` (musicnn 0.1.0, Pons & Serra 2019) does, step for step:

* audio at 16 kHz, mono (`librosa.load(file, sr=16000)`, soxr 'HQ' resampling);
* `librosa.feature.melspectrogram(n_fft=512, hop_length=256, n_mels=96)`: a periodic Hann window of 512,
  centred frames padded with zeros (librosa ≥ 0.10's default `pad_mode="constant"`; 0.7, when musicnn was
  trained, reflected instead — a difference confined to the first and last frame), power 2, Slaney mel
  filters (`musicnn_mel_basis.npz`, stored once by `tools/convert_musicnn.py` so that serving needs no librosa);
* `log10(1 + 10000 · mel)` in float32. musicnn rounds the mel to float16 first; NumPy 1 then promoted
  `10000 * mel` to float32, but NumPy 2 (NEP 50) keeps it float16, which overflows to inf wherever
  10000·mel > 65504 — in all ten examples shipped here, speech and whale song included — so musicnn run
  under NumPy 2 silently tags infs. The float16 rounding itself is not copied: it moves the log by at most
  log10(1 + 2⁻¹¹) ≈ 2.1e-4;
* patches of `PATCH_FRAMES` = 187 frames (3 s, musicnn's default `input_length`) that do not overlap
  (`input_overlap=False` makes the hop one whole patch), the last incomplete patch dropped.

Our additions: audio shorter than a patch (< 3 s), on which musicnn's `batch_data` fails, is repeated
to one patch's length before the log-mel is drawn — musicnn's training configuration names 'repeat-pad' for
short audio (`pad_short`); and the served input (`MusicnnInput.from_audio`, what the taggram and the genre head
read) is first scaled to one RMS level (`levelled`). musicnn's log-mel is absolute, not relative to the input's
loudest point as the Kaggle picture is, so the same song played quietly was another input: the genre head, trained
on GTZAN's files, fell from 100 % to 70 % of its 33 test clips at −35 dBFS and to 61 % when clipped
(`python -m mgc robustness --model musicnn`); levelled, 97 % and 85 % (the head as trained then, unlevelled).

Input arrives as `mgc.data.audio.load_audio` gives it, mono float32 at 22050 Hz, and is resampled to 16 kHz
with soxr 'HQ': the loader's own resampler and librosa.load's default, so a 22050-Hz file reaches the same
16-kHz samples as musicnn's `librosa.load`. Measured on all ten shipped examples (tools/convert_musicnn.py's
environment): the same number of patches as musicnn, and log-mel values within 2.12e-4 of musicnn's with the
float32 log — the float16 rounding alone. `scipy.signal.resample_poly(…, 320, 441)` instead differs by up to
0.4 in the top bands, where its anti-aliasing filter cuts differently.

`MUSICNN_INPUT` (`MusicnnInput`) is this input as a front end (`mgc.frontends.base`): from audio only, read
`PATCH_BATCH` patches at a time, each patch a window of ≈ 3 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.audio import SAMPLE_RATE as AUDIO_SAMPLE_RATE
from .audio_mel import HOP_LENGTH, AudioFrontEnd, power_mel, resample
from .audio_mel import N_FFT as N_FFT  # musicnn's STFT size, named here for its readers

VERSION = "musicnn-logmel-v2-levelled"
"""Checkpoints record the representation version they were trained on (a head on musicnn's embeddings would)."""
SAMPLE_RATE = 16000
N_MELS = 96
PATCH_FRAMES = 187
"""3 s: musicnn's `librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1`."""
PATCH_SECONDS = PATCH_FRAMES * HOP_LENGTH / SAMPLE_RATE  # ≈ 2.99 s of audio per patch
LOG_SCALE = 10000.0
PATCH_BATCH = 2
"""Patches through the network at a time. Measured on a 30-s clip's 10 patches, on one and on two threads: 2 at a
time is ≈ 25 % quicker than all 10 at once (1 or 3 at a time within noise of 2) — the first timbral
convolution's output, 9 MB a patch, then stays in the CPU's cache — and a 10-minute song's 200 patches need
~40 MB of activations instead of ~1.8 GB."""

CHUNK_PATCHES = 10
"""Patches whose log-mel is drawn at once (`patches_in_chunks`): 30 s, a GTZAN clip's whole length, so a clip is
one chunk as before, and a 10-minute piece's STFT takes ~6 MB at a time instead of ~270 MB."""

LEVEL_DBFS = -19.0
"""The RMS level (dB of full scale) that `levelled` scales every input to: the median of GTZAN's clips (−19.1 dBFS
over 40 train clips with audio; 10–90 %: −26.9 to −13.7)."""

MEL_BASIS_FILE = Path(__file__).with_name("musicnn_mel_basis.npz")
"""`librosa.filters.mel(sr=16000, n_fft=512, n_mels=96)` (Slaney scale and norm), float32, (96, 257)."""


def resample_to_16k(samples: np.ndarray, rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at `rate` → float32 at 16 kHz (soxr 'HQ', as librosa.load resamples)."""
    return resample(samples, rate, SAMPLE_RATE)


def log_mel(samples_16k: np.ndarray) -> np.ndarray:
    """16-kHz mono samples → musicnn's log-mel spectrogram, float32 (frames, 96), frames = 1 + samples // 256."""
    import torch

    mel = power_mel(samples_16k, MEL_BASIS_FILE)  # (96, frames)
    return torch.log10(1.0 + LOG_SCALE * mel).T.contiguous().numpy()


def patches(log_mel_frames: np.ndarray) -> np.ndarray:
    """(frames, 96) → (patches, 187, 96): consecutive non-overlapping patches, the incomplete last one dropped."""
    count = log_mel_frames.shape[0] // PATCH_FRAMES
    return np.ascontiguousarray(log_mel_frames[: count * PATCH_FRAMES].reshape(count, PATCH_FRAMES, N_MELS))


def patches_in_chunks(samples_16k: np.ndarray, chunk: int = CHUNK_PATCHES) -> np.ndarray:
    """`patches(log_mel(samples_16k))`, drawn `chunk` patches at a time into one array: the whole piece's STFT never
    exists at once (a 10-minute piece's took +271 MB at its peak, its patches are 14 MB).

    Frame f of the centred STFT reads samples [256·(f − 1), 256·(f + 1)), zeros outside the piece. Each chunk's
    frames are drawn (centred) from the samples one hop before its first frame to one hop after its last, zeros
    where that passes the piece's ends, and the first frame of the result dropped: every frame then reads what it
    reads in the whole piece's STFT."""
    count = (1 + len(samples_16k) // HOP_LENGTH) // PATCH_FRAMES
    out = np.empty((count, PATCH_FRAMES, N_MELS), dtype=np.float32)
    for first in range(0, count, chunk):
        last = min(count, first + chunk)
        frames = (last - first) * PATCH_FRAMES
        start = (first * PATCH_FRAMES - 1) * HOP_LENGTH  # one hop before the chunk's first frame's centre
        segment = np.zeros(frames * HOP_LENGTH + HOP_LENGTH, dtype=np.float32)  # … to its last frame's centre + 1 hop
        inside = samples_16k[max(0, start) : start + len(segment)]
        segment[max(0, -start) : max(0, -start) + len(inside)] = inside
        out[first:last] = log_mel(segment)[1 : 1 + frames].reshape(last - first, PATCH_FRAMES, N_MELS)
    return out


def audio_patches(samples: np.ndarray, rate: int = AUDIO_SAMPLE_RATE, chunk: int = CHUNK_PATCHES) -> np.ndarray:
    """Mono float32 audio at `rate` (22050 Hz from `load_audio`) → musicnn's input patches (n ≥ 1, 187, 96), drawn
    `chunk` patches at a time (`patches_in_chunks`).

    Audio shorter than one patch is repeated to one patch's length first (musicnn's 'repeat-pad').
    """
    return patches_of_16k(resample_to_16k(samples, rate), chunk)


def patches_of_16k(samples_16k: np.ndarray, chunk: int = CHUNK_PATCHES) -> np.ndarray:
    """`audio_patches` of audio resampled to 16 kHz already."""
    needed = (PATCH_FRAMES - 1) * HOP_LENGTH  # the fewest samples that give 187 centred frames
    if 0 < len(samples_16k) < needed:
        samples_16k = np.resize(samples_16k, needed)  # np.resize repeats the samples cyclically
    return patches_in_chunks(samples_16k, chunk)


LEVEL_BLOCK = 1 << 20
"""Samples levelled and resampled at a time (`levelled_16k`), and summed at a time for the RMS (`level_gain`): ~48 s
at 22050 Hz, so a 10-minute piece is never copied whole in float32 (53 MB) nor squared whole in float64 (106 MB)."""


def level_gain(samples: np.ndarray) -> np.float32 | None:
    """The gain that brings `samples`' RMS to `LEVEL_DBFS` (float32), or None for silence (RMS < 1e-7). The squares
    are summed in float64 a block at a time: the whole piece's float64 squares never exist at once."""
    if not len(samples):
        return None
    total = sum(
        float(np.sum(np.square(samples[first : first + LEVEL_BLOCK], dtype=np.float64)))
        for first in range(0, len(samples), LEVEL_BLOCK)
    )
    rms = float(np.sqrt(total / len(samples)))
    return None if rms < 1e-7 else np.float32(10 ** (LEVEL_DBFS / 20) / rms)


def levelled(samples: np.ndarray) -> np.ndarray:
    """`samples` scaled so their RMS is `LEVEL_DBFS` (float32; silence stays silence, the scaled samples may pass
    full scale: the log-mel has no ceiling)."""
    samples = np.asarray(samples, dtype=np.float32)
    gain = level_gain(samples)
    return samples if gain is None else samples * gain


def levelled_16k(samples: np.ndarray, rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """`resample_to_16k(levelled(samples), rate)`, the same numbers, drawn `LEVEL_BLOCK` samples at a time: soxr's
    stream gives what its one-shot call gives, and a block times the gain is that part of `levelled`'s product, so
    only the 16-kHz result (38 MB for 10 minutes) is ever whole."""
    import soxr

    samples = np.asarray(samples, dtype=np.float32)
    gain = level_gain(samples)
    if rate == SAMPLE_RATE or not len(samples):
        return resample_to_16k(samples if gain is None else samples * gain, rate)
    stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
    out = np.empty(len(samples) * SAMPLE_RATE // rate + 1024, dtype=np.float32)  # room for every output sample
    filled = 0
    for first in range(0, len(samples), LEVEL_BLOCK):
        block = samples[first : first + LEVEL_BLOCK]
        part = stream.resample_chunk(block if gain is None else block * gain, last=first + LEVEL_BLOCK >= len(samples))
        if filled + len(part) > len(out):  # never seen; kept correct rather than assumed
            out = np.concatenate([out[:filled], np.empty(len(part) + 1024, dtype=np.float32)])
        out[filled : filled + len(part)] = part
        filled += len(part)
    return out[:filled]


def patch_times(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (seconds) of each of `count` patches: frame f is centred at f·256/16000 s."""
    starts = np.arange(count) * PATCH_SECONDS
    return starts, starts + PATCH_SECONDS


class MusicnnInput(AudioFrontEnd):
    """musicnn's input of levelled audio (`levelled`): (patches, 187, 96) float32 log-mel, read `PATCH_BATCH`
    patches at a time."""

    version = VERSION
    kind = "audio"
    reads = (
        "the sound itself, 3 seconds at a time, as musicnn hears it (its own 96-band spectrogram at 16 kHz): a "
        "network pretrained on ~200,000 songs sums up each 3 s in 200 numbers, and a small head trained here "
        "turns them into genres — so it can change its mind every 3 s"
    )
    reads_short = "musicnn's summary of each 3 seconds of the sound"

    def from_audio(self, audio) -> np.ndarray:
        # = audio_patches(levelled(audio.samples), audio.sample_rate), without a whole levelled copy or STFT
        return patches_of_16k(levelled_16k(audio.samples, audio.sample_rate))

    def batches(self, model_input: np.ndarray):
        import torch

        for first in range(0, len(model_input), PATCH_BATCH):
            yield (torch.from_numpy(model_input[first : first + PATCH_BATCH]),)

    def window_times(self, model_input: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Each patch's span, within the audio (audio shorter than a patch was repeated: its one patch spans it)."""
        starts, ends = patch_times(len(model_input))
        return starts, np.minimum(ends, seconds)


MUSICNN_INPUT = MusicnnInput()
