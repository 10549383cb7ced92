"""The GTZAN dataset: where it lies, which tracks it holds, and how they are split.

One place knows the genre list, the folder layout (Kaggle's "GTZAN Dataset - Music Genre
Classification") and the two splits. Everything is by *track*: a track is never in two parts of
a split, whatever representation or windowing a model uses later.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError

GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
SPLIT_NAMES: tuple[str, ...] = ("random", "filtered")
PARTS: tuple[str, ...] = ("train", "valid", "test")
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".au", ".mp3", ".ogg", ".opus", ".m4a")
RANDOM_SPLIT_SEED = 42
REPO_ROOT = Path(__file__).resolve().parents[2]

_TRACK = re.compile(r"^(?P<genre>[a-z]+)\.?(?P<number>\d{5})$")


def track_id(name: str) -> str:
    """Normalise any GTZAN file name (`blues.00012.wav`, `blues00012.png`, `blues/blues.00012`) to `blues.00012`."""
    stem = Path(name).name
    for ext in (".png", *AUDIO_EXTENSIONS):
        if stem.endswith(ext):
            stem = stem[: -len(ext)]
    match = _TRACK.match(stem)
    if not match or match["genre"] not in GENRES:
        raise DatasetError(f"{name!r} is not a GTZAN track name (expected e.g. 'blues.00012.wav')")
    return f"{match['genre']}.{match['number']}"


def genre_of(track: str) -> str:
    """The genre a GTZAN track id belongs to."""
    return track.split(".")[0]


def shared_folder(variable: str, name: str) -> Path | None:
    """A data folder's setting: `$variable`, else `../shared/<name>` beside the repository when it exists, else None
    (the GTZAN folder: `default_data_dir`; the real rooms and noise: `mgc.conditions.default_sounds_dir`)."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    candidate = REPO_ROOT.parent / "shared" / name
    return candidate if candidate.is_dir() else None


def default_data_dir() -> Path | None:
    """`$MGC_DATA`, else `../shared/gtzan` beside the repository when it exists, else None."""
    return shared_folder("MGC_DATA", "gtzan")


@dataclass(frozen=True)
class Split:
    """Track ids of the train, valid and test parts of one split."""

    name: str
    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]

    def part(self, name: str) -> tuple[str, ...]:
        """The tracks of part `name` (train, valid or test)."""
        if name not in PARTS:
            raise ValueError(f"unknown part {name!r}; use one of {PARTS}")
        return getattr(self, name)


