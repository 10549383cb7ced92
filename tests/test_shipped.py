"""The shipped CRNN checkpoints on real GTZAN audio: consistent with their cached metrics.

Real audio must behave like the pictures: for test clips that have audio, classifying the audio
gives the same probabilities as the cached predictions made from Kaggle's pictures.
"""
import math

import numpy as np
import pandas as pd
import pytest

import mgc
from mgc.checkpoints import read_json, run_dir
from mgc.dataset import GENRES

pytestmark = pytest.mark.real_data
SPLITS = ["random", "filtered"]


def shipped(split):
    folder = run_dir("crnn", split)
    assert (folder / "model.pt").is_file(), f"the CRNN for the {split} split is not shipped in {folder}"
    return folder, read_json(folder / "metrics.json"), pd.read_csv(folder / "predictions.csv").set_index("track")


@pytest.mark.parametrize("split", SPLITS)
def test_cached_metrics_match_cached_predictions(split):
    _, metrics, predictions = shipped(split)
    assert metrics["test_tracks"] == len(predictions)
    assert metrics["accuracy"] == pytest.approx((predictions["genre"] == predictions["predicted"]).mean())


@pytest.mark.parametrize("split", SPLITS)
def test_cached_predictions_cover_the_splits_test_part(real_data, split):
    _, metrics, predictions = shipped(split)
    test = set(real_data.split(split).test)
    assert set(predictions.index) == test - set(metrics["test_tracks_missing"])
    assert len(predictions) >= len(test) - 1


@pytest.mark.parametrize("split", SPLITS)
def test_audio_predictions_equal_picture_predictions_and_score_like_the_metrics(real_data, split):
    _, metrics, predictions = shipped(split)
    with_audio = sorted(set(predictions.index) & set(real_data.audio))
    assert len(with_audio) >= 20
    correct = 0
    for track in with_audio:
        prediction = mgc.classify(real_data.audio[track], split=split)
        cached = predictions.loc[track, list(GENRES)].to_numpy(dtype=float)
        assert np.allclose(list(prediction.probabilities.values()), cached, atol=2e-3), track
        correct += prediction.genre == predictions.loc[track, "genre"]
    accuracy, n = correct / len(with_audio), len(with_audio)
    # The clips with audio are a subset of the test part: their accuracy must be consistent with
    # metrics.json within four binomial standard errors.
    p = metrics["accuracy"]
    assert abs(accuracy - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1 / n


def test_random_split_crnn_beats_the_seeds_77_percent():
    _, metrics, _ = shipped("random")
    assert metrics["accuracy"] > 0.77
