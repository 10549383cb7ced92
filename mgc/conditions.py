"""Listening conditions: how a classroom hears music, as functions on audio.

A teacher plays a song from a phone; its small speaker, the room, the pupils, the laptop's microphone and
the browser's codec each change the sound before mgc hears it. Each condition here is one such change:
`apply(name, samples)` takes mono float32 samples at 22050 Hz and returns the samples as they would
arrive, deterministically (a fixed seed per condition, so a benchmark is repeatable). Filters,
compression, pitch and tempo come from Spotify's `pedalboard`, simulated rooms from `pyroomacoustics`
(image-source method), the MP3 codec from LAME through `pedalboard.io`; noise is made here with numpy.

`CONDITIONS` lists them with a line each for people; `python -m mgc robustness` measures every model under
each (`mgc.evaluate.robustness`).

Real rooms and real noise come from the sounds folder (`default_sounds_dir`: `$MGC_SOUNDS`, else
../shared/sounds): measured impulse responses in `ir/` and background beds in `noise/`, each file's origin in
`SOURCES.csv`. They are split by source (`RealSounds`): the sources in `HELD_OUT_SOURCES` are only ever heard
by the benchmark's `real_rooms` and `real_noise_10db` conditions, the others only by training chains
(`random_chain(…, sounds=)`), so the benchmark measures rooms and noise that training never used. Without the
folder, training chains keep to simulated rooms and noise and those two conditions are left out
(`available_conditions`).
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
SEED = 0
VERSION = "conditions-v1"
"""Changes whenever a condition's sound changes (not for docstrings or refactors): the benchmark's kept musicnn passes
of degraded clips (`mgc.evaluate.robustness.PassCache`) are found again only for the same version."""


@dataclass(frozen=True)
class Condition:
    name: str
    label: str
    """A few words for a chart."""
    description: str
    """One sentence for people: what it simulates and how."""
    apply: Callable[[np.ndarray], np.ndarray]
    needs_sounds: bool = False
    """It plays real rooms or noise from the sounds folder (`real_sounds`): left out where the folder is absent."""


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _board(*plugins):
    from pedalboard import Pedalboard

    return Pedalboard(list(plugins))


def _run(board, samples: np.ndarray) -> np.ndarray:
    return board(np.asarray(samples, dtype=np.float32)[None], SAMPLE_RATE)[0].astype(np.float32)


def _peak_safe(x: np.ndarray) -> np.ndarray:
    """Scale down only if the result would clip: a condition changes the sound, not the file's validity."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x / peak * 0.99).astype(np.float32) if peak > 0.99 else x.astype(np.float32)


# --- codecs --------------------------------------------------------------------------------------


def mp3(samples: np.ndarray, kbps: int = 64) -> np.ndarray:
    """Encode with LAME at `kbps` (constant bit rate) and decode again: what a compressed download or
    stream leaves of the sound."""
    from pedalboard.io import AudioFile

    buffer = io.BytesIO()
    with AudioFile(buffer, "w", SAMPLE_RATE, 1, format="mp3", quality=f"{kbps} kbps") as f:
        f.write(np.asarray(samples, dtype=np.float32)[None])
    buffer.seek(0)
    with AudioFile(buffer) as f:
        decoded = f.read(f.frames)[0]
    decoded = decoded[: len(samples)]
    return np.pad(decoded, (0, len(samples) - len(decoded))).astype(np.float32)


# --- speakers and microphones --------------------------------------------------------------------


def phone_speaker(samples: np.ndarray) -> np.ndarray:
    """A phone's small loudspeaker: nothing below ~200 Hz or above ~6 kHz (two cascaded high-pass and
    low-pass stages), resonances at 900 Hz and 3 kHz, and a little saturation when it is driven loud."""
    from pedalboard import Distortion, Gain, HighpassFilter, LowpassFilter, PeakFilter

    board = _board(
        HighpassFilter(200),
        HighpassFilter(200),
        HighpassFilter(200),
        LowpassFilter(6000),
        LowpassFilter(6000),
        PeakFilter(900, gain_db=6, q=1.5),
        PeakFilter(3000, gain_db=5, q=2.0),
        Gain(-3),
        Distortion(drive_db=6),
    )
    out = _run(board, samples)
    return _peak_safe(out * (_rms(samples) / max(_rms(out), 1e-9)))


