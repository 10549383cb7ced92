"""The shipped checkpoints on real GTZAN data: consistent with their cached metrics, and usable.

Real audio must behave like the pictures: for test clips that have audio, classifying the audio with
a picture model gives the same probabilities as the cached predictions made from Kaggle's pictures.
"""

import math

import numpy as np
import pandas as pd
import pytest

import mgc
from mgc.data.audio import load_audio
from mgc.data.gtzan import GENRES
from mgc.frontends import PICTURE
from mgc.models import family
from mgc.runs import is_ensemble
from mgc.runs.checkpoints import read_json, run_dir, trained_models
from mgc.runs.outputs import audio_outputs

pytestmark = pytest.mark.real_data
SPLITS = ["random", "filtered"]
SHIPPED = [(model, split) for split in SPLITS for model in trained_models(split)]


def shipped(model, split):
    folder = run_dir(model, split)
    assert (folder / "metrics.json").is_file(), f"{model} for the {split} split has no metrics.json in {folder}"
    return folder, read_json(folder / "metrics.json"), pd.read_csv(folder / "predictions.csv").set_index("track")


def test_the_crnn_and_the_zoo_are_shipped_for_both_splits():
    for split in SPLITS:
        assert {"crnn", "mlp", "logreg"} <= set(trained_models(split)), split


@pytest.mark.parametrize("model,split", SHIPPED)
def test_cached_metrics_match_cached_predictions(model, split):
    _, metrics, predictions = shipped(model, split)
    assert metrics["test_tracks"] == len(predictions)
    assert metrics["accuracy"] == pytest.approx((predictions["genre"] == predictions["predicted"]).mean())
    probabilities = predictions[list(GENRES)].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (np.array(GENRES)[probabilities.argmax(axis=1)] == predictions["predicted"]).all()


@pytest.mark.parametrize("model,split", SHIPPED)
def test_cached_predictions_cover_the_splits_test_part(real_data, model, split):
    _, metrics, predictions = shipped(model, split)
    test = set(real_data.split(split).test)
    assert set(predictions.index) == test - set(metrics["test_tracks_missing"])
    if (
        not is_ensemble(model, split)
        and family(mgc.runs.load_model(model, split)[1]["family"]).frontend.describes == "audio"
    ):
        assert set(predictions.index) == test & set(real_data.audio)  # musicnn, crnn-seed: the test clips with audio
    else:
        assert len(predictions) >= len(test) - 1


@pytest.mark.parametrize("model,split", SHIPPED)
def test_every_shipped_model_classifies_a_real_test_clip(real_data, model, split):
    _, _, predictions = shipped(model, split)
    track = sorted(set(predictions.index) & set(real_data.audio))[0]
    prediction = mgc.classify(real_data.audio[track], model=model, split=split)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert len(prediction.timeline) >= 1 and prediction.embedding.ndim == 1
    cached = predictions.loc[track, list(GENRES)].to_numpy(dtype=float)
    # feature models read features extracted from the audio (within 1 % of Kaggle's CSV, see
    # tests/test_features.py), so their answer is close to, not equal to, the cached one
    assert np.abs(np.array(list(prediction.probabilities.values())) - cached).max() < 0.15


# The hybrid reads the pictures too; its 57 features drawn from audio are within 1 % of the CSV's
# (tests/test_features.py), which moves its probabilities by less than 1e-4 on the shipped runs.
PICTURE_RUNS = [
    (m, s)
    for m, s in SHIPPED
    if not is_ensemble(m, s)
    and PICTURE in (frontend := family(mgc.runs.load_model(m, s)[1]["family"]).frontend, *frontend.parts)
]


@pytest.mark.parametrize("model,split", PICTURE_RUNS)
def test_audio_predictions_equal_picture_predictions_and_score_like_the_metrics(real_data, model, split):
    _, metrics, predictions = shipped(model, split)
    with_audio = sorted(set(predictions.index) & set(real_data.audio))
    assert len(with_audio) >= 20
    correct = 0
    for track in with_audio:
        prediction = mgc.classify(real_data.audio[track], model=model, split=split)
        cached = predictions.loc[track, list(GENRES)].to_numpy(dtype=float)
        assert np.allclose(list(prediction.probabilities.values()), cached, atol=2e-3), track
        correct += prediction.genre == predictions.loc[track, "genre"]
    accuracy, n = correct / len(with_audio), len(with_audio)
    # The clips with audio are a subset of the test part: their accuracy must be consistent with
    # metrics.json within four binomial standard errors.
    p = metrics["accuracy"]
    assert abs(accuracy - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1 / n


# The runs that read audio (the musicnn head, crnn-seed) made their predictions.csv from the test clips' audio, as
# classify hears an upload: re-run on every one of those clips they must give the same probabilities.
AUDIO_RUNS = [
    (m, s)
    for m, s in SHIPPED
    if not is_ensemble(m, s) and family(mgc.runs.load_model(m, s)[1]["family"]).frontend.describes == "audio"
]


@pytest.mark.parametrize("model,split", AUDIO_RUNS)
def test_audio_runs_give_their_cached_predictions_on_every_test_clip(real_data, model, split):
    """Pins each shipped run of audio to its predictions.csv on all its test clips at the picture runs' 2e-3, and
    its accuracy on them to metrics.json's: a change in its weights, head or front end (two genres swapped inside
    the musicnn head, say) moves some clip's probabilities. Each clip is decoded and heard once, without the
    not-music gate that `mgc.classify` adds (the gate does not change the probabilities)."""
    _, metrics, predictions = shipped(model, split)
    tracks = list(predictions.index)
    assert set(tracks) <= set(real_data.audio) and len(tracks) >= 20
    heard = np.stack([audio_outputs(model, split, load_audio(real_data.audio[t])).probabilities for t in tracks])
    cached = predictions.loc[tracks, list(GENRES)].to_numpy(dtype=float)
    worst = np.abs(heard - cached).max(axis=1)
    assert (worst <= 2e-3).all(), (
        f"{int((worst > 2e-3).sum())} of {len(tracks)} clips differ from predictions.csv by more than 2e-3, "
        f"most {tracks[int(worst.argmax())]} (by {worst.max():.4f})"
    )
    right = np.array(GENRES)[heard.argmax(axis=1)] == predictions.loc[tracks, "genre"].to_numpy()
    assert right.mean() == pytest.approx(metrics["accuracy"])


def test_random_split_crnn_beats_the_seeds_77_percent():
    _, metrics, _ = shipped("crnn", "random")
    assert metrics["accuracy"] > 0.77
