#!/usr/bin/env python3
"""How closely mgc's mel pictures drawn from audio match Kaggle's PNGs and librosa's own calls.

    python tools/picture_parity.py [--data DIR]

For every clip with both audio and a Kaggle picture: `mgc.frontends.picture.render_audio` (the torch front
end that serves uploads), `mgc.bench.librosa_picture` (librosa's melspectrogram and amplitude_to_db, the
recipe measured on the pictures) and the inverted PNG are compared pairwise: clips drawn identically,
values that differ, and the largest difference in colour indices.
"""

from __future__ import annotations

import argparse
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc.bench import librosa_picture
from mgc.data.audio import load_audio
from mgc.data.gtzan import GTZAN
from mgc.frontends.picture import invert_picture, render_audio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    dataset = GTZAN(parser.parse_args().data)
    tracks = sorted(set(dataset.audio) & set(dataset.pictures))
    pairs = list(combinations(("torch", "librosa", "kaggle png"), 2))
    identical = dict.fromkeys(pairs, 0)
    differing = dict.fromkeys(pairs, 0)
    largest = dict.fromkeys(pairs, 0)
    values = 0
    for track in tracks:
        samples = load_audio(dataset.audio[track]).samples
        pictures = {
            "torch": render_audio(samples),
            "librosa": librosa_picture(samples),
            "kaggle png": invert_picture(dataset.pictures[track]),
        }
        values += pictures["torch"].size
        for a, b in pairs:
            difference = np.abs(pictures[a].astype(int) - pictures[b].astype(int))
            identical[(a, b)] += int(difference.max() == 0)
            differing[(a, b)] += int((difference > 0).sum())
            largest[(a, b)] = max(largest[(a, b)], int(difference.max()))
    print(f"{len(tracks)} clips with audio and a picture, {values:,} values each way\n")
    for a, b in pairs:
        print(
            f"{a:>8} vs {b:<10}: identical on {identical[(a, b)]:3d} clips; {differing[(a, b)]:4d} values differ "
            f"({differing[(a, b)] / values:.1e}), by at most {largest[(a, b)]}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