def laptop_microphone(samples: np.ndarray) -> np.ndarray:
    """A laptop's microphone: a high-pass at ~150 Hz, a dip of its cheap capsule above 8 kHz, and the
    browser's automatic gain control (a fast compressor with make-up gain)."""
    from pedalboard import Compressor, Gain, HighpassFilter, HighShelfFilter

    board = _board(
        HighpassFilter(150),
        HighpassFilter(150),
        HighShelfFilter(8000, gain_db=-6),
        Compressor(threshold_db=-30, ratio=4, attack_ms=5, release_ms=150),
        Gain(12),
    )
    return _peak_safe(_run(board, samples))


# --- rooms ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def room_impulse_response(rt60: float, dimensions: tuple[float, float, float]) -> np.ndarray:
    """The impulse response from a source to a microphone 3 m apart in a shoebox room with reverberation
    time `rt60` (s), by the image-source method (pyroomacoustics), normalised to a unit direct path."""
    import pyroomacoustics as pra

    absorption, max_order = pra.inverse_sabine(rt60, dimensions)
    room = pra.ShoeBox(
        dimensions, fs=SAMPLE_RATE, materials=pra.Material(absorption), max_order=min(max_order, 40), use_rand_ism=False
    )
    width, depth, _ = dimensions
    room.add_source([width / 2, 1.0, 1.2])
    room.add_microphone([width / 2, min(depth - 0.5, 4.0), 0.8])
    room.compute_rir()
    rir = np.asarray(room.rir[0][0], dtype=np.float64)
    return (rir / np.max(np.abs(rir))).astype(np.float32)


def room(samples: np.ndarray, rt60: float, dimensions=(6.0, 5.0, 3.0)) -> np.ndarray:
    """The sound at a listener's place in a room with reverberation time `rt60`, at the same loudness."""
    from scipy.signal import fftconvolve

    out = fftconvolve(samples, room_impulse_response(rt60, tuple(dimensions)))[: len(samples)]
    return _peak_safe(out * (_rms(samples) / max(_rms(out), 1e-9)))


# --- noise ---------------------------------------------------------------------------------------


NOISE_SLOPES = {"white": 0.0, "pink": 0.5, "brown": 1.0}
"""Noise colour → the exponent of frequency its amplitude falls with: white is flat, pink falls 3 dB per octave,
brown 6 dB."""


def coloured_noise(length: int, colour: str = "pink", seed: int = SEED) -> np.ndarray:
    """`length` samples of white, pink or brown noise (`NOISE_SLOPES`, flat below 20 Hz), RMS 1."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(length))
    frequencies = np.fft.rfftfreq(length, 1 / SAMPLE_RATE)
    spectrum /= np.maximum(frequencies, 20.0) ** NOISE_SLOPES[colour]
    noise = np.fft.irfft(spectrum, n=length)
    return (noise / _rms(noise)).astype(np.float32)


def pink_noise(length: int, seed: int = SEED) -> np.ndarray:
    """Noise whose power falls 3 dB per octave (1/f), like air conditioning and a busy room's hum."""
    return coloured_noise(length, "pink", seed)


def babble(length: int, seed: int = SEED, talkers: int = 6) -> np.ndarray:
    """Crowd-like babble: `talkers` streams of speech-shaped noise (energy at 200–3000 Hz, falling above),
    each switched on and off at a syllable rate (2–6 per second), summed. No real voices are needed."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    shaped = sosfilt(
        butter(2, [200, 3000], btype="bandpass", fs=SAMPLE_RATE, output="sos"), rng.standard_normal(length)
    )
    t = np.arange(length) / SAMPLE_RATE
    total = np.zeros(length)
    for talker in range(talkers):
        voice = np.roll(shaped, rng.integers(0, length))
        syllables = rng.uniform(2, 6)
        envelope = np.clip(np.sin(2 * np.pi * syllables * t + rng.uniform(0, 2 * np.pi)), 0, None) ** 2
        pauses = np.repeat(rng.random(int(length / SAMPLE_RATE * 2) + 2) > 0.3, SAMPLE_RATE // 2)[:length]
        total += voice * envelope * np.pad(pauses, (0, max(0, length - len(pauses))))[:length] * (1 + talker / talkers)
    return (total / max(_rms(total), 1e-12)).astype(np.float32)


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`samples` with `noise` added at a signal-to-noise ratio of `snr_db` (RMS over the whole input)."""
    scale = _rms(samples) / max(_rms(noise), 1e-12) / 10 ** (snr_db / 20)
    return _peak_safe(samples + scale * noise[: len(samples)])


