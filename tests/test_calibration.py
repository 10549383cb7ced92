"""Calibrated probabilities and abstaining: temperature scaling, ECE, the unsure margin, and the verdicts a
`Prediction` carries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mgc import GENRES
from mgc.evaluate import calibration as fitting
from mgc.gate import GateResult
from mgc.gate.measurements import Measurements
from mgc.runs.calibration import Calibration, calibrate, calibration_of
from mgc.serve import Prediction


def overconfident(n=400, accuracy=0.6, seed=0):
    """Labels and probabilities of a model that is right `accuracy` of the time but always says ≈ 99 %."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    top = np.where(rng.random(n) < accuracy, labels, (labels + rng.integers(1, 10, n)) % 10)
    logits = rng.normal(0, 1, (n, 10))
    logits[np.arange(n), top] += 6.0
    p = np.exp(logits)
    return labels, p / p.sum(axis=1, keepdims=True)


def test_calibrating_keeps_every_answer_and_sums_to_one():
    _, p = overconfident()
    for t in (0.5, 1.0, 3.0):
        q = calibrate(p, t)
        assert (q.argmax(axis=1) == p.argmax(axis=1)).all()
        np.testing.assert_allclose(q.sum(axis=1), 1.0)


def test_the_fitted_temperature_softens_an_overconfident_model_and_lowers_its_log_loss_and_ece():
    labels, p = overconfident()
    t = fitting.fit_temperature(labels, p)
    assert t > 1.5
    q = calibrate(p, t)
    assert fitting.log_loss(labels, q) < fitting.log_loss(labels, p)
    assert fitting.expected_calibration_error(labels, q) < fitting.expected_calibration_error(labels, p) / 3


def test_a_valid_part_without_a_single_mistake_leaves_the_probabilities_as_they_are():
    labels, p = overconfident()
    right = p.argmax(axis=1) == labels
    assert not right.all()
    assert fitting.fit_temperature(labels[right], p[right]) == 1.0  # not the bound: every answer certain
    assert fitting.fit_temperature(labels, p) != 1.0


def test_the_reliability_bins_count_every_track_once():
    labels, p = overconfident(n=123)
    rows = fitting.reliability(labels, p)
    assert sum(row["tracks"] for row in rows) == 123
    assert all(row["low"] <= row["confidence"] <= row["high"] for row in rows)


def test_an_honest_models_ece_is_small_but_not_zero_and_shrinks_with_more_tracks():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (2000, 10))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    few, many = fitting.honest_model_ece(p[:100], draws=300), fitting.honest_model_ece(p, draws=300)
    assert 0 < many["median"] < few["median"] < few["p95"] < 0.25


def test_the_unsure_margin_is_where_the_top_genre_is_right_half_the_time():
    rng = np.random.default_rng(1)
    margin = rng.uniform(0, 1, 2000)
    right = rng.random(2000) < 1 / (1 + np.exp(-(margin - 0.3) * 20))  # 50 % right at a margin of 0.3
    p = np.full((2000, 10), 0.0)
    p[:, 0] = 0.5 + margin / 2
    p[:, 1] = 0.5 - margin / 2
    labels = np.where(right, 0, 1)
    assert fitting.fit_unsure_margin(labels, p) == pytest.approx(0.3, abs=0.05)
    assert fitting.fit_unsure_margin(np.zeros(2000, dtype=int), p) == 0.0  # always right: never unsure


def test_a_run_without_calibration_is_shown_as_it_is(tmp_path):
    assert calibration_of("crnn", "random", root=tmp_path) == Calibration()


def test_a_run_reads_its_calibration_file(tmp_path):
    folder = tmp_path / "crnn" / "random"
    folder.mkdir(parents=True)
    (folder / "calibration.json").write_text(json.dumps({"temperature": 1.7, "unsure_margin": 0.12}))
    assert calibration_of("crnn", "random", root=tmp_path) == Calibration(1.7, 0.12, True)


# --- verdicts ----------------------------------------------------------------------------------


def prediction(first=0.6, second=0.3, margin=0.1, is_music=True, kind="music"):
    probabilities = dict.fromkeys(GENRES, (1 - first - second) / 8)
    probabilities.update(jazz=first, blues=second)
    timeline = pd.DataFrame([[0.0, 10.0, *probabilities.values()]], columns=["start", "end", *GENRES])
    measured = Measurements(0.9, 0.1, 0.001, 6.0, -20.0, 500.0, 0.05, 1.5)
    reasons = () if is_music else ("it sounds like speech",)
    gate = GateResult(
        is_music, kind, {"music": 0.9 if is_music else 0.1, "speech": 0.05, "other": 0.05}, measured, reasons
    )
    return Prediction(
        "crnn", probabilities, timeline, np.zeros(4), np.zeros((128, 4)), 10.0, 0.1, gate=gate, unsure_margin=margin
    )


def test_a_clear_answer_is_the_genre():
    p = prediction(0.7, 0.2, margin=0.1)
    assert (p.verdict, p.headline, p.is_music, p.is_unsure) == ("genre", "jazz", True, False)


def test_close_top_two_say_not_sure():
    p = prediction(0.45, 0.40, margin=0.1)
    assert (p.verdict, p.headline) == ("unsure", "not sure: jazz or blues")


def test_what_is_not_music_is_only_closest_to_a_genre_even_when_the_model_is_sure():
    p = prediction(0.95, 0.01, is_music=False, kind="speech")
    assert (p.verdict, p.headline, p.is_music) == ("not music", "closest to jazz", False)
    record = json.loads(json.dumps(p.record("random", source="reading.ogg")))
    assert (record["verdict"], record["headline"], record["is_music"], record["sounds_like"]) == (
        "not music",
        "closest to jazz",
        False,
        "speech",
    )
    assert record["not_music_reasons"] == ["it sounds like speech"]
    assert set(record["gate_measurements"]) >= {"speech_share", "beat_strength"}


def test_new_weights_forget_the_old_weights_calibration(tmp_path):
    import torch

    from mgc.models import build_model
    from mgc.runs.checkpoints import save_model

    folder = tmp_path / "crnn" / "random"
    folder.mkdir(parents=True)
    (folder / "calibration.json").write_text(json.dumps({"temperature": 0.5, "unsure_margin": 0.2}))
    torch.manual_seed(0)
    save_model(
        folder / "model.pt", "crnn", build_model("crnn", {"channels": [4, 4, 4, 4, 4], "gru_hidden": 8}), "random"
    )
    assert not (folder / "calibration.json").exists()
    assert calibration_of("crnn", "random", root=tmp_path) == Calibration()
