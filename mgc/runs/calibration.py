"""Calibrated probabilities: what a run's "80 %" means is how often it is right when it says 80 %.

Networks trained with mixup and label smoothing say less than they know; others say more. Each run has a
**temperature** T fitted on its split's valid part (`mgc.evaluate.calibration`, written by `evaluate` to the
run's `calibration.json`): its probabilities p become softmax(log p / T) — the same answer (the order of the
genres never changes), honest confidence. An ensemble is calibrated as a whole, on its combined answer; its
members are combined as they are.

The same file holds the run's **unsure margin**: when the calibrated top two genres are closer than this, the
top answer is right less than half the time on the valid part, and the result says "not sure: X or Y".
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .checkpoints import CALIBRATION_FILE, read_json, run_dir


@dataclass(frozen=True)
class Calibration:
    temperature: float = 1.0
    unsure_margin: float = 0.0
    """Top-two margin (calibrated probabilities) under which the top genre is more often wrong than right."""
    fitted: bool = False
    """False for a run evaluated before calibration existed: its probabilities are shown as they are."""


def calibrate(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) along the last axis: T > 1 softens, T < 1 sharpens, the order of the classes stays."""
    p = np.asarray(probabilities, dtype=np.float64)
    if temperature == 1.0:
        return p
    logits = np.log(np.clip(p, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def calibration_of(model: str, split: str, root: Path | None = None) -> Calibration:
    """The run's calibration (read once per change of its file); an uncalibrated `Calibration()` when it has none."""
    return calibration_in(run_dir(model, split, root))


def calibration_in(folder: Path) -> Calibration:
    """The calibration of the run in `folder` (`calibration_of`, for a run already resolved: `Run.calibration`)."""
    path = Path(folder) / CALIBRATION_FILE
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return Calibration()
    return _read(str(path), mtime)


@lru_cache(maxsize=64)
def _read(path: str, mtime: float) -> Calibration:
    saved = read_json(Path(path))
    return Calibration(float(saved["temperature"]), float(saved.get("unsure_margin", 0.0)), True)
