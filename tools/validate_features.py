#!/usr/bin/env python3
"""Check `mgc.frontends.features.extract_features` against Kaggle's features_30_sec.csv, column by column.

    python tools/validate_features.py [--data DIR] [--limit N] [--jobs J] [--save FILE.csv]

Every clip with audio in the GTZAN folder is decoded with `mgc.data.audio.load_audio` (the live path),
its 57 features are computed, and each is compared with the CSV's value for that clip. A value
*agrees* when its relative error is within 1 %; for the near-zero means of the HPSS waveforms
(`harmony_mean`, `perceptr_mean`, see NEAR_ZERO) an absolute error within 1e-8 also counts. The goal
is agreement on at least 95 % of clips in every column; the exit status is 1 when a column misses it
(2 for bad arguments or a missing folder), so CI can run it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc.data.audio import load_audio
from mgc.data.gtzan import GTZAN, default_data_dir
from mgc.frontends.features import FEATURE_NAMES, extract_features

RELATIVE_TOLERANCE = 0.01
GOAL = 0.95
NEAR_ZERO = {"harmony_mean": 1e-8, "perceptr_mean": 1e-8}
"""Columns whose values are means of zero-centred waveforms: |value| is 1e-9..1e-2 while the waveform's
RMS is ~0.1, so float32 rounding alone moves them by ~1e-9 absolute — a large *relative* error
on the smallest ones that says nothing about the extractor. They also agree within this absolute bound."""


def _features_of(path: str) -> tuple[np.ndarray, float]:
    samples = load_audio(path).samples
    start = time.perf_counter()
    values = extract_features(samples)
    return values, time.perf_counter() - start


def compare(ours: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Per-column agreement of two clip × feature tables with the same index and columns."""
    absolute = (ours - reference).abs()
    relative = absolute / reference.abs()
    agrees = relative <= RELATIVE_TOLERANCE
    for column, bound in NEAR_ZERO.items():
        agrees[column] |= absolute[column] <= bound
    table = pd.DataFrame(
        {
            "within_1pct": (relative <= RELATIVE_TOLERANCE).mean(),
            "agree": agrees.mean(),
            "median_rel": relative.median(),
            "max_rel": relative.max(),
            "max_abs": absolute.max(),
        }
    )
    table["ok"] = table["agree"] >= GOAL
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="GTZAN folder in the Kaggle layout (default: $MGC_DATA, else ../shared/gtzan)",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips with audio (quick check)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--save", type=Path, default=None, help="also write the computed features to this CSV")
    args = parser.parse_args(argv)

    root = args.data or default_data_dir()
    if root is None or not Path(root).is_dir():
        print("no GTZAN folder: pass --data DIR or set MGC_DATA", file=sys.stderr)
        return 2
    data = GTZAN(root)
    reference = data.features
    tracks = [track for track in data.audio if track in reference.index][: args.limit]
    if not tracks:
        print(f"{root} has no clips with both audio and a row in features_30_sec.csv", file=sys.stderr)
        return 2

    from tqdm.auto import tqdm

    paths = [str(data.audio[track]) for track in tracks]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(tqdm(pool.map(_features_of, paths), total=len(paths), desc="clips", unit="clip"))
    ours = pd.DataFrame([values for values, _ in results], index=tracks, columns=list(FEATURE_NAMES))
    seconds = np.array([elapsed for _, elapsed in results])
    if args.save:
        ours.to_csv(args.save, index_label="clip")

    table = compare(ours, reference.loc[tracks, list(FEATURE_NAMES)].astype(float))
    with pd.option_context("display.max_rows", None, "display.width", 120):
        print(
            table.to_string(
                formatters={
                    "within_1pct": "{:.1%}".format,
                    "agree": "{:.1%}".format,
                    "median_rel": "{:.1e}".format,
                    "max_rel": "{:.1e}".format,
                    "max_abs": "{:.2e}".format,
                }
            )
        )
    print(
        f"\n{len(tracks)} clips; extract_features took {1000 * np.median(seconds):.0f} ms per clip (median, "
        f"first call in each worker included in the max {1000 * seconds.max():.0f} ms); "
        f"{args.jobs} worker(s)"
    )
    print("'agree' = relative error <= 1 %" + ", or absolute <= 1e-8 for " + ", ".join(NEAR_ZERO))
    failed = table.index[~table["ok"]].tolist()
    if failed:
        print(f"FAIL: under {GOAL:.0%} agreement in {len(failed)} column(s): {', '.join(failed)}")
        return 1
    print(f"OK: every column agrees on at least {GOAL:.0%} of clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
