#!/usr/bin/env python3
"""How far the per-epoch validation in bf16 mixed precision is from float32, on the shipped picture runs.

    python tools/validation_precision.py [--data DIR]

`mgc.train.pictures.train_picture_model` validates each epoch in the precision it trains in (bf16 where the CPU
computes it natively). For each shipped picture run (crnn, cnn, lstm) and split, its valid tracks' probabilities
(`mgc.runs.outputs.track_outputs`) are computed in float32 and under a bf16 autocast: valid accuracy and
log loss each way, answers that differ, the largest difference of a probability, and the time each took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc.data.gtzan import GTZAN, labels_of
from mgc.frontends import PICTURE
from mgc.models import families_reading
from mgc.runs import load_picture_model
from mgc.runs.outputs import track_outputs
from mgc.train.common import track_log_loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    dataset = GTZAN(parser.parse_args().data)
    differing = tracks_seen = 0
    for split in ("random", "filtered"):
        valid = dataset.split(split).valid
        pictures = PICTURE.from_dataset(dataset, valid)
        tracks = [t for t in valid if t in pictures]
        labels = labels_of(tracks)
        for family in families_reading(PICTURE):
            model, _ = load_picture_model(family, split)
            results = {}
            for precision in ("fp32", "bf16"):
                started = time.perf_counter()
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
                    probabilities, _ = track_outputs(model, PICTURE, [pictures[t] for t in tracks])
                results[precision] = (probabilities, time.perf_counter() - started)
            (p32, s32), (p16, s16) = results["fp32"], results["bf16"]
            answers = int((p32.argmax(1) != p16.argmax(1)).sum())
            differing, tracks_seen = differing + answers, tracks_seen + len(tracks)
            print(
                f"{split:>8} {family:>4}: valid accuracy {(p32.argmax(1) == labels).mean():.3f} fp32 / "
                f"{(p16.argmax(1) == labels).mean():.3f} bf16, log loss {track_log_loss(p32, labels):.4f} / "
                f"{track_log_loss(p16, labels):.4f}; {answers} of {len(tracks)} answers differ; largest probability "
                f"difference {np.abs(p32 - p16).max():.4f}; {s32:.2f} s / {s16:.2f} s"
            )
    print(f"\nin all {differing} of {tracks_seen} answers differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