# --- real rooms and noise ------------------------------------------------------------------------


HELD_OUT_SOURCES = ("QVbDev/quantumVerb", "gheja/doggy-daycare")
"""Sources (`SOURCES.csv`'s `source_repo`) that only the benchmark hears: four measured rooms (St Andrew's Church,
Terry's Typing Room, the Tyndall Bruce Monument, the Spokane Woman's Club; OpenAIR) and three noise beds (a city,
a restaurant, a room's tone). Training chains hear the other sources' rooms (a seminar room, an auditorium, a
studio, a hall, a church; a radio's and two loudspeakers' responses) and beds (a city, a café, rain, crickets, a
train, waves, wind, dishes, two room noises)."""
SOUND_KINDS = ("ir", "noise")


def default_sounds_dir() -> Path | None:
    """`$MGC_SOUNDS`, else `../shared/sounds` beside the repository when it exists, else None (like the GTZAN folder's
    `mgc.data.gtzan.default_data_dir`)."""
    from .data.gtzan import shared_folder

    return shared_folder("MGC_SOUNDS", "sounds")


@dataclass(frozen=True)
class RealSounds:
    """Measured impulse responses and noise beds of one part of the sounds folder, mono float32 at 22050 Hz."""

    impulse_responses: tuple[np.ndarray, ...]
    """Each starts 1 ms before its loudest sample (the direct sound) and peaks at 1."""
    noises: tuple[np.ndarray, ...]
    """Each at RMS 1."""
    names: tuple[str, ...]
    """The files, impulse responses first."""


def sound_sources(folder: Path) -> dict[str, str]:
    """File (relative to the sounds folder, e.g. "ir/x.flac") → its source, from `SOURCES.csv`; a file it does not list
    is its own source's by the prefix before the first underscore of its name."""
    sources = {}
    listing = Path(folder) / "SOURCES.csv"
    if listing.is_file():
        with open(listing, newline="", encoding="utf-8") as f:
            sources = {row["file"]: row["source_repo"] for row in csv.DictReader(f)}
    files = [p for kind in SOUND_KINDS for p in sorted((Path(folder) / kind).glob("*")) if p.is_file()]
    return {f"{p.parent.name}/{p.name}": sources.get(f"{p.parent.name}/{p.name}", p.name.split("_")[0]) for p in files}


