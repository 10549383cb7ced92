"""Trained runs: where they live and how they load (`checkpoints`), ensembles of them (`ensembles`), and
applying any of them to audio or dataset tracks through its family's front end (`outputs`).

A run is one model trained on one split, in `checkpoints/<model>/<split>/`; an ensemble is a run whose
folder holds a recipe instead of weights.
"""

from .checkpoints import (
    available_runs,
    checkpoints_root,
    load_model,
    load_picture_model,
    read_json,
    run_dir,
    trained_models,
    write_json,
)
from .ensembles import is_ensemble, load_ensemble
from .run import Run, locate, resolve
from .table import RUNS, TABLE, Row, default_run, is_ensemble_name

__all__ = [
    "RUNS",
    "TABLE",
    "Row",
    "Run",
    "available_runs",
    "checkpoints_root",
    "default_run",
    "is_ensemble",
    "is_ensemble_name",
    "load_ensemble",
    "load_model",
    "load_picture_model",
    "locate",
    "read_json",
    "resolve",
    "run_dir",
    "trained_models",
    "write_json",
]
