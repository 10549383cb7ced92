"""Test-set evaluation of a run: cached per-track predictions and metrics, and its embedding map.

`checkpoints/<model>/<split>/predictions.csv` has one row per test track (track, true genre, one
calibrated probability column per genre (`mgc.runs.calibration`, fitted on the valid part and written to the run's
`calibration.json` first); for a picture model a track's probabilities are the mean over its
windows, for a feature model they come from the track's row of Kaggle's feature table, for the
hybrid from both, over its windows), and `metrics.json` everything the Evaluation and Model
comparison pages show.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..data.gtzan import GTZAN, labels_of
from ..runs.calibration import CALIBRATION_FILE, calibrate
from ..runs.checkpoints import METRICS_FILE, PREDICTIONS_FILE, TRAINING_FILE, read_json, write_json
from ..runs.outputs import audio_outputs, dataset_outputs, ensemble_outputs
from .calibration import calibration_metrics, fit_calibration
from .embedding_map import EmbeddingMap
from .metrics import compute_metrics, predictions_table


def evaluate(model: str, split: str, data: str | Path | None = None) -> dict:
    """Predict the test part of `split` with the trained run `model`; write predictions.csv, metrics.json
    and the embedding map of its test tracks (`EmbeddingMap`, shown by the Classify page).

    Picture models read each test track's picture; feature models its row of Kaggle's feature table;
    the hybrid both; the musicnn head each test track's audio, so only the tracks that have audio are scored
    (`test_tracks` counts them, `test_tracks_missing` lists the others) — each through its family's front end;
    an ensemble (`mgc.runs.ensembles`) combines what its members say. `model_ms_per_clip` is the time to
    classify a decoded 30-s clip (`clip_timing`).
    """
    from ..models import parameter_count
    from ..runs.run import locate

    dataset = GTZAN(data)
    parts = dataset.split(split)
    run = locate(model, split)
    out = run.folder
    if run.ensemble is not None:
        ensemble = run.ensemble

        def outputs(tracks):
            return ensemble_outputs(ensemble, split, dataset, tracks)

        facts = {"parameters": ensemble.parameters(split), "members": list(ensemble.members), "rule": ensemble.rule}
    else:
        network, saved = run.load()

        def outputs(tracks):
            return dataset_outputs(network, saved["family"], dataset, tracks)

        facts = {"parameters": parameter_count(network), "best_epoch": saved.get("best_epoch")}
    valid_tracks, _, valid_probabilities, _ = outputs(parts.valid)
    fitted = fit_calibration(labels_of(valid_tracks), valid_probabilities)
    write_json(out / CALIBRATION_FILE, fitted)
    tracks, missing, uncalibrated, embeddings = outputs(parts.test)
    probabilities = calibrate(uncalibrated, fitted["temperature"])
    predictions_table(tracks, probabilities).to_csv(out / PREDICTIONS_FILE, index=False, float_format="%.6f")
    if len(tracks) >= 3:  # two principal axes need three points
        EmbeddingMap.fit(tracks, embeddings).save(out)
    metrics = compute_metrics(labels_of(tracks), probabilities)
    metrics["calibration"] = calibration_metrics(labels_of(tracks), uncalibrated, probabilities, fitted)
    training = out / TRAINING_FILE
    metrics.update(
        {
            "model": model,
            "split": split,
            "test_tracks": len(tracks),
            "test_tracks_missing": missing,
            **facts,
            **clip_timing(model, split, dataset),
            "train_seconds": read_json(training)["train_seconds"] if training.is_file() else None,
        }
    )
    write_json(out / METRICS_FILE, metrics)
    return metrics


def clip_timing(model: str, split: str, dataset: GTZAN, repeats: int = 5) -> dict:
    """Milliseconds a run takes to classify a real 30-s clip that is already decoded, as `mgc.classify`
    does it (`mgc.runs.outputs.audio_outputs`): the front ends (mel picture, the 57 features), the
    model over its windows; the same measure for every kind of model.

    Measured on the dataset's first clip with audio, after one warm-up call (librosa's and torch's
    one-off loading), as the median of `repeats` runs on however many threads torch uses here.
    Without audio in the folder the time is None.
    """
    from ..data.audio import load_audio

    if not dataset.audio:
        return {"model_ms_per_clip": None, "timing_clip": None}
    clip = sorted(dataset.audio)[0]
    audio = load_audio(dataset.audio[clip])
    audio_outputs(model, split, audio)
    elapsed = []
    for _ in range(repeats):
        started = time.perf_counter()
        audio_outputs(model, split, audio)
        elapsed.append(time.perf_counter() - started)
    return {"model_ms_per_clip": round(1000 * float(np.median(elapsed)), 2), "timing_clip": clip}