def _read_sound(path: Path) -> np.ndarray:
    """A sound file of the folder as mono float32 at 22050 Hz (soundfile, soxr). Not `load_audio`: an impulse
    response is far shorter than the second of music that the loader asks of an upload."""
    import soundfile
    import soxr

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    return (mono if rate == SAMPLE_RATE else soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ")).astype(np.float32)


def _impulse_response(samples: np.ndarray) -> np.ndarray:
    start = max(0, int(np.argmax(np.abs(samples))) - SAMPLE_RATE // 1000)
    ir = samples[start:].astype(np.float64)
    return (ir / max(float(np.max(np.abs(ir))), 1e-12)).astype(np.float32)


@lru_cache(maxsize=4)
def _real_sounds(part: str, folder: str) -> RealSounds | None:
    wanted = [
        name
        for name, source in sound_sources(Path(folder)).items()
        if (source in HELD_OUT_SOURCES) == (part == "held_out")
    ]
    irs, noises, names = [], [], []
    for name in sorted(wanted, key=lambda n: (SOUND_KINDS.index(n.split("/")[0]), n)):
        samples = _read_sound(Path(folder) / name)
        if _rms(samples) < 1e-6:
            continue
        if name.startswith("ir/"):
            irs.append(_impulse_response(samples))
        else:
            noises.append((samples / _rms(samples)).astype(np.float32))
        names.append(name)
    if not irs and not noises:
        return None
    return RealSounds(tuple(irs), tuple(noises), tuple(names))


def real_sounds(part: str = "train", folder: str | Path | None = None) -> RealSounds | None:
    """The sounds folder's (`default_sounds_dir`) measured rooms and noise beds for "train" (sources training may
    hear) or "held_out" (`HELD_OUT_SOURCES`, for the benchmark), loaded once; None without the folder or sounds."""
    if part not in ("train", "held_out"):
        raise ValueError(f"unknown part {part!r}; use train or held_out")
    folder = folder or default_sounds_dir()
    if folder is None or not Path(folder).is_dir():
        return None
    return _real_sounds(part, str(Path(folder).resolve()))


def convolved(samples: np.ndarray, impulse_response: np.ndarray) -> np.ndarray:
    """`samples` through a room or device with `impulse_response`, at the same loudness (RMS)."""
    from scipy.signal import fftconvolve

    out = fftconvolve(samples, impulse_response)[: len(samples)]
    return _peak_safe(out * (_rms(samples) / max(_rms(out), 1e-9)))


def noise_bed(bed: np.ndarray, length: int, start: int) -> np.ndarray:
    """`length` samples of a noise bed from sample `start` on, the bed repeated as often as needed."""
    return np.take(bed, np.arange(start, start + length), mode="wrap").astype(np.float32)


def _content_seed(samples: np.ndarray) -> int:
    """A seed from the samples themselves: a clip always meets the same room or bed, different clips different ones."""
    return zlib.crc32(np.ascontiguousarray(samples, dtype=np.float32).tobytes())


def _held_out() -> RealSounds:
    sounds = real_sounds("held_out")
    if sounds is None:
        from .errors import DatasetError

        raise DatasetError(
            "the real rooms and noise need the sounds folder (ir/ and noise/): set MGC_SOUNDS or put it at "
            "../shared/sounds"
        )
    return sounds


def real_rooms(samples: np.ndarray) -> np.ndarray:
    """The sound in one of the held-out measured rooms (`HELD_OUT_SOURCES`), chosen by the clip's content."""
    rooms = _held_out().impulse_responses
    return convolved(samples, rooms[_content_seed(samples) % len(rooms)])


def real_noise(samples: np.ndarray, snr_db: float = 10.0) -> np.ndarray:
    """One of the held-out real noise beds (`HELD_OUT_SOURCES`) under the music at `snr_db`, the bed and where in it
    chosen by the clip's content."""
    rng = np.random.default_rng(_content_seed(samples))
    beds = _held_out().noises
    bed = beds[int(rng.integers(len(beds)))]
    return add_noise(samples, noise_bed(bed, len(samples), int(rng.integers(len(bed)))), snr_db)


# --- playing it differently ----------------------------------------------------------------------


def pitch(samples: np.ndarray, semitones: float) -> np.ndarray:
    """The same music `semitones` higher (or lower), at the same tempo (Rubber Band, via pedalboard)."""
    from pedalboard import PitchShift

    return _peak_safe(_run(_board(PitchShift(semitones)), samples))


def tempo(samples: np.ndarray, factor: float) -> np.ndarray:
    """The same music `factor` times faster, at the same pitch (Rubber Band's time stretch, via pedalboard)."""
    from pedalboard import time_stretch

    return _peak_safe(time_stretch(np.asarray(samples, dtype=np.float32)[None], SAMPLE_RATE, factor)[0])


def level(samples: np.ndarray, rms_dbfs: float) -> np.ndarray:
    """The same sound at an RMS level of `rms_dbfs` (a quiet phone across the room is around −35 dBFS)."""
    return (samples * (10 ** (rms_dbfs / 20) / max(_rms(samples), 1e-12))).astype(np.float32)


def clipped(samples: np.ndarray, gain_db: float = 18.0) -> np.ndarray:
    """Recorded far too loud: `gain_db` of gain, then hard clipping at full scale."""
    return np.clip(samples * 10 ** (gain_db / 20), -1.0, 1.0).astype(np.float32)


def classroom(samples: np.ndarray, babble_seed: int = SEED + 1, hum_seed: int = SEED + 2) -> np.ndarray:
    """The whole chain of a classroom: a phone speaker → a room (RT60 0.6 s) → pupils' babble and the room's
    hum at 15 dB SNR → a laptop microphone with automatic gain → a 32-kbit/s MP3. The benchmark's babble and hum
    are fixed (`babble_seed`, `hum_seed`); other seeds draw other pupils and hums."""
    sound = room(phone_speaker(samples), 0.6, (8.0, 7.0, 3.0))
    noise = 0.7 * babble(len(sound), seed=babble_seed) + 0.7 * pink_noise(len(sound), seed=hum_seed)
    return mp3(laptop_microphone(add_noise(sound, noise, 15.0)), 32)


CONDITIONS: dict[str, Condition] = {
    c.name: c
    for c in (
        Condition("clean", "clean", "The file as it is.", lambda x: np.asarray(x, dtype=np.float32)),
        Condition("mp3_64k", "MP3 64 kbit/s", "Encoded as a 64-kbit/s MP3 (LAME) and decoded.", lambda x: mp3(x, 64)),
        Condition("phone_speaker", "phone speaker", phone_speaker.__doc__.split(":")[0] + ".", phone_speaker),
        Condition(
            "laptop_microphone", "laptop microphone", "A laptop microphone with automatic gain.", laptop_microphone
        ),
        Condition(
            "small_room",
            "small room (RT60 0.3 s)",
            "A small furnished room, RT60 ≈ 0.3 s.",
            lambda x: room(x, 0.3, (4.0, 3.5, 2.6)),
        ),
        Condition(
            "large_room",
            "large room (RT60 0.9 s)",
            "A large bare classroom, RT60 ≈ 0.9 s.",
            lambda x: room(x, 0.9, (10.0, 8.0, 3.5)),
        ),
        Condition(
            "pink_noise_20db",
            "pink noise, 20 dB SNR",
            "Pink (1/f) noise at 20 dB SNR.",
            lambda x: add_noise(x, pink_noise(len(x)), 20.0),
        ),
        Condition(
            "pink_noise_10db",
            "pink noise, 10 dB SNR",
            "Pink (1/f) noise at 10 dB SNR.",
            lambda x: add_noise(x, pink_noise(len(x)), 10.0),
        ),
        Condition(
            "babble_20db",
            "babble, 20 dB SNR",
            "Crowd-like babble at 20 dB SNR.",
            lambda x: add_noise(x, babble(len(x)), 20.0),
        ),
        Condition(
            "babble_10db",
            "babble, 10 dB SNR",
            "Crowd-like babble at 10 dB SNR.",
            lambda x: add_noise(x, babble(len(x)), 10.0),
        ),
        Condition("pitch_up", "pitch +1 semitone", "One semitone higher, same tempo.", lambda x: pitch(x, 1.0)),
        Condition("pitch_down", "pitch −1 semitone", "One semitone lower, same tempo.", lambda x: pitch(x, -1.0)),
        Condition("tempo_up", "tempo +5 %", "5 % faster, same pitch.", lambda x: tempo(x, 1.05)),
        Condition("tempo_down", "tempo −5 %", "5 % slower, same pitch.", lambda x: tempo(x, 0.95)),
        Condition("quiet", "quiet (−35 dBFS)", "Played quietly: −35 dBFS RMS.", lambda x: level(x, -35.0)),
        Condition("clipped", "clipped (+18 dB)", "Recorded 18 dB too loud and clipped.", clipped),
        Condition(
            "real_rooms",
            "real rooms (held out)",
            "One of four measured rooms (two halls, a church, a monument; OpenAIR) that training never heard.",
            real_rooms,
            needs_sounds=True,
        ),
        Condition(
            "real_noise_10db",
            "real noise, 10 dB SNR (held out)",
            "A real city, restaurant or room-tone recording that training never heard, at 10 dB SNR.",
            real_noise,
            needs_sounds=True,
        ),
        Condition("classroom", "classroom chain", classroom.__doc__.split(":")[1].strip().rstrip("."), classroom),
    )
}
"""Every condition by name; "clean" first, the whole classroom chain last."""


def available_conditions() -> list[str]:
    """The names of `CONDITIONS` that can be measured here: those needing the sounds folder only where it is."""
    held_out = real_sounds("held_out")
    return [
        name
        for name, c in CONDITIONS.items()
        if not c.needs_sounds or (held_out is not None and held_out.impulse_responses and held_out.noises)
    ]


def apply(name: str, samples: np.ndarray) -> np.ndarray:
    """`samples` (mono float32 at 22050 Hz) under condition `name`; the same input always gives the same output."""
    if name not in CONDITIONS:
        raise KeyError(f"unknown condition {name!r}; known: {', '.join(CONDITIONS)}")
    out = CONDITIONS[name].apply(np.asarray(samples, dtype=np.float32))
    if len(out) == 0 or not np.isfinite(out).all():
        raise ValueError(f"condition {name!r} produced no usable audio")
    return np.ascontiguousarray(out, dtype=np.float32)


def random_chain(samples: np.ndarray, rng: np.random.Generator, sounds: RealSounds | None = None) -> np.ndarray:
    """A random listening chain, for training on truly degraded audio: a speaker or microphone (random
    high-pass, low-pass and resonances), then with some probability a random room, noise (pink or babble,
    5–30 dB SNR), automatic gain and a codec (MP3 at 32–128 kbit/s). The benchmark's fixed conditions are
    single points of this distribution; their noise seeds are not used here. With `sounds` (`real_sounds("train")`),
    half the rooms are measured ones and a third of the noise real beds; without, the draws are those of before."""
    from pedalboard import Compressor, HighpassFilter, LowpassFilter, PeakFilter

    plugins = [HighpassFilter(float(rng.uniform(80, 400))) for _ in range(int(rng.integers(0, 4)))]
    plugins += [
        LowpassFilter(float(np.exp(rng.uniform(np.log(3000), np.log(9000))))) for _ in range(int(rng.integers(0, 3)))
    ]
    plugins += [
        PeakFilter(
            float(np.exp(rng.uniform(np.log(300), np.log(5000)))),
            gain_db=float(rng.uniform(-6, 9)),
            q=float(rng.uniform(0.7, 3)),
        )
        for _ in range(int(rng.integers(0, 3)))
    ]
    out = _run(_board(*plugins), samples) if plugins else np.asarray(samples, dtype=np.float32)
    out = out * (_rms(samples) / max(_rms(out), 1e-9))
    if rng.random() < 0.5:
        out = _random_room(out, rng, sounds)
    if rng.random() < 0.5:
        out = add_noise(out, _random_noise(len(out), rng, sounds), float(rng.uniform(5, 30)))
    if rng.random() < 0.3:
        out = _run(_board(Compressor(threshold_db=float(rng.uniform(-40, -20)), ratio=float(rng.uniform(2, 6)))), out)
    if rng.random() < 0.4:
        out = mp3(_peak_safe(out), int(rng.choice([32, 48, 64, 96, 128])))
    return _peak_safe(np.asarray(out, dtype=np.float32))


def _random_room(samples: np.ndarray, rng: np.random.Generator, sounds: RealSounds | None) -> np.ndarray:
    """A simulated shoebox room (RT60 0.2–1.2 s, 3–12 × 3–10 × 2.4–4 m), or, half the time with `sounds`, one of
    its measured rooms."""
    if sounds is not None and sounds.impulse_responses and rng.random() < 0.5:
        return convolved(samples, sounds.impulse_responses[int(rng.integers(len(sounds.impulse_responses)))])
    size = (float(rng.uniform(3, 12)), float(rng.uniform(3, 10)), float(rng.uniform(2.4, 4)))
    return room(samples, float(np.round(rng.uniform(0.2, 1.2), 1)), tuple(np.round(size, 1)))


def _random_noise(length: int, rng: np.random.Generator, sounds: RealSounds | None) -> np.ndarray:
    """Pink noise or babble of a random seed, or, a third of the time with `sounds`, a stretch of one of its beds."""
    if sounds is not None and sounds.noises and rng.random() < 1 / 3:
        bed = sounds.noises[int(rng.integers(len(sounds.noises)))]
        return noise_bed(bed, length, int(rng.integers(len(bed))))
    if rng.random() < 0.5:
        return pink_noise(length, seed=int(rng.integers(1000, 10**6)))
    return babble(length, seed=int(rng.integers(1000, 10**6)))


def recording_chain(samples: np.ndarray, rng: np.random.Generator, sounds: RealSounds | None = None) -> np.ndarray:
    """A random recording of music played in a room, for training: always a small loudspeaker (random high-passes at
    120–400 Hz, low-passes at 3–9 kHz, resonances, sometimes saturation), then mostly a room (`_random_room`) and
    people or noise (two sources of `_random_noise` at 5–25 dB SNR), always a microphone (a high-pass at 80–250 Hz,
    mostly automatic gain) and often a codec (MP3 at 32–128 kbit/s). The benchmark's classroom chain is one point of
    this distribution; its noise seeds and its held-out rooms and beds are never drawn here."""
    from pedalboard import Compressor, Distortion, Gain, HighpassFilter, LowpassFilter, PeakFilter

    speaker = [HighpassFilter(float(rng.uniform(120, 400))) for _ in range(int(rng.integers(1, 4)))]
    speaker += [
        LowpassFilter(float(np.exp(rng.uniform(np.log(3000), np.log(9000))))) for _ in range(int(rng.integers(1, 3)))
    ]
    speaker += [
        PeakFilter(
            float(np.exp(rng.uniform(np.log(500), np.log(5000)))), float(rng.uniform(0, 8)), float(rng.uniform(1, 3))
        )
        for _ in range(int(rng.integers(0, 3)))
    ]
    if rng.random() < 0.4:
        speaker.append(Distortion(drive_db=float(rng.uniform(2, 10))))
    out = _run(_board(*speaker), samples)
    out = _peak_safe(out * (_rms(samples) / max(_rms(out), 1e-9)))
    if rng.random() < 0.8:
        out = _random_room(out, rng, sounds)
    if rng.random() < 0.8:
        noise = _random_noise(len(out), rng, sounds) + float(rng.uniform(0.3, 1.0)) * _random_noise(
            len(out), rng, sounds
        )
        out = add_noise(out, noise, float(rng.uniform(5, 25)))
    microphone = [HighpassFilter(float(rng.uniform(80, 250))) for _ in range(int(rng.integers(1, 3)))]
    if rng.random() < 0.7:
        microphone += [
            Compressor(
                threshold_db=float(rng.uniform(-40, -20)),
                ratio=float(rng.uniform(2, 8)),
                attack_ms=float(rng.uniform(2, 20)),
                release_ms=float(rng.uniform(50, 300)),
            ),
            Gain(float(rng.uniform(0, 15))),
        ]
    out = _peak_safe(_run(_board(*microphone), out))
    if rng.random() < 0.6:
        out = mp3(out, int(rng.choice([32, 48, 64, 96, 128])))
    return _peak_safe(np.asarray(out, dtype=np.float32))


CLASSROOM_LIKE_ROOMS = (
    (0.4, (6.0, 5.5, 3.0)),
    (0.5, (9.0, 6.5, 3.2)),
    (0.7, (7.0, 8.0, 2.8)),
    (0.8, (10.0, 7.5, 3.4)),
)
"""The simulated classrooms of `classroom_like_chain` (RT60 s, metres): not the benchmark's (0.6 s, 8 × 7 × 3 m), and
few, so that their impulse responses stay in `room_impulse_response`'s cache (a new shoebox costs seconds)."""


def classroom_like_chain(samples: np.ndarray, rng: np.random.Generator, sounds: RealSounds | None = None) -> np.ndarray:
    """The classroom chain's parts with their settings jittered, for training: a phone-like speaker (high-passes at
    150–300 Hz, low-passes at 4.5–8 kHz, resonances near 0.9 and 3 kHz, saturation) → half the time one of `sounds`'
    measured training rooms, else one of `CLASSROOM_LIKE_ROOMS` → babble and pink hum of random seeds at 10–20 dB SNR
    → a laptop-like microphone (high-passes at 100–200 Hz, a high shelf cut, automatic gain) → MP3 at 32 or 48 kbit/s.
    The benchmark's `classroom` is near this distribution but not in it: its room, its noise seeds and its exact
    speaker and microphone settings are never drawn, nor are the held-out rooms and beds."""
    from pedalboard import Compressor, Distortion, Gain, HighpassFilter, HighShelfFilter, LowpassFilter, PeakFilter

    speaker = [HighpassFilter(float(rng.uniform(150, 300))) for _ in range(int(rng.integers(2, 4)))]
    speaker += [LowpassFilter(float(rng.uniform(4500, 8000))) for _ in range(2)]
    speaker += [
        PeakFilter(float(rng.uniform(700, 1200)), float(rng.uniform(3, 8)), float(rng.uniform(1, 2))),
        PeakFilter(float(rng.uniform(2500, 3500)), float(rng.uniform(3, 7)), float(rng.uniform(1.5, 2.5))),
        Gain(-3.0),
        Distortion(drive_db=float(rng.uniform(3, 9))),
    ]
    out = _run(_board(*speaker), samples)
    out = _peak_safe(out * (_rms(samples) / max(_rms(out), 1e-9)))
    if sounds is not None and sounds.impulse_responses and rng.random() < 0.5:
        out = convolved(out, sounds.impulse_responses[int(rng.integers(len(sounds.impulse_responses)))])
    else:
        rt60, size = CLASSROOM_LIKE_ROOMS[int(rng.integers(len(CLASSROOM_LIKE_ROOMS)))]
        out = room(out, rt60, size)
    talk = babble(len(out), seed=int(rng.integers(1000, 10**6)))  # the draws' order is the trial's (docs/experiments)
    hum_level = float(rng.uniform(0.3, 1.0))
    hum_seed = int(rng.integers(1000, 10**6))
    out = add_noise(out, 0.7 * talk + hum_level * pink_noise(len(out), seed=hum_seed), float(rng.uniform(10, 20)))
    microphone = [HighpassFilter(float(rng.uniform(100, 200))) for _ in range(2)]
    microphone += [
        HighShelfFilter(float(rng.uniform(6000, 10000)), gain_db=float(rng.uniform(-9, -3))),
        Compressor(
            threshold_db=float(rng.uniform(-35, -25)),
            ratio=float(rng.uniform(3, 6)),
            attack_ms=float(rng.uniform(3, 10)),
            release_ms=float(rng.uniform(100, 250)),
        ),
        Gain(float(rng.uniform(8, 14))),
    ]
    out = _peak_safe(_run(_board(*microphone), out))
    return _peak_safe(mp3(out, int(rng.choice([32, 48]))))


CHAINS = {"random": random_chain, "recording": recording_chain, "classroom_like": classroom_like_chain}
"""The random chains a trainer can draw degraded versions from (`degraded_versions`)."""


def degraded_versions(
    samples: np.ndarray,
    track: str,
    count: int,
    seed: int = 0,
    sounds: RealSounds | None = None,
    chain: str = "random",
) -> list[np.ndarray]:
    """`count` versions of a training track's audio through random listening chains (`CHAINS[chain]`: `random_chain`
    by default, `recording_chain`), drawn from a generator seeded by `seed` and the track's name: every trainer that
    learns from degraded audio (the picture models' renders, the musicnn head) hears the same versions of a track.
    `sounds` (`real_sounds("train")`) adds measured rooms and real noise beds to the chains."""
    rng = np.random.default_rng([seed, *map(ord, track)])
    return [CHAINS[chain](samples, rng, sounds) for _ in range(count)]
