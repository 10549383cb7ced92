"""Scores of a model's test predictions, computed with scikit-learn, and the per-track predictions table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.gtzan import GENRES, labels_of


def compute_metrics(true: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro/weighted P/R/F1, per-class P/R/F1/support, ROC-AUC, AP and confusion matrix."""
    from sklearn.metrics import (
        accuracy_score,
        average_precision_score,
        confusion_matrix,
        precision_recall_fscore_support,
        roc_auc_score,
    )
    from sklearn.preprocessing import label_binarize

    labels = list(range(len(GENRES)))
    predicted = probabilities.argmax(axis=1)
    onehot = label_binarize(true, classes=labels)
    metrics: dict = {"accuracy": float(accuracy_score(true, predicted))}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(true, predicted, labels=labels, average=average, zero_division=0)
        metrics.update({f"{average}_precision": float(p), f"{average}_recall": float(r), f"{average}_f1": float(f)})
    p, r, f, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    present = onehot.sum(axis=0) > 0
    auc = [
        float(roc_auc_score(onehot[:, k], probabilities[:, k])) if present[k] and not onehot[:, k].all() else None
        for k in labels
    ]
    ap = [float(average_precision_score(onehot[:, k], probabilities[:, k])) if present[k] else None for k in labels]
    metrics["macro_roc_auc"] = float(np.mean([a for a in auc if a is not None]))
    metrics["macro_average_precision"] = float(np.mean([a for a in ap if a is not None]))
    metrics["per_class"] = {
        genre: {
            "precision": float(p[k]),
            "recall": float(r[k]),
            "f1": float(f[k]),
            "support": int(support[k]),
            "roc_auc": auc[k],
            "average_precision": ap[k],
        }
        for k, genre in enumerate(GENRES)
    }
    metrics["confusion_matrix"] = confusion_matrix(true, predicted, labels=labels).tolist()
    metrics["genres"] = list(GENRES)
    return metrics


def predictions_table(tracks, probabilities: np.ndarray) -> pd.DataFrame:
    """One row per track: track, true genre, predicted genre, one probability column per genre."""
    table = pd.DataFrame(probabilities, columns=list(GENRES))
    table.insert(0, "predicted", [GENRES[k] for k in probabilities.argmax(axis=1)])
    table.insert(0, "genre", [GENRES[k] for k in labels_of(tracks)])
    table.insert(0, "track", list(tracks))
    return table


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a proportion (scipy's): honest for small test sets and for 0 % or 100 %."""
    from scipy.stats import binomtest

    if trials == 0:
        return 0.0, 1.0
    interval = binomtest(successes, trials).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def mcnemar(first_correct, second_correct) -> dict:
    """McNemar's exact test of two models on the same test tracks: how many tracks only the first got right,
    only the second, and the two-sided p-value of that split under "equally good" (a binomial test on the
    tracks where they disagree; scipy's)."""
    from scipy.stats import binomtest

    first, second = np.asarray(first_correct, dtype=bool), np.asarray(second_correct, dtype=bool)
    only_first, only_second = int((first & ~second).sum()), int((~first & second).sum())
    disagree = only_first + only_second
    p_value = float(binomtest(only_first, disagree, 0.5).pvalue) if disagree else 1.0
    return {"only_first": only_first, "only_second": only_second, "p_value": p_value}


def same_tracks_comparison(first: pd.DataFrame, second: pd.DataFrame) -> dict:
    """Two runs' predictions (predictions.csv tables) compared on the test tracks both predicted — the tracks
    of the run that saw fewer (the musicnn head reads only the clips that have audio): how many, each run's
    accuracy with its Wilson 95 % interval, and McNemar's exact test (`only_first`: right only in `first`)."""
    tracks = [t for t in first["track"] if t in set(second["track"])]
    correct = [
        (table.set_index("track").loc[tracks, "genre"] == table.set_index("track").loc[tracks, "predicted"]).to_numpy()
        for table in (first, second)
    ]
    comparison = {"tracks": len(tracks)}
    for name, right in zip(("first", "second"), correct):
        low, high = wilson_interval(int(right.sum()), len(right))
        comparison[name] = {"correct": int(right.sum()), "accuracy": float(right.mean()) if len(right) else 0.0,
                            "ci_low": low, "ci_high": high}  # fmt: skip
    return {**comparison, "mcnemar": mcnemar(*correct)}
