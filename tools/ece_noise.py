"""How finely can a test part's ECE be read? For each evaluated run: its calibrated test ECE, and the ECEs a
perfectly calibrated model with the same confidences shows on as many tracks (`honest_model_eces`, 2000 draws):
their median and 95th percentile, the share of them at or under a goal (default 0.05), and the share at or above
the measured one (how usual the run's ECE is for a calibrated model: small means miscalibrated).

    python tools/ece_noise.py [--goal 0.05] [--models crnn cnn ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc.data.gtzan import GENRES
from mgc.evaluate.calibration import expected_calibration_error, honest_model_eces
from mgc.runs.checkpoints import run_dir, trained_models


def noise_row(model: str, split: str, goal: float, draws: int = 2000) -> dict | None:
    predictions = run_dir(model, split) / "predictions.csv"
    if not predictions.is_file():
        return None
    table = pd.read_csv(predictions)
    probabilities = table[list(GENRES)].to_numpy(dtype=np.float64)
    labels = np.array([GENRES.index(genre) for genre in table["genre"]])
    measured = expected_calibration_error(labels, probabilities)
    honest = honest_model_eces(probabilities, draws)
    return {
        "model": model,
        "split": split,
        "tracks": len(labels),
        "ECE": round(measured, 3),
        "calibrated model: median": round(float(np.median(honest)), 3),
        "p95": round(float(np.percentile(honest, 95)), 3),
        f"share <= {goal}": round(float((honest <= goal).mean()), 2),
        "share >= measured": round(float((honest >= measured).mean()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", type=float, default=0.05)
    parser.add_argument("--models", nargs="*", default=None)
    args = parser.parse_args()
    rows = []
    for split in ("random", "filtered"):
        for model in args.models or trained_models(split):
            row = noise_row(model, split, args.goal)
            if row is not None:
                rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
