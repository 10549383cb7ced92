"""The gate's labelled set, built by a recipe rather than stored: music, speech, other sounds, and speech over music.

* **music** — every GTZAN clip with audio in the data folder (all ten genres, rap and solo instruments included),
  clean, through the classroom chain (`mgc.conditions.classroom`: how a laptop hears a phone playing it) and in a
  measured room with a recorded noise bed (`real_room`); the short GTZAN excerpts of held-out tracks (2–3 s, what
  a short recording gives); the shipped music examples; the sounds folder's music (a cappella singing, solo notes,
  tabla, a solo excerpt); synthesised solo tunes (`solo_melody`).
* **speech** — real read speech from the sounds folder (`../shared/sounds`: FLEURS in five languages, VCTK,
  LibriSpeech, CMU ARCTIC, a Freesound recording) and the shipped audiobook readings, each clean, as spoken in a
  classroom near the laptop (`in_a_room`) and in a measured room with a noise bed; speech synthesised with
  `espeak-ng` (several languages, voices and speeds) as an extra.
* **other** — the sounds folder's real sounds (dogs, snoring, birds, a boat, a fireplace, a storm) and noise beds
  (city, café, restaurant, rain, waves, wind, crickets, a train, room tone, dishes), the shipped robin and whale,
  each clean, through the classroom chain and in a measured room; synthesised noises, hum, tones, square waves,
  DC, sweeps, clicks and a metronome (issue 28's steady sounds), each clean, through the chain and in a room.
* **speech over music** — held-out real speech over held-out GTZAN clips at −6 and −12 dB (a radio host):
  reported, never fitted, since either answer is defensible.

Each item belongs to the **fit** part (where the gate's weights and threshold are chosen) or the **held-out**
part (where it is judged), **by source, never by file**: a real recording's source is its corpus, FLEURS language,
dataset or Freesound uploader (`source_of`), and the sources in `HELD_OUT_SOURCES` are held out with every one of
their files and conditions; the measured rooms and noise beds that condition an item come from its own part's
sources. GTZAN clips (and their excerpts) follow the random split by track (its train part is fitted, the rest
held out); synthesised speech is held out by language and voice; the shipped examples are all held out.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import conditions
from ..data.audio import load_audio
from ..data.examples import EXAMPLES
from ..data.gtzan import GTZAN, genre_of, random_split

SAMPLE_RATE = 22050
KINDS = ("music", "speech", "other", "speech over music")
FIT, HELD_OUT = "fit", "held-out"

SPEECH_TEXTS = {
    "en": "The lesson today is about the water cycle. Rain falls on the hills, runs into rivers and flows to the "
    "sea, where the sun warms it again. Please open your books on page forty two and read the first paragraph.",
    "de": "Heute sprechen wir über den Wasserkreislauf. Der Regen fällt auf die Berge, fließt in die Flüsse und "
    "weiter ins Meer. Bitte schlagt eure Bücher auf Seite zweiundvierzig auf.",
    "fr": "Aujourd'hui nous parlons du cycle de l'eau. La pluie tombe sur les collines, coule dans les rivières et "
    "rejoint la mer. Ouvrez vos livres à la page quarante-deux, s'il vous plaît.",
    "es": "Hoy hablamos del ciclo del agua. La lluvia cae sobre las colinas, corre por los ríos y llega al mar. "
    "Abrid vuestros libros por la página cuarenta y dos, por favor.",
    "it": "Oggi parliamo del ciclo dell'acqua. La pioggia cade sulle colline, scorre nei fiumi e arriva al mare. "
    "Aprite i libri a pagina quarantadue, per favore.",
    "pt": "Hoje vamos falar do ciclo da água. A chuva cai nas colinas, corre pelos rios e chega ao mar. Abram os "
    "livros na página quarenta e dois, por favor.",
    "nl": "Vandaag praten we over de waterkringloop. De regen valt op de heuvels, stroomt in de rivieren en komt "
    "in de zee terecht. Sla je boek open op bladzijde tweeënveertig.",
    "pl": "Dzisiaj rozmawiamy o obiegu wody w przyrodzie. Deszcz pada na wzgórza, spływa do rzek i płynie do "
    "morza. Otwórzcie książki na stronie czterdziestej drugiej.",
    "sv": "Idag pratar vi om vattnets kretslopp. Regnet faller på kullarna, rinner ut i floderna och vidare till "
    "havet. Öppna era böcker på sidan fyrtiotvå.",
    "en-us": "Good morning everyone, and welcome back. Before we start, who can tell me what we learned last week "
    "about sound waves? Yes, exactly: sound travels as a wave through the air.",
}
FIT_VOICES = (
    ("en", "m1"),
    ("de", "f2"),
    ("fr", "m3"),
    ("es", "f4"),
    ("it", "klatt"),
    ("en", "f3"),
    ("de", "m5"),
    ("fr", "f1"),
    ("es", "m6"),
)
HELD_OUT_VOICES = (("pt", "m2"), ("nl", "f1"), ("pl", "m4"), ("sv", "f5"), ("en-us", "m7"), ("en-us", "f2"))
SPEEDS = (130, 175)
"""Words per minute: a slow and a brisk speaker."""


@dataclass(frozen=True)
class Item:
    """One labelled sound: made on demand (`make()` → mono float32 at 22050 Hz)."""

    name: str
    kind: str
    part: str
    make: Callable[[], np.ndarray]
    source: str = ""
    """Where it comes from (a corpus, a FLEURS language, a Freesound uploader, GTZAN's genre): the unit of the
    split and of the report."""
    condition: str = "clean"
    """How it is heard: "clean", "classroom" (`conditions.classroom`), "room" (`in_a_room`), "real room"
    (`real_room`: a measured room and a recorded noise bed)."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(text: str, voice: str, words_per_minute: int = 160, pitch: int = 50) -> np.ndarray:
    """`text` spoken by espeak-ng's `voice` (e.g. "en+m3"), as mono float32 at 22050 Hz."""
    result = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(words_per_minute), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return load_audio(result.stdout).samples


def _noise(colour: str, seconds: float, seed: int) -> np.ndarray:
    return conditions.coloured_noise(int(seconds * SAMPLE_RATE), colour, seed)


def synthetic_sound(kind: str, seed: int, seconds: float = 10.0) -> np.ndarray:
    """A non-music sound: "white", "pink", "brown" noise; "hum" (50/60-Hz mains with harmonics and hiss); "wind"
    (low-passed noise swelling and fading); "tone" (a steady test tone); "high tone" (one near the top of the
    band); "square" (a steady square wave, 50–400 Hz); "dc" (a constant offset with a little hiss); "sweep" (a
    rising sine); "clicks" (irregular clicks, like typing or a Geiger counter); "metronome" (regular clicks).
    Level and details vary with `seed`."""
    from scipy.signal import butter, chirp, sosfilt

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    level = float(rng.uniform(-40, -12))
    if kind in ("white", "pink", "brown"):
        return conditions.level(_noise(kind, seconds, seed), level)
    if kind == "hum":
        mains = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * mains * k * t) for k in range(1, 8))
        return conditions.level(x + 0.05 * _noise("pink", seconds, seed), level)
    if kind == "wind":
        cutoff = float(rng.uniform(300, 1500))
        gusts = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t + rng.uniform(0, 6)) ** 2
        body = sosfilt(butter(2, cutoff, fs=SAMPLE_RATE, output="sos"), _noise("white", seconds, seed))
        return conditions.level(body * gusts, level)
    if kind == "tone":
        return conditions.level(np.sin(2 * np.pi * rng.choice([440.0, 1000.0, 250.0]) * t), level)
    if kind == "high tone":
        return conditions.level(np.sin(2 * np.pi * rng.uniform(6000, 10500) * t), level)
    if kind == "square":
        return conditions.level(np.sign(np.sin(2 * np.pi * rng.uniform(50, 400) * t)), level)
    if kind == "dc":
        hiss = 10 ** (rng.uniform(-70, -40) / 20) * _noise("white", seconds, seed)
        return (rng.choice([-1.0, 1.0]) * 10 ** (level / 20) + hiss).astype(np.float32)
    if kind == "metronome":
        x = 0.001 * _noise("white", seconds, seed)
        period = int(SAMPLE_RATE * 60 / rng.uniform(60, 180))
        for start in range(0, len(x) - 256, period):
            x[start : start + 256] += np.exp(-np.arange(256) / 30) * np.sin(np.arange(256) * rng.uniform(0.3, 1.2))
        return conditions.level(x, level)
    if kind == "sweep":
        return conditions.level(
            chirp(t, rng.uniform(50, 200), seconds, rng.uniform(4000, 10000), method="logarithmic"), level
        )
    if kind == "clicks":
        x = np.zeros_like(t)
        times = np.cumsum(rng.exponential(1 / rng.uniform(3, 15), size=int(seconds * 20)))
        for start in (times[times < seconds - 0.01] * SAMPLE_RATE).astype(int):
            x[start : start + 64] += rng.uniform(0.3, 1) * np.exp(-np.arange(64) / 8) * rng.choice([-1, 1])
        return conditions.level(x + 0.01 * _noise("white", seconds, seed), level)
    raise ValueError(f"unknown synthetic sound {kind!r}")


