"""The example recordings that ship with the app: openly licensed, none from GTZAN (`examples/` at the root).

They are what a visitor of the hosted page can try with one click, where the dataset is absent: music of
several styles, speech, a bird and a whale. `examples/CREDITS.md` holds the licences and sources; each
`Example` carries the one-line credit the app shows under its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .gtzan import REPO_ROOT

EXAMPLES_DIR = REPO_ROOT / "examples"
KINDS: dict[str, str] = {"music": "Music", "speech": "Speech", "animal": "Not music: animals"}
"""Kind → heading, in the order the gallery shows them."""
ICONS: dict[str, str] = {
    "music": ":material/music_note:",
    "speech": ":material/record_voice_over:",
    "animal": ":material/pets:",
}
"""Kind → the Material icon the app's buttons show (written as Streamlit names icons)."""


@dataclass(frozen=True)
class Example:
    """One shipped recording: a stable id (used in links), its name, kind, file and credit."""

    id: str
    name: str
    kind: str
    """"music", "speech" or "animal" (keys of `KINDS`)."""
    file_name: str
    credit: str
    """Who made it, where it comes from, and its licence: shown with every result of this example."""
    catalogued_as: str = ""
    """The source's own genre word (a sampler's name, an archive's label); not a GTZAN label."""

    @property
    def file(self) -> Path:
        return EXAMPLES_DIR / self.file_name


# In the order a class should meet them: the first music buttons are ones Classify's default model (musicnn-gru,
# the measured rule's choice) is sure of and right about — the jazz trumpet and Vibe Ace, jazz at 98-99 %; then
# Brahms, classical at 65 %, a right answer held with less certainty, after the class has seen what a confident one
# looks like; last the two it answers, less surely, otherwise than their sources file them (Let's Go Fishin' pop
# 67 %, not country/folk; MacLeod's Sugar Plum Fairy jazz 77 %, not classical). Checked with
# `tests/test_app.py -k gallery_opens` when the default model changes.
EXAMPLES: tuple[Example, ...] = (
    Example(
        "trumpet",
        "Jazz trumpet, solo",
        "music",
        "sorohanro_-_solo-trumpet-06.ogg",
        "Mihai Sorohan (sorohanro), jazz trumpet loop in F, 90 bpm. freesound.org/s/77711. CC BY 3.0.",
        "jazz (a solo instrument)",
    ),
    Example(
        "vibe-ace",
        "Kevin MacLeod: Vibe Ace",
        "music",
        "Kevin_MacLeod_-_Vibe_Ace.ogg",
        "Kevin MacLeod, Vibe Ace (Jazz Sampler). Free Music Archive. CC BY 3.0.",
        "jazz",
    ),
    Example(
        "brahms",
        "Brahms: Hungarian Dance No. 5",
        "music",
        "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg",
        "Brahms, Hungarian Dance No. 5, played by the US Army Strings. Musopen. Public domain.",
        "classical",
    ),
    Example(
        "lets-go-fishin",
        "Karissa Hobbs: Let's Go Fishin'",
        "music",
        "Karissa_Hobbs_-_Lets_Go_Fishin.ogg",
        "Karissa Hobbs, Let's Go Fishin' (Age of Flowers). Free Music Archive. CC BY 3.0.",
        "country/folk",
    ),
    Example(
        "sugar-plum-fairy",
        "Tchaikovsky: Sugar Plum Fairy",
        "music",
        "Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.ogg",
        "Kevin MacLeod, Dance of the Sugar Plum Fairy (Classical Sampler). Free Music Archive. CC BY 3.0.",
        "classical",
    ),
    Example(
        "sense-and-sensibility",
        "Reading: Sense and Sensibility",
        "speech",
        "198-209-0000.ogg",
        "Sense and Sensibility, ch. 18, read by Heather Barnett. LibriSpeech (OpenSLR 12). CC BY 4.0.",
    ),
    Example(
        "age-of-chivalry",
        "Reading: The Age of Chivalry",
        "speech",
        "3436-172162-0000.ogg",
        "The Age of Chivalry, ch. 18, read by Anders Lankford. LibriSpeech (OpenSLR 12). CC BY 4.0.",
    ),
    Example(
        "ashiel-mystery",
        "Reading: Ashiel Mystery",
        "speech",
        "5703-47212-0000.ogg",
        "Ashiel Mystery, ch. 2, read by Garth Comira. LibriSpeech (OpenSLR 12). CC BY 4.0.",
    ),
    Example(
        "robin",
        "A robin's call",
        "animal",
        "456440__inspectorj__bird-whistling-robin-single-13.ogg",
        "InspectorJ, Bird Whistling, Robin, Single, 13. freesound.org/s/456440. CC BY 3.0.",
    ),
    Example(
        "humpback-whale",
        "Humpback whale song",
        "animal",
        "glacier-bay-humpback.ogg",
        "Humpback whale song, Glacier Bay, recorded by Chris Gabriele (US National Park Service, 2020). Public domain.",
    ),
)


def example(example_id: str) -> Example | None:
    """The shipped example with this id, or None (an id from an old or edited link)."""
    return next((e for e in EXAMPLES if e.id == example_id), None)


def examples_of(kind: str) -> tuple[Example, ...]:
    """The shipped examples of one kind ("music", "speech", "animal"), in gallery order."""
    return tuple(e for e in EXAMPLES if e.kind == kind)
