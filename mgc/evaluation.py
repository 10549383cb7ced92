"""Test-set evaluation: cached per-track predictions and metrics, computed with scikit-learn.

`checkpoints/<model>/<split>/predictions.csv` has one row per test track (track, true genre, one
probability column per genre; for a picture model a track's probabilities are the mean over its
windows, for a feature model they come from the track's row of Kaggle's feature table, for the
hybrid from both, over its windows), and `metrics.json` everything the Evaluation and Model
comparison pages show.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .checkpoints import read_json, run_dir, write_json
from .dataset import GENRES, GTZAN, labels_of
from .errors import DatasetError
from .explain import EmbeddingMap


def compute_metrics(true: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro/weighted P/R/F1, per-class P/R/F1/support, ROC-AUC, AP and confusion matrix."""
    from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix,
                                 precision_recall_fscore_support, roc_auc_score)
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
    auc = [float(roc_auc_score(onehot[:, k], probabilities[:, k])) if present[k] and not onehot[:, k].all() else None
           for k in labels]
    ap = [float(average_precision_score(onehot[:, k], probabilities[:, k])) if present[k] else None for k in labels]
    metrics["macro_roc_auc"] = float(np.mean([a for a in auc if a is not None]))
    metrics["macro_average_precision"] = float(np.mean([a for a in ap if a is not None]))
    metrics["per_class"] = {
        genre: {"precision": float(p[k]), "recall": float(r[k]), "f1": float(f[k]), "support": int(support[k]),
                "roc_auc": auc[k], "average_precision": ap[k]}
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


def evaluate(model: str, split: str, data: str | Path | None = None) -> dict:
    """Predict the test part of `split` with the trained run `model`; write predictions.csv, metrics.json
    and the embedding map of its test tracks (`mgc.explain.EmbeddingMap`, shown by the Classify page).

    Picture models read each test track's picture; feature models its row of Kaggle's feature table;
    the hybrid both; an ensemble (`mgc.ensembles`) combines what its members say. `model_ms_per_clip` is the time
    to classify a decoded 30-s clip (`clip_timing`).
    """
    from . import ensembles
    from .checkpoints import load_model
    from .models import parameter_count

    dataset = GTZAN(data)
    test = dataset.split(split).test
    out = run_dir(model, split)
    if ensembles.is_ensemble(model, split):
        ensemble = ensembles.load_ensemble(model, split)
        tracks, missing, probabilities, embeddings = ensemble.outputs(split, dataset, test)
        facts = {"parameters": ensemble.parameters(split), "members": list(ensemble.members), "rule": ensemble.rule}
    else:
        network, saved = load_model(model, split)
        tracks, missing, probabilities, embeddings = run_outputs(network, saved["family"], dataset, test)
        facts = {"parameters": parameter_count(network), "best_epoch": saved.get("best_epoch")}
    predictions_table(tracks, probabilities).to_csv(out / "predictions.csv", index=False, float_format="%.6f")
    if len(tracks) >= 3:  # two principal axes need three points
        EmbeddingMap.fit(tracks, embeddings).save(out)
    metrics = compute_metrics(labels_of(tracks), probabilities)
    training = out / "training.json"
    metrics.update({
        "model": model, "split": split, "test_tracks": len(tracks), "test_tracks_missing": missing, **facts,
        **clip_timing(model, split, dataset),
        "train_seconds": read_json(training)["train_seconds"] if training.is_file() else None,
    })
    write_json(out / "metrics.json", metrics)
    return metrics


def run_outputs(network, family: str, dataset: GTZAN, tracks) -> tuple[list, list, np.ndarray, np.ndarray]:
    """A trained model on dataset tracks: (tracks found, tracks missing, probabilities, embeddings).

    A picture model reads each track's picture (PNG, else rendered audio) and averages its windows;
    a feature model reads the track's row of Kaggle's `features_30_sec.csv`; the hybrid reads both
    and averages its windows.
    """
    from .inference import feature_outputs, track_outputs
    from .models import FEATURE_MODELS, PICTURE_MODELS

    reads_pictures, reads_features = family not in FEATURE_MODELS, family not in PICTURE_MODELS
    if reads_pictures:
        from .representation import track_pictures

        pictures = track_pictures(dataset.root, tracks)
    if reads_features:
        from .features import table_features

        table = dataset.features
    present = [t for t in tracks if (not reads_pictures or t in pictures) and (not reads_features or t in table.index)]
    kept = set(present)
    missing = [t for t in tracks if t not in kept]
    if not present:
        what = " and ".join(name for name, read in (("a picture or audio", reads_pictures),
                                                    ("a row in features_30_sec.csv", reads_features)) if read)
        raise DatasetError(f"none of the {len(tracks)} tracks asked for has {what} in {dataset.root}")
    if not reads_features:
        probabilities, embeddings = track_outputs(network, [pictures[t] for t in present])
    elif not reads_pictures:
        probabilities, embeddings = feature_outputs(network, table_features(table, present))
    else:  # the hybrid: windows of the picture, each with the track's row; the mean over windows, as classify does
        outputs = [network.window_outputs(pictures[t], row) for t, row in zip(present, table_features(table, present))]
        probabilities = np.stack([p.mean(axis=0) for p, _ in outputs])
        embeddings = np.stack([e.mean(axis=0) for _, e in outputs])
    return present, missing, probabilities, embeddings


def clip_timing(model: str, split: str, dataset: GTZAN, repeats: int = 5) -> dict:
    """Milliseconds `mgc.classify` takes for a real 30-s clip that is already decoded: the front end
    (mel picture, or the 57 features), the model over its windows and the timeline; the same
    measure for every kind of model.

    Measured on the dataset's first clip with audio, after one warm-up call (librosa's and torch's
    one-off loading), as the median of `repeats` runs on however many threads torch uses here.
    Without audio in the folder the time is None.
    """
    from .audio import load_audio
    from .prediction import classify

    if not dataset.audio:
        return {"model_ms_per_clip": None, "timing_clip": None}
    clip = sorted(dataset.audio)[0]
    audio = load_audio(dataset.audio[clip])
    classify(audio, model, split)
    elapsed = [classify(audio, model, split).elapsed for _ in range(repeats)]
    return {"model_ms_per_clip": round(1000 * float(np.median(elapsed)), 2), "timing_clip": clip}


def results_table(root: Path | None = None) -> pd.DataFrame:
    """One row per model: test accuracy, macro-F1 and macro ROC-AUC on each split, size and speed."""
    from .checkpoints import available_runs, checkpoints_root

    root = Path(root or checkpoints_root())
    rows: dict[str, dict] = {}
    for model, split in available_runs(root):
        metrics = read_json(root / model / split / "metrics.json")
        row = rows.setdefault(model, {"model": model})
        row[f"{split} accuracy"] = metrics["accuracy"]
        row[f"{split} macro-F1"] = metrics["macro_f1"]
        row[f"{split} macro AUC"] = metrics["macro_roc_auc"]
        row[f"{split} test tracks"] = metrics["test_tracks"]
        row["parameters"] = metrics.get("parameters")
        row[f"{split} train s"] = metrics.get("train_seconds")
        row["ms per clip"] = metrics.get("model_ms_per_clip")
    table = pd.DataFrame(list(rows.values()))
    order = ["model"] + [f"{split} {what}" for what in ("accuracy", "macro-F1", "macro AUC", "test tracks")
                         for split in ("random", "filtered")]
    order += ["parameters", "random train s", "filtered train s", "ms per clip"]
    return table[[c for c in order if c in table.columns]]


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