SYNTHETIC_KINDS = (
    "white",
    "pink",
    "brown",
    "hum",
    "wind",
    "tone",
    "high tone",
    "square",
    "dc",
    "sweep",
    "clicks",
    "metronome",
)


def solo_melody(seed: int, seconds: float = 12.0) -> np.ndarray:
    """A solo instrument playing a tune: phrases of notes from a pentatonic scale with rests of one to four beats
    between them, each note a few harmonics (a flute's few to a brass instrument's many) under an attack-decay
    envelope, with vibrato, a breathy attack and uneven loudness; dry or in a room. GTZAN has few solo lines; a
    gate fitted without them flags a lone trumpet."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / rng.uniform(60, 140)
    root = rng.uniform(140, 500)
    scale = root * 2 ** (np.array([0, 2, 4, 7, 9, 12, 14, 16]) / 12)
    harmonics = int(rng.integers(2, 12))
    breath = _noise("pink", seconds, seed)
    x = np.zeros(int(seconds * SAMPLE_RATE))
    t = 0.0
    while t < seconds - 1.0:
        for _ in range(int(rng.integers(3, 9))):  # a phrase
            length = beat * rng.choice([0.5, 1.0, 1.0, 2.0])
            start = int(t * SAMPLE_RATE)
            n = min(int(length * SAMPLE_RATE), len(x) - start)
            if n <= 0:
                break
            tt = np.arange(n) / SAMPLE_RATE
            f0 = rng.choice(scale) * (1 + 0.006 * np.sin(2 * np.pi * rng.uniform(4, 7) * tt))
            phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
            note = sum(np.sin(k * phase) / k ** rng.uniform(0.8, 1.6) for k in range(1, harmonics + 1))
            envelope = np.minimum(tt / 0.03, 1.0) * np.exp(-tt / max(length, 0.2))
            attack = 0.3 * breath[start : start + n] * np.exp(-tt / 0.05)
            x[start : start + n] += rng.uniform(0.4, 1.0) * (note * envelope + attack)
            t += length
        t += beat * rng.uniform(1.0, 4.0)  # a rest between phrases
    x = conditions.level(x, float(rng.uniform(-30, -15)))
    return conditions.room(x, 0.4, (5.0, 4.0, 3.0)) if seed % 3 == 0 else x


def _over(voice: np.ndarray, music: np.ndarray, db: float) -> np.ndarray:
    """`voice` over `music`, the music `db` below the voice (RMS), as long as the shorter of the two."""
    n = min(len(voice), len(music))
    v, m = voice[:n].astype(np.float64), music[:n].astype(np.float64)
    mixed = v + m * np.sqrt(np.mean(v**2) / max(np.mean(m**2), 1e-12)) * 10 ** (db / 20)
    return (mixed / max(1.0, np.abs(mixed).max() / 0.99)).astype(np.float32)


def in_a_room(samples: np.ndarray) -> np.ndarray:
    """Someone speaking in a classroom near the laptop: the room (RT60 0.6 s), its hum at 25 dB SNR, the laptop
    microphone's automatic gain, a 32-kbit/s codec. (Speech played through a phone speaker into pupils' babble,
    the music's classroom chain, is not what a teacher's voice goes through.)"""
    sound = conditions.room(samples, 0.6, (8.0, 7.0, 3.0))
    sound = conditions.add_noise(sound, conditions.pink_noise(len(sound), seed=conditions.SEED + 3), 25.0)
    return conditions.mp3(conditions.laptop_microphone(sound), 32)


def _loaded(path: Path) -> Callable[[], np.ndarray]:
    return lambda: load_audio(path).samples


# --- real recordings (../shared/sounds) ------------------------------------------------------------

SOUNDS_KINDS = {"speech": "speech", "other": "other", "noise": "other", "music": "music"}
"""The sounds folder's kinds → the gate's classes (a noise bed is an "other" sound); `ir/` holds rooms."""
_NAMED_SOURCES = (
    (r"fleurs-(\w+)-\d+", "FLEURS {}"),
    (r"vctk", "VCTK"),
    (r"librispeech", "LibriSpeech"),
    (r"cmu_arctic", "CMU ARCTIC"),
    (r"speechcommands", "Speech Commands"),
    (r"^sa_noise_rec", "spatialaudio room noise"),
    (r"^mirdata_(vocadito|medley_solos_db|tinysol|four_way_tabla)", "mirdata {}"),
    (r"openair_(.+)$", "OpenAIR {}"),
    (r"akrt_(.+)$", "AKRT {}"),
    (r"rir_clap", "seminar room clap"),
)
_EVIDENCE_SOURCES = (
    (r"freesound (\d+) (\S+)", "Freesound {1}"),
    (r"freesound\.org/people/([^/]+)/", "Freesound {0}"),
    (r"soundbible \d+ .*? by ([^,]+)", "SoundBible {0}"),
)
HELD_OUT_SOURCES = frozenset(
    {
        # speech: two FLEURS languages (three are fitted), and every corpus other than CMU ARCTIC
        "FLEURS fr",
        "FLEURS pt",
        "VCTK",
        "LibriSpeech",
        "Freesound davidbain",
        # sounds: half the Freesound uploaders, dogs, snoring, a storm and birds among them
        "Freesound hargissssound",
        "Freesound kijjaz",
        "Freesound gladkiy",
        "Freesound daddy_z",
        "Freesound MrAuralization",
        "Freesound GB01",
        "Freesound ted",
        "Freesound digifishmusic",
        "Freesound kvgarlic",
        # noise beds: the benchmark's held-out beds (mgc.conditions) and rain, waves, room noise
        "Freesound MirkaElina",
        "Freesound sagetyrtle",
        "Freesound klankbeeld",
        "Freesound alex36917",
        "Freesound Luftrum",
        "spatialaudio room noise",
        # music: the a cappella song, the solo notes, the tabla (only Medley-solos-DB's excerpt is fitted)
        "mirdata vocadito",
        "mirdata tinysol",
        "mirdata four_way_tabla",
        # rooms: the benchmark's held-out rooms (mgc.conditions)
        "OpenAIR st_andrews_church",
        "OpenAIR terrys_typing_room",
        "OpenAIR tyndall_bruce_monument",
        "OpenAIR spokane_womans_club",
    }
)
"""The sounds folder's sources the gate is judged on and never fitted on, chosen before any gate was fitted on
them: each kind keeps sources on both sides. The shipped examples are held out too (`labelled_set`)."""


@dataclass(frozen=True)
class Recording:
    """One file of the sounds folder: its path, kind (the folder: speech, other, noise, music, ir) and source."""

    path: Path
    kind: str
    source: str


def source_of(file: str, evidence: str = "") -> str:
    """The source of a sounds-folder file: its corpus, FLEURS language, dataset or room, or the Freesound or
    SoundBible uploader named in its licence evidence (`SOURCES.csv`)."""
    import re

    stem = Path(file).stem
    for pattern, name in _NAMED_SOURCES:
        if match := re.search(pattern, stem):
            return name.format(*match.groups())
    for pattern, name in _EVIDENCE_SOURCES:
        if match := re.search(pattern, evidence):
            return name.format(*match.groups())
    return stem


def recordings(sounds: Path | None) -> list[Recording]:
    """Every file `SOURCES.csv` of the sounds folder lists (none where the folder is absent)."""
    import csv

    listing = Path(sounds) / "SOURCES.csv" if sounds else None
    if listing is None or not listing.is_file():
        return []
    with open(listing, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        Recording(Path(sounds) / row["file"], row["kind"], source_of(row["file"], row["licence_evidence"]))
        for row in rows
        if (Path(sounds) / row["file"]).is_file()
    ]


def _read(path: Path) -> np.ndarray:
    """Any file of the sounds folder as mono float32 at 22050 Hz (impulse responses are shorter than the second
    `load_audio` asks of an upload)."""
    import soundfile
    import soxr

    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    return (mono if rate == SAMPLE_RATE else soxr.resample(mono, rate, SAMPLE_RATE, "HQ")).astype(np.float32)


def real_room(samples: np.ndarray, room: Path, bed: Path, snr_db: float, start: float = 0.0) -> np.ndarray:
    """`samples` played in a measured room (`room`, an impulse response from its direct sound on, at the same
    loudness) with a recorded noise bed (`bed`, from `start` of the way through it, repeated as needed) at
    `snr_db`."""
    from scipy.signal import fftconvolve

    x = np.asarray(samples, dtype=np.float64)
    response = _read(room).astype(np.float64)
    response = response[max(0, int(np.argmax(np.abs(response))) - SAMPLE_RATE // 1000) :]
    wet = fftconvolve(x, response)[: len(x)]
    wet *= np.sqrt(np.mean(x**2) / max(np.mean(wet**2), 1e-18))
    noise = _read(bed)
    noise = np.take(noise, np.arange(len(x)) + int(start * len(noise)), mode="wrap")
    return conditions.add_noise(wet.astype(np.float32), noise, snr_db)


def _seeded(name: str) -> np.random.Generator:
    import zlib

    return np.random.default_rng(zlib.crc32(name.encode()))


def _heard(name: str, kind: str, part: str, source: str, make, ways, rooms, beds) -> list[Item]:
    """An item clean and in each of `ways` ("classroom", "room", "real room": a room and a bed of its part, drawn
    from the item's name, at 10–20 dB SNR)."""
    items = [Item(name, kind, part, make, source, "clean")]
    for how in ways:
        if how == "classroom":
            heard = lambda m=make: conditions.classroom(m())  # noqa: E731
        elif how == "room":
            heard = lambda m=make: in_a_room(m())  # noqa: E731
        elif rooms and beds:
            rng = _seeded(name)
            room, bed = rooms[rng.integers(len(rooms))], beds[rng.integers(len(beds))]
            snr, start = float(rng.uniform(10, 20)), float(rng.random())
            heard = lambda m=make, r=room, b=bed, s=snr, t=start: real_room(m(), r, b, s, t)  # noqa: E731
        else:
            continue
        items.append(Item(f"{name} ({how})", kind, part, heard, source, how))
    return items


WAYS = {
    "music": ("classroom", "real room"),
    "speech": ("room", "real room"),
    "other": ("classroom", "real room"),
}
"""How each kind of real recording is heard besides clean: music played from a phone into a classroom, or in a
measured room with a recorded noise bed; speech said in a room near the laptop, or in a measured room with a bed;
other sounds through the classroom chain or in a measured room."""


def labelled_set(
    data=None, excerpts: Path | None = None, speech: bool | None = None, sounds: Path | None = None
) -> list[Item]:
    """Every item of the recipe that this machine can make. `data` is the GTZAN folder (its clips with audio are
    the GTZAN music); `excerpts` the folder of short GTZAN excerpts (default: `gtzan-excerpts` beside it);
    `speech` whether to synthesise speech (default: when espeak-ng is installed); `sounds` the folder of real
    recordings (default: `sounds` beside the GTZAN folder)."""
    dataset = GTZAN(data)
    excerpts = excerpts if excerpts is not None else dataset.root.parent / "gtzan-excerpts"
    sounds = sounds if sounds is not None else dataset.root.parent / "sounds"
    speech = espeak_available() if speech is None else speech
    real = recordings(sounds)
    part_of = {r.source: HELD_OUT if r.source in HELD_OUT_SOURCES else FIT for r in real}
    rooms = {
        p: [r.path for r in real if r.kind == "ir" and part_of[r.source] == p and "AKRT" not in r.source]
        for p in (FIT, HELD_OUT)
    }
    beds = {p: [r.path for r in real if r.kind == "noise" and part_of[r.source] == p] for p in (FIT, HELD_OUT)}
    items: list[Item] = []

    def add(name, kind, part, source, make, ways=()):
        items.extend(_heard(name, kind, part, source, make, ways, rooms[part], beds[part]))

    fitted_tracks = set(random_split(dataset.tracks).part("train"))
    audio = dataset.audio
    for i, (track, path) in enumerate(audio.items()):
        part = FIT if track in fitted_tracks else HELD_OUT
        # a held-out clip is heard every way; a fitted one clean and, every other clip, one other way in turn
        # (measuring takes a while)
        ways = WAYS["music"] if part == HELD_OUT else WAYS["music"][i % 4 // 2 :][:1] if i % 2 else ()
        add(f"gtzan/{track}", "music", part, f"GTZAN {genre_of(track)}", _loaded(path), ways)
    for path in sorted(excerpts.glob("*/*.flac")) if excerpts.is_dir() else []:
        part = FIT if path.stem in fitted_tracks else HELD_OUT
        if part == FIT:
            continue  # the fitted tracks' whole clips are in the set (measuring takes a while)
        add(f"excerpt/{path.stem}", "music", part, f"GTZAN excerpts {path.parent.name}", _loaded(path))
    for seed in range(12):
        add(
            f"synthetic/melody/{seed}",
            "music",
            FIT if seed % 2 == 0 else HELD_OUT,
            "synthetic melody",
            lambda s=seed: solo_melody(s),
        )
    for example in EXAMPLES:
        kind = {"music": "music", "speech": "speech", "animal": "other"}[example.kind]
        source = "LibriSpeech" if kind == "speech" else f"example {example.id}"
        add(f"example/{example.id}", kind, HELD_OUT, source, _loaded(example.file), WAYS[kind])
    for recording in real:
        if recording.kind in SOUNDS_KINDS:
            kind = SOUNDS_KINDS[recording.kind]
            name = f"sounds/{recording.kind}/{recording.path.stem}"
            add(name, kind, part_of[recording.source], recording.source, _loaded(recording.path), WAYS[kind])

    if speech:
        for part, voices in ((FIT, FIT_VOICES), (HELD_OUT, HELD_OUT_VOICES)):
            for language, variant in voices:
                for speed in SPEEDS:
                    voice = f"{language}+{variant}"

                    def said(language=language, voice=voice, speed=speed):
                        return espeak(SPEECH_TEXTS[language], voice, speed, pitch=40 + speed % 30)

                    add(f"espeak/{voice}/{speed}", "speech", part, f"espeak-ng {language}", said)

    for kind in SYNTHETIC_KINDS:
        for seed in range(2):
            part = FIT if seed % 2 == 0 else HELD_OUT
            add(
                f"synthetic/{kind}/{seed}",
                "other",
                part,
                f"synthetic {kind}",
                lambda k=kind, s=seed: synthetic_sound(k, s),
                ("classroom", "room"),
            )

    held_out_music = [path for track, path in audio.items() if track not in fitted_tracks][:6]
    voices = [r.path for r in real if r.kind == "speech" and part_of[r.source] == HELD_OUT][::7][:3]
    voices = voices or [e.file for e in EXAMPLES if e.kind == "speech"]
    for i, music in enumerate(held_out_music):
        voice = voices[i % len(voices)]
        for db in (-6.0, -12.0):
            items.append(
                Item(
                    f"mix/{music.stem} under {Path(voice).stem} at {db:.0f} dB",
                    "speech over music",
                    HELD_OUT,
                    lambda m=music, v=voice, d=db: _over(load_audio(v).samples, load_audio(m).samples, d),
                    "speech over music",
                )
            )
    return items
