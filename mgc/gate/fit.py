"""Fitting the gate on the labelled set's fit part, and judging it on the held-out part: `python -m mgc check-gate`.

`measure_set` measures every item (≈ 2 minutes for the 500-odd items of the shipped data on 2 cores);
`fit_gate` fits the logistic regression (scikit-learn, classes weighted equally) on the fit part and sets the
threshold so that at most `MUSIC_FLAGGED_AT_MOST` of the fit part's music is flagged; `check_table` counts, per
kind and part, how many items the gate calls "not music", with Wilson 95 % intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..runs.checkpoints import checkpoints_root, read_json, write_json
from . import CLASSES, GATE_FILE, Gate, expanded, gate_file, load_gate, transformed
from .labelled_set import FIT, HELD_OUT, Item, labelled_set
from .measurements import NAMES, measure

MUSIC_FLAGGED_AT_MOST = 0.02
"""The share of the fit part's music that the threshold may flag (the held-out part is judged, not tuned)."""
REGULARISATION = 1.0
"""scikit-learn's C: the inverse strength of the L2 penalty on the weights."""


def measure_set(items: list[Item], progress: bool = True, also=None) -> pd.DataFrame:
    """One row per item: name, kind, part, seconds, then the measurements (`NAMES`) and, with `also` (samples →
    {column: value}), a candidate measurement's columns. Torch runs on one thread meanwhile: hundreds of small
    inputs go faster so than with threads that wait on each other."""
    import torch
    from tqdm import tqdm

    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for item in tqdm(items, desc="measuring the gate's labelled set", disable=not progress, unit="sound"):
            samples = item.make()
            rows.append(
                {"name": item.name, "kind": item.kind, "part": item.part, "seconds": len(samples) / 22050}
                | measure(samples).as_dict()
                | (also(samples) if also else {})
            )
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def fit_gate(table: pd.DataFrame, extra: tuple[str, ...] = ()) -> Gate:
    """The gate fitted on the table's fit-part music, speech and other sounds; `extra` names further columns of
    the table to weigh after `NAMES` (for trying a candidate measurement: such a gate is not saved)."""
    from sklearn.linear_model import LogisticRegression

    fit = table[(table.part == FIT) & table.kind.isin(CLASSES)]
    x = transformed(fit[[*NAMES, *extra]].to_numpy())
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    labels = fit.kind.map(CLASSES.index).to_numpy()
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=5000)
    model.fit(expanded((x - mean) / scale), labels)
    gate = Gate(mean, scale, model.coef_, model.intercept_, 0.5)
    music = gate.probabilities(fit[fit.kind == "music"][[*NAMES, *extra]].to_numpy())[:, 0]
    threshold = min(0.5, float(np.quantile(music, MUSIC_FLAGGED_AT_MOST)))
    return Gate(mean, scale, model.coef_, model.intercept_, threshold)


def flagged(gate: Gate, table: pd.DataFrame, extra: tuple[str, ...] = ()) -> np.ndarray:
    """Whether the gate (fitted with the `extra` columns, if any) calls each row "not music"."""
    return gate.probabilities(table[[*NAMES, *extra]].to_numpy())[:, 0] < gate.threshold


def check_table(gate: Gate, table: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Per part and kind: items, how many are flagged as not music, the share and its Wilson 95 % interval."""
    from ..evaluate.metrics import wilson_interval

    table = table.assign(flagged=flagged(gate, table, extra))
    rows = []
    for (part, kind), group in table.groupby(["part", "kind"], sort=False):
        hits, n = int(group.flagged.sum()), len(group)
        low, high = wilson_interval(hits, n)
        rows.append(
            {"part": part, "kind": kind, "items": n, "flagged": hits, "share": hits / n, "low": low, "high": high}
        )
    order = {FIT: 0, HELD_OUT: 1}
    return pd.DataFrame(rows).sort_values(["part", "kind"], key=lambda c: c.map(order) if c.name == "part" else c)


def check_gate(data=None, fit: bool = False, progress: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure the labelled set, (re)fit the gate when `fit`, and report it; the report and the misjudged
    held-out items are written beside the gate (`check.json`)."""
    items = labelled_set(data)
    table = measure_set(items, progress)
    if fit:
        gate = fit_gate(table)
        saved = gate.to_json() | {
            "fitted_on": {kind: int(((table.part == FIT) & (table.kind == kind)).sum()) for kind in CLASSES},
            "music_flagged_at_most": MUSIC_FLAGGED_AT_MOST,
            "regularisation": REGULARISATION,
        }
        write_json(checkpoints_root() / GATE_FILE, saved)
    gate = load_gate()
    report = check_table(gate, table)
    wrong = table[flagged(gate, table) != (table.kind != "music")]
    wrong = wrong[(wrong.part == HELD_OUT) & (wrong.kind != "speech over music")]
    write_json(
        gate_file().with_name("check.json"),
        {
            "threshold": gate.threshold,
            "rates": report.to_dict("records"),
            "misjudged_held_out": wrong.name.tolist(),
            "items": len(table),
        },
    )
    return report, wrong


def printable_report(report: pd.DataFrame) -> str:
    lines = [f"{'part':9} {'kind':18} {'items':>5} {'flagged':>8} {'share':>6}  95 % interval"]
    for row in report.itertuples():
        lines.append(
            f"{row.part:9} {row.kind:18} {row.items:5d} {row.flagged:8d} {row.share:6.1%}  {row.low:.1%}–{row.high:.1%}"
        )
    return "\n".join(lines)


def shipped_report() -> dict:
    """The last `check-gate` report (`checkpoints/gate/check.json`)."""
    return read_json(gate_file().with_name("check.json"))
