"""The prediction API and the command line, on a small model trained here on synthetic audio."""

import numpy as np
import pandas as pd
import pytest
import soundfile

import mgc
from mgc.cli import main
from mgc.data.gtzan import GENRES
from mgc.evaluate import EmbeddingMap
from mgc.train import TrainConfig, train
from tests.conftest import SR, encode, genre_signal, sine_chord


@pytest.fixture(scope="module")
def small_model(synthetic_data, tmp_path_factory):
    """A small CRNN trained for two epochs on the synthetic folder, in its own checkpoints root."""
    root = tmp_path_factory.mktemp("checkpoints")
    train(
        "crnn",
        "filtered",
        data=synthetic_data,
        out_dir=root / "crnn" / "filtered",
        config=TrainConfig(epochs=2, mixup_alpha=0.0),
        model_config={"channels": [8, 8, 16, 16, 16], "gru_hidden": 8},
    )
    return root


@pytest.fixture(autouse=True)
def use_small_model(small_model, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(small_model))


def test_classify_returns_probabilities_over_the_ten_genres():
    prediction = mgc.classify(encode(sine_chord(5.0)), split="filtered")
    assert list(prediction.probabilities) == list(GENRES)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.genre == max(prediction.probabilities, key=prediction.probabilities.get)
    assert prediction.top(3)[0] == (prediction.genre, prediction.confidence)


def test_timeline_has_one_row_per_window_over_a_30_second_track():
    prediction = mgc.classify(encode(sine_chord(661794 / SR)), split="filtered")
    timeline = prediction.timeline
    assert len(timeline) == 9 and list(timeline.columns) == ["start", "end", *GENRES]
    assert timeline["start"].is_monotonic_increasing and timeline["end"].iloc[-1] == pytest.approx(30, abs=0.1)
    assert np.allclose(timeline[list(GENRES)].mean().to_numpy(), list(prediction.probabilities.values()), atol=1e-5)


def test_short_audio_is_one_window_and_carries_picture_and_embedding():
    prediction = mgc.classify(encode(sine_chord(2.5)), split="filtered")
    assert len(prediction.timeline) == 1
    assert prediction.picture.shape[0] == 128 and prediction.embedding.ndim == 1
    assert prediction.seconds == pytest.approx(2.5, abs=0.01) and prediction.elapsed > 0


def test_classify_reports_bad_audio_as_audio_error():
    with pytest.raises(mgc.AudioError, match="is not audio: it is a text file"):
        mgc.classify(b"definitely not audio" * 100, split="filtered")


def test_missing_model_says_how_to_train_it():
    with pytest.raises(mgc.CheckpointError, match="python -m mgc train --model crnn --split random"):
        mgc.classify(encode(sine_chord(2.0)), split="random")


def test_predict_command_prints_a_table_for_a_file(tmp_path, capsys):
    path = tmp_path / "chord.flac"
    soundfile.write(path, genre_signal("metal", 0), SR)
    assert main(["predict", str(path), "--split", "filtered"]) == 0
    out = capsys.readouterr().out
    assert "chord.flac" in out and any(genre in out for genre in GENRES)


def test_predict_command_writes_a_csv_row_per_file_in_a_folder(tmp_path, capsys):
    for name in ("a.wav", "b.ogg"):
        soundfile.write(tmp_path / name, sine_chord(3.0), SR)
    (tmp_path / "broken.mp3").write_bytes(b"not an mp3" * 100)
    assert main(["predict", str(tmp_path), "--split", "filtered", "--csv", str(tmp_path / "out.csv")]) == 0
    table = pd.read_csv(tmp_path / "out.csv")
    assert sorted(table["file"].map(lambda f: f.split("/")[-1])) == ["a.wav", "b.ogg", "broken.mp3"]
    assert (
        table.set_index(table["file"].map(lambda f: f.split("/")[-1]))
        .loc["broken.mp3", "error"]
        .startswith("'broken.mp3' is not audio")
    )
    assert set(GENRES) <= set(table.columns)


def test_predict_command_exits_2_with_the_message_for_a_bad_file(tmp_path, capsys):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    assert main(["predict", str(path), "--split", "filtered"]) == 2
    assert "is empty" in capsys.readouterr().err


def test_evaluate_command_writes_predictions_and_metrics(synthetic_data, small_model, capsys):
    assert main(["evaluate", "--model", "crnn", "--split", "filtered", "--data", str(synthetic_data)]) == 0
    table = pd.read_csv(small_model / "crnn" / "filtered" / "predictions.csv")
    metrics = mgc.runs.checkpoints.read_json(small_model / "crnn" / "filtered" / "metrics.json")
    assert len(table) == 10 and metrics["test_tracks"] == 10
    assert metrics["accuracy"] == pytest.approx((table["genre"] == table["predicted"]).mean())
    assert "accuracy" in capsys.readouterr().out
    test_map = EmbeddingMap.load(small_model / "crnn" / "filtered")
    assert test_map.points["track"].tolist() == table["track"].tolist()


def test_the_embedding_map_places_a_test_track_where_its_embedding_lands(synthetic_data, small_model):
    from mgc.evaluate import evaluate

    evaluate("crnn", "filtered", data=synthetic_data)
    test_map = EmbeddingMap.load(small_model / "crnn" / "filtered")
    clip = synthetic_data / "genres_original" / "jazz" / "jazz.00003.wav"  # a test clip of the split
    point = test_map.points.set_index("track").loc["jazz.00003"]
    prediction = mgc.classify(clip, model="crnn", split="filtered")
    # the map was drawn from the picture of the clip; the upload is rendered from its audio: same place
    assert test_map.project(prediction.embedding) == pytest.approx((point.x, point.y), abs=0.05)


def test_data_command_describes_the_folder(synthetic_data, capsys):
    assert main(["data", "--data", str(synthetic_data)]) == 0
    assert "audio files:  40" in capsys.readouterr().out
