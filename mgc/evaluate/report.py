"""The results table of every evaluated run (`python -m mgc report`), from the cached metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..runs.checkpoints import available_runs, checkpoints_root
from ..runs.run import locate
from ..runs.table import RUNS
from .metrics import same_tracks_comparison, wilson_interval


def results_table(root: Path | None = None) -> pd.DataFrame:
    """One row per model: test accuracy with its Wilson 95 % interval, macro-F1 and macro ROC-AUC on each split,
    size and speed. Models come in the order of `mgc.runs.table` (a run the table does not name last, by name)."""
    root = Path(root or checkpoints_root())
    order = {r.name: place for place, r in enumerate(RUNS)}
    rows: dict[str, dict] = {}
    for model, split in sorted(available_runs(root), key=lambda run: (order.get(run[0], len(order)), run)):
        metrics = locate(model, split, root).metrics()
        row = rows.setdefault(model, {"model": model})
        row[f"{split} accuracy"] = metrics["accuracy"]
        low, high = wilson_interval(round(metrics["accuracy"] * metrics["test_tracks"]), metrics["test_tracks"])
        row[f"{split} 95 % interval"] = f"{100 * low:.0f}–{100 * high:.0f} %"
        row[f"{split} macro-F1"] = metrics["macro_f1"]
        row[f"{split} macro AUC"] = metrics["macro_roc_auc"]
        row[f"{split} test tracks"] = metrics["test_tracks"]
        row["parameters"] = metrics.get("parameters")
        row[f"{split} train s"] = metrics.get("train_seconds")
        row["ms per clip"] = metrics.get("model_ms_per_clip")
    table = pd.DataFrame(list(rows.values()))
    order = ["model"] + [
        f"{split} {what}"
        for what in ("accuracy", "95 % interval", "macro-F1", "macro AUC", "test tracks")
        for split in ("random", "filtered")
    ]
    order += ["parameters", "random train s", "filtered train s", "ms per clip"]
    return table[[c for c in order if c in table.columns]]


def same_tracks_table(first: str, second: str, root: Path | None = None) -> pd.DataFrame:
    """Two evaluated runs on the test tracks both predicted, one row per split where both are evaluated:
    each one's accuracy with its Wilson 95 % interval, and McNemar's exact test (`same_tracks_comparison`)."""
    rows = []
    for split in ("random", "filtered"):
        runs = [locate(model, split, root) for model in (first, second)]
        if not all(run.has("predictions") for run in runs):
            continue
        result = same_tracks_comparison(*(run.predictions() for run in runs))
        row = {"split": split, "test tracks": result["tracks"]}
        for model, which in ((first, "first"), (second, "second")):
            scores = result[which]
            row[f"{model} accuracy"] = scores["accuracy"]
            row[f"{model} 95 % interval"] = f"{100 * scores['ci_low']:.0f}–{100 * scores['ci_high']:.0f} %"
        test = result["mcnemar"]
        row[f"right only {first} / only {second}"] = f"{test['only_first']} / {test['only_second']}"
        row["McNemar p"] = f"{test['p_value']:.3f}" if test["p_value"] >= 0.001 else "< 0.001"
        rows.append(row)
    return pd.DataFrame(rows)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table, rates as percentages."""

    def cell(column, value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "—"
        if any(word in column for word in ("accuracy", "F1", "AUC")):
            return f"{100 * value:.1f} %" if "AUC" not in column else f"{value:.3f}"
        if isinstance(value, float):
            return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
        return f"{value:,}" if isinstance(value, (int, np.integer)) else str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + " --- |" * len(table.columns)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join(cell(c, row[c]) for c in table.columns) + " |")
    return "\n".join(lines)
