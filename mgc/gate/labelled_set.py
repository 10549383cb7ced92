"""The gate's labelled set, built by a recipe rather than stored: music, speech, other sounds, and speech over music.

* **music** — every GTZAN clip with audio in the data folder (all ten genres, rap and solo instruments included),
  clean and through the classroom chain (`mgc.conditions.classroom`: how a laptop hears a phone playing it); the
  short GTZAN excerpts beside the data folder (2–3 s, what a short recording gives); the shipped music examples;
  synthesised solo tunes (`solo_melody`: GTZAN has few lone instruments).
* **speech** — the shipped audiobook readings (LibriSpeech), and speech synthesised with `espeak-ng` in several
  languages, voices, speeds and pitches; each clean and as spoken in a classroom near the laptop (`in_a_room`).
* **other** — the shipped animal recordings (a robin, a humpback whale), and synthesised noises (white, pink,
  brown, mains hum, wind-like), tones, sweeps and clicks at several levels; each clean, recorded in a room
  (`in_a_room`) and played through the classroom chain.
* **speech over music** — a voice over a song at −6 and −12 dB (a radio host): reported, never fitted, since either
  answer is defensible.

Each item belongs to the **fit** part (where the gate's weights and threshold are chosen) or the **held-out**
part (where it is judged). GTZAN clips follow the random split (its train part is fitted, the rest held out);
synthesised speech is held out by language and voice (the held-out languages are never heard in fitting); every
real recording that is not GTZAN — audiobooks, animals, the music examples — is held out.
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
from ..data.gtzan import GTZAN, random_split

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
    (low-passed noise swelling and fading); "tone" (a steady test tone); "sweep" (a rising sine); "clicks"
    (irregular clicks, like typing or a Geiger counter). Level and details vary with `seed`."""
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


SYNTHETIC_KINDS = ("white", "pink", "brown", "hum", "wind", "tone", "sweep", "clicks")


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


def labelled_set(data=None, excerpts: Path | None = None, speech: bool | None = None) -> list[Item]:
    """Every item of the recipe that this machine can make. `data` is the GTZAN folder (its clips with audio are
    the GTZAN music); `excerpts` the folder of short GTZAN excerpts (default: `gtzan-excerpts` beside it);
    `speech` whether to synthesise speech (default: when espeak-ng is installed)."""
    dataset = GTZAN(data)
    excerpts = excerpts if excerpts is not None else dataset.root.parent / "gtzan-excerpts"
    speech = espeak_available() if speech is None else speech
    items: list[Item] = []

    fitted_tracks = set(random_split(dataset.tracks).part("train"))
    audio = dataset.audio
    for track, path in audio.items():
        part = FIT if track in fitted_tracks else HELD_OUT
        items.append(Item(f"gtzan/{track}", "music", part, _loaded(path)))
        items.append(
            Item(
                f"gtzan/{track} (classroom)", "music", part, lambda p=path: conditions.classroom(load_audio(p).samples)
            )
        )
    for i, path in enumerate(sorted(excerpts.glob("*/*.flac")) if excerpts.is_dir() else []):
        items.append(Item(f"excerpt/{path.stem}", "music", FIT if i % 2 == 0 else HELD_OUT, _loaded(path)))
    for seed in range(12):
        items.append(
            Item(f"synthetic/melody/{seed}", "music", FIT if seed % 2 == 0 else HELD_OUT, lambda s=seed: solo_melody(s))
        )
    for example in EXAMPLES:
        kind = {"music": "music", "speech": "speech", "animal": "other"}[example.kind]
        items.append(Item(f"example/{example.id}", kind, HELD_OUT, _loaded(example.file)))
        ways = {"music": ("classroom",), "speech": ("room",), "other": ("classroom", "room")}[kind]
        for how in ways:
            heard = conditions.classroom if how == "classroom" else in_a_room
            items.append(
                Item(
                    f"example/{example.id} ({how})",
                    kind,
                    HELD_OUT,
                    lambda f=example.file, h=heard: h(load_audio(f).samples),
                )
            )

    if speech:
        for part, voices in ((FIT, FIT_VOICES), (HELD_OUT, HELD_OUT_VOICES)):
            for language, variant in voices:
                for speed in SPEEDS:
                    voice = f"{language}+{variant}"

                    def said(language=language, voice=voice, speed=speed):
                        return espeak(SPEECH_TEXTS[language], voice, speed, pitch=40 + speed % 30)

                    items.append(Item(f"espeak/{voice}/{speed}", "speech", part, said))
                    items.append(Item(f"espeak/{voice}/{speed} (room)", "speech", part, lambda s=said: in_a_room(s())))

    for kind in SYNTHETIC_KINDS:
        for seed in range(4):
            part = FIT if seed % 2 == 0 else HELD_OUT
            items.append(Item(f"synthetic/{kind}/{seed}", "other", part, lambda k=kind, s=seed: synthetic_sound(k, s)))
            for how, heard in (("classroom", conditions.classroom), ("room", in_a_room)):
                items.append(
                    Item(
                        f"synthetic/{kind}/{seed} ({how})",
                        "other",
                        part,
                        lambda k=kind, s=seed, h=heard: h(synthetic_sound(k, s)),
                    )
                )

    held_out_music = [path for track, path in audio.items() if track not in fitted_tracks][:6]
    voices = [e.file for e in EXAMPLES if e.kind == "speech"]
    for i, music in enumerate(held_out_music):
        voice = voices[i % len(voices)]
        for db in (-6.0, -12.0):
            items.append(
                Item(
                    f"mix/{music.stem} under {Path(voice).stem} at {db:.0f} dB",
                    "speech over music",
                    HELD_OUT,
                    lambda m=music, v=voice, d=db: _over(load_audio(v).samples, load_audio(m).samples, d),
                )
            )
    return items