class GTZAN:
    """A GTZAN folder in the Kaggle layout; parts may be missing, and say so when asked for.

    Layout: `genres_original/<genre>/<genre>.000NN.<audio ext>`, `images_original/<genre>/<genre>000NN.png`,
    `features_30_sec.csv`, optional `features_3_sec.csv`, optional `splits/{train,valid,test}_filtered.txt`.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        root = Path(root) if root is not None else default_data_dir()
        if root is None:
            raise DatasetError(
                "no GTZAN folder given: pass --data DIR or set MGC_DATA (the Kaggle layout, "
                "with images_original/, genres_original/ and features_30_sec.csv)"
            )
        if not root.is_dir():
            raise DatasetError(f"the GTZAN folder {root} does not exist")
        self.root = root

    def __repr__(self) -> str:
        return f"GTZAN({str(self.root)!r})"

    @cached_property
    def pictures(self) -> dict[str, Path]:
        """Track id → Kaggle mel-spectrogram PNG, for the tracks that have one."""
        return self._files("images_original", (".png",))

    @cached_property
    def audio(self) -> dict[str, Path]:
        """Track id → audio file, for the tracks that have one."""
        return self._files("genres_original", AUDIO_EXTENSIONS)

    def _files(self, folder: str, extensions: tuple[str, ...]) -> dict[str, Path]:
        found: dict[str, Path] = {}
        base = self.root / folder
        if not base.is_dir():
            return found
        for genre in GENRES:
            for path in sorted((base / genre).glob("*")):
                if path.suffix.lower() in extensions:
                    try:
                        found[track_id(path.name)] = path
                    except DatasetError:
                        continue
        return found

    @cached_property
    def features(self) -> pd.DataFrame:
        """Kaggle's `features_30_sec.csv`, indexed by track id."""
        path = self.root / "features_30_sec.csv"
        if not path.is_file():
            raise DatasetError(f"{path} is missing: the tabular features come from Kaggle's features_30_sec.csv")
        table = pd.read_csv(path)
        table.index = [track_id(name) for name in table["filename"]]
        return table

    @cached_property
    def tracks(self) -> tuple[str, ...]:
        """Every track the folder knows of (from the feature table, pictures and audio), sorted."""
        known = set(self.pictures) | set(self.audio)
        if (self.root / "features_30_sec.csv").is_file():
            known |= set(self.features.index)
        if not known:
            raise DatasetError(
                f"{self.root} holds no GTZAN tracks: expected images_original/, genres_original/ "
                "or features_30_sec.csv in the Kaggle layout"
            )
        return tuple(sorted(known))

    def describe(self) -> str:
        """A short account of what the folder holds and lacks, for people."""
        lines = [f"GTZAN folder {self.root}"]
        lines.append(f"  tracks known: {len(self.tracks)}")
        lines.append(f"  mel pictures: {len(self.pictures)}")
        lines.append(f"  audio files:  {len(self.audio)}")
        has_csv = (self.root / "features_30_sec.csv").is_file()
        lines.append(f"  features_30_sec.csv: {'yes' if has_csv else 'MISSING'}")
        lines.append(f"  fault-filtered split lists: {'yes' if self.has_filtered_split else 'MISSING'}")
        return "\n".join(lines)

    @property
    def has_filtered_split(self) -> bool:
        return all((self.root / "splits" / f"{part}_filtered.txt").is_file() for part in PARTS)

    def split(self, name: str) -> Split:
        """The `random` or `filtered` split of this folder's tracks."""
        if name == "random":
            return random_split(self.tracks)
        if name == "filtered":
            return fault_filtered_split(self.root / "splits")
        raise DatasetError(f"unknown split {name!r}; use one of {SPLIT_NAMES}")


def random_split(tracks: tuple[str, ...] | list[str], seed: int = RANDOM_SPLIT_SEED) -> Split:
    """Stratified by genre, 70/10/20 train/valid/test by track, with a fixed seed.

    On the full 1000 tracks this gives 700/100/200 with 20 test tracks per genre, the protocol of
    the CRNN seed (77 % on 200 test tracks).
    """
    from sklearn.model_selection import train_test_split

    tracks = sorted(tracks)
    labels = [genre_of(t) for t in tracks]
    rest, test = train_test_split(tracks, test_size=0.2, stratify=labels, random_state=seed)
    rest_labels = [genre_of(t) for t in rest]
    train, valid = train_test_split(rest, test_size=0.125, stratify=rest_labels, random_state=seed)
    return Split("random", tuple(sorted(train)), tuple(sorted(valid)), tuple(sorted(test)))


def fault_filtered_split(folder: str | os.PathLike) -> Split:
    """The artist-conscious fault-filtered split of Kereliuk, Sturm & Larsen (2015): 443/197/290 tracks."""
    folder = Path(folder)
    parts = {}
    for part in PARTS:
        path = folder / f"{part}_filtered.txt"
        if not path.is_file():
            raise DatasetError(
                f"{path} is missing: the fault-filtered split needs splits/train_filtered.txt, "
                "valid_filtered.txt and test_filtered.txt"
            )
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
        parts[part] = tuple(sorted(track_id(line) for line in lines))
    return Split("filtered", parts["train"], parts["valid"], parts["test"])


def labels_of(tracks) -> np.ndarray:
    """Genre indices (into GENRES) of track ids."""
    return np.array([GENRES.index(genre_of(t)) for t in tracks], dtype=np.int64)
