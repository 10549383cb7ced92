#!/usr/bin/env python3
"""Would musicnn's tags make the not-music gate better? (issue 16, part 4)

    python tools/musicnn_gate_signal.py [--data DIR] [--patches 2]

Measures the gate's labelled set (`mgc.gate.labelled_set`, as `python -m mgc check-gate`) and, for each sound,
three candidate music-ness signals from MSD_musicnn's taggram on at most `--patches` 3-s patches spread over the
levelled input: `musicnn_top` (the mean over patches of the highest tag probability), `musicnn_sum` (of the sum of
the 50 tag probabilities) and `musicnn_entropy` (of the entropy of the tags normalised to sum 1). Then it fits the
gate as `check-gate --fit` does (fit part only, the same threshold rule) without and with each candidate, and
prints how often each kind of the held-out part is flagged, with Wilson 95 % intervals, and what the signal costs.
Nothing is saved: the shipped gate is `checkpoints/gate/gate.json`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CANDIDATES = (("musicnn_top",), ("musicnn_sum",), ("musicnn_entropy",), ("musicnn_top", "musicnn_entropy"))


def main() -> None:
    import torch

    from mgc.frontends.musicnn_input import audio_patches, levelled
    from mgc.gate.fit import check_table, fit_gate, measure_set
    from mgc.gate.labelled_set import HELD_OUT, labelled_set
    from mgc.models.musicnn import load_musicnn

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--patches", type=int, default=2)
    args = parser.parse_args()

    network = load_musicnn("MSD_musicnn")
    seconds = []

    def signals(samples: np.ndarray) -> dict:
        started = time.perf_counter()
        patches = audio_patches(levelled(samples))
        spread = np.linspace(0, len(patches), args.patches + 2)[1:-1].astype(int)
        patches = patches[np.unique(np.minimum(spread, len(patches) - 1))]
        with torch.inference_mode():
            tags = network(torch.from_numpy(patches))["taggram"].numpy().astype(np.float64)
        shares = tags / tags.sum(axis=1, keepdims=True)
        seconds.append(time.perf_counter() - started)
        return {
            "musicnn_top": float(tags.max(axis=1).mean()),
            "musicnn_sum": float(tags.sum(axis=1).mean()),
            "musicnn_entropy": float(-(shares * np.log(shares + 1e-12)).sum(axis=1).mean()),
        }

    table = measure_set(labelled_set(args.data), also=signals)
    cost = 1000 * np.median(seconds)
    print(f"{len(table)} sounds; musicnn's signals cost {cost:.0f} ms a sound (median, one thread)")

    def held_out(report):
        return report[report.part == HELD_OUT].set_index("kind")

    def cell(row) -> str:
        return f"{row.flagged:3d}/{row['items']:<3d} {row.share:6.1%} [{row.low:.0%}–{row.high:.0%}]"

    gate = held_out(check_table(fit_gate(table), table))
    for extra in CANDIDATES:
        candidate = held_out(check_table(fit_gate(table, extra), table, extra))
        print(f"\nheld-out part, flagged as not music: {'gate':>24} {'gate + ' + ', '.join(extra):>32}")
        for kind in gate.index:
            print(f"{kind:36} {cell(gate.loc[kind]):>24} {cell(candidate.loc[kind]):>32}")


if __name__ == "__main__":
    main()
