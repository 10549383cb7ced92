#!/usr/bin/env python3
"""Compare the cached results of two checkpoint folders, run by run: did a change alter any answer?

    cp -r checkpoints /tmp/before && MGC_CHECKPOINTS=/tmp/after … python -m mgc evaluate --all --split both
    python tools/compare_cached.py checkpoints /tmp/after

For every run folder with a predictions.csv in both: the largest difference of a probability, and whether
the predicted genres agree; metrics.json compared key by key, exactly, except the timing of a clip
(`model_ms_per_clip`, a measurement of this machine at that moment); the embedding map's largest
difference. Exits 1 when a probability differs by more than --tolerance or a metric differs at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

MEASURED = {"model_ms_per_clip"}
"""metrics.json keys that are measurements of the machine, not results of the model."""


def compare_run(before: Path, after: Path, tolerance: float) -> tuple[bool, str]:
    """(same, a line saying how far apart they are) for one run folder."""
    old, new = pd.read_csv(before / "predictions.csv"), pd.read_csv(after / "predictions.csv")
    if list(old["track"]) != list(new["track"]):
        return False, "different test tracks"
    numbers = [c for c in old.columns if c not in ("track", "genre", "predicted")]
    largest = float(np.abs(old[numbers].to_numpy() - new[numbers].to_numpy()).max())
    answers = int((old["predicted"] != new["predicted"]).sum())
    old_metrics = json.loads((before / "metrics.json").read_text())
    new_metrics = json.loads((after / "metrics.json").read_text())
    changed = sorted(
        k for k in set(old_metrics) | set(new_metrics) if k not in MEASURED and old_metrics.get(k) != new_metrics.get(k)
    )
    line = f"largest probability difference {largest:.1e}, {answers} answers differ"
    if (before / "embedding_map.csv").is_file() and (after / "embedding_map.csv").is_file():
        old_map, new_map = pd.read_csv(before / "embedding_map.csv"), pd.read_csv(after / "embedding_map.csv")
        line += f", embedding map within {float(np.abs(old_map[['x', 'y']] - new_map[['x', 'y']]).max().max()):.1e}"
    line += f"; metrics {'identical' if not changed else 'differ in ' + ', '.join(changed)}"
    # The CSVs hold 6 decimals: one unit in the last place (a value on a rounding edge) reads as 1.0000000000287e-6.
    return largest <= tolerance * (1 + 1e-9) and not answers and not changed, line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    runs = sorted(p.parent.relative_to(args.before) for p in args.before.glob("*/*/predictions.csv"))
    same = True
    for run in runs:
        if not (args.after / run / "predictions.csv").is_file():
            print(f"{run}: missing in {args.after}")
            same = False
            continue
        ok, line = compare_run(args.before / run, args.after / run, args.tolerance)
        same &= ok
        print(f"{'same' if ok else 'DIFFERENT':>9}  {run}: {line}")
    print(f"\n{len(runs)} runs compared: {'all the same' if same else 'some differ'} (tolerance {args.tolerance:g})")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
