"""A run resolved once: its name, split and folder, its row in `mgc.runs.table`, its weights or ensemble recipe, its
calibration, and a reading API for the files `train`, `evaluate` and `robustness` leave in its folder.

`resolve(name, split)` finds the folder and reads what says what the run is (an ensemble's recipe, each member
resolved in turn); what a caller then needs — the loaded model, the calibration, the metrics — is read through the
`Run`, not looked up again by name. The app and the CLI read a run's files only through it (`metrics()`,
`predictions()`, `history()`, `training()`, `robustness()`), so the files' names live in `mgc.runs.checkpoints`
alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..data.gtzan import GENRES
from ..errors import CheckpointError
from .calibration import Calibration, calibration_in
from .checkpoints import (
    EMBEDDING_MAP_FILE,
    ENSEMBLE_FILE,
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    ROBUSTNESS_FILE,
    TRAINING_FILE,
    checkpoints_root,
    load_model,
    read_json,
)
from .ensembles import Ensemble, load_ensemble
from .table import TABLE, Row

FILES: dict[str, str] = {
    "weights": MODEL_FILE,
    "ensemble": ENSEMBLE_FILE,
    "history": HISTORY_FILE,
    "training": TRAINING_FILE,
    "predictions": PREDICTIONS_FILE,
    "metrics": METRICS_FILE,
    "robustness": ROBUSTNESS_FILE,
    "embedding map": EMBEDDING_MAP_FILE,
}
"""What a run folder may hold, by the name its reader goes by → the file."""


@dataclass(eq=False)
class Run:
    """One trained run of one split (see the module's docstring); make it with `resolve`."""

    name: str
    split: str
    folder: Path
    root: Path = field(repr=False)

    @property
    def row(self) -> Row | None:
        """Its row in `mgc.runs.table`; None for a folder the table does not name (a run trained under another name)."""
        return TABLE.get(self.name)

    @property
    def is_ensemble(self) -> bool:
        return self.path("ensemble").is_file()

    @property
    def weights(self) -> Path:
        return self.path("weights")

    @cached_property
    def ensemble(self) -> Ensemble | None:
        """An ensemble's rule and members (read once); None for a single model."""
        return load_ensemble(self.name, self.split, self.root) if self.is_ensemble else None

    @cached_property
    def members(self) -> tuple[Run, ...]:
        """An ensemble's members, each resolved; () for a single model."""
        return tuple(self.other(member) for member in self.ensemble.members) if self.ensemble else ()

    def other(self, name: str) -> Run:
        """Run `name` of the same split, beside this one (an ensemble's member, the picture run a hybrid reads)."""
        return Run(name, self.split, self.root / name / self.split, self.root)

    def load(self):
        """The trained model and its saved record (`mgc.runs.checkpoints.load_model`: cached per file)."""
        return load_model(self.name, self.split, self.root)

    def calibration(self) -> Calibration:
        """Its temperature and unsure margin (`mgc.runs.calibration`); uncalibrated when it has none."""
        return calibration_in(self.folder)

    def path(self, what: str) -> Path:
        """The file `what` ("metrics", "predictions", … : `FILES`) in its folder, there or not."""
        return self.folder / FILES[what]

    def modified(self, what: str) -> float | None:
        """When the file `what` was last written (seconds since the epoch), or None when it is not there."""
        try:
            return os.stat(self.path(what)).st_mtime
        except OSError:
            return None

    def has(self, what: str) -> bool:
        return self.path(what).is_file()

    def metrics(self) -> dict:
        """Its test scores (`CheckpointError` when it has not been evaluated, or the file is damaged)."""
        return read_json(self.path("metrics"))

    def predictions(self):
        """Its test tracks' predictions as a DataFrame (track, genre, predicted, one column per genre)."""
        path = self.path("predictions")
        table = _read_csv(path)
        columns = ["genre", "predicted", *GENRES]
        # A file cut short still parses: its last row has a cut label and no probabilities.
        if (
            not set(columns) <= set(table)
            or table[columns].isna().any().any()
            or not table["predicted"].isin(GENRES).all()
        ):
            raise CheckpointError(f"{path} is damaged (cut short or edited): evaluate that run again")
        return table

    def history(self):
        """Its loss and accuracy per epoch as a DataFrame, or None when it has none (an ensemble)."""
        return _read_csv(self.path("history")) if self.has("history") else None

    def training(self) -> dict:
        """How it was trained, or {} when it has no record."""
        return read_json(self.path("training")) if self.has("training") else {}

    def robustness(self) -> dict | None:
        """Its accuracy under listening conditions, or None when that has not been measured."""
        return read_json(self.path("robustness")) if self.has("robustness") else None


def _read_csv(path: Path):
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:  # EmptyDataError, UnicodeDecodeError: ValueErrors
        raise CheckpointError(f"{path} is damaged or unreadable ({error}): evaluate that run again") from None


def locate(name: str, split: str, root: Path | None = None) -> Run:
    """Run `name` of `split` by its folder alone, nothing read yet: for reading its files (`Run.metrics()` …)."""
    root = Path(root or checkpoints_root())
    return Run(name, split, root / name / split, root)


def resolve(name: str, split: str, root: Path | None = None) -> Run:
    """Run `name` of `split`, checked to be usable: an ensemble's recipe read and each member's weights found, a
    single model's weights loaded (a missing or stale checkpoint is reported here, before any audio is read).
    `CheckpointError` saying how to train it otherwise."""
    run = locate(name, split, root)
    for single in run.members or (run,):
        single.load()
    return run
