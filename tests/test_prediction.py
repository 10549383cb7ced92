"""The prediction API and the command line, on a small model trained here on synthetic audio."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

import mgc
from mgc.cli import main
from mgc.data.gtzan import GENRES
from mgc.evaluate import EmbeddingMap
from tests.conftest import SR, encode, genre_signal, sine_chord


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


def test_predict_command_escapes_terminal_control_characters_in_file_names(tmp_path, capsys):
    folder = tmp_path / "songs"
    folder.mkdir()
    soundfile.write(folder / "\x1b[2J\x1b[31mred\u202e.wav", sine_chord(3.0), SR)
    (folder / "\x1b]0;title\x07.mp3").write_bytes(b"")
    assert main(["predict", str(folder), "--split", "filtered"]) == 0
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err and "\u202e" not in printed.out and "\x07" not in printed.err
    assert "\\x1b[2J\\x1b[31mred\\u202e.wav" in printed.out and "\\x1b]0;title\\x07.mp3" in printed.out


def test_predict_command_names_an_unprintable_bad_file_escaped_in_its_error(tmp_path, capsys):
    path = tmp_path / "\x1b[31m.wav"
    path.write_bytes(b"")
    assert main(["predict", str(path), "--split", "filtered"]) == 2
    assert capsys.readouterr().err == "error: '\\x1b[31m.wav' is empty (0 bytes): choose a recording or music file\n"


@pytest.mark.parametrize("name", ["=HYPERLINK(1).wav", "+1.wav", "@SUM(1).wav"])
def test_predict_command_writes_no_csv_cell_a_spreadsheet_would_run_as_a_formula(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    soundfile.write(tmp_path / name, sine_chord(3.0), SR)
    assert main(["predict", name, "--split", "filtered", "--csv", "out.csv"]) == 0
    table = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert table["file"].tolist() == ["'" + name]
    assert table["genre"].iloc[0] in GENRES and 0 < table["confidence"].iloc[0] <= 1


def test_predict_command_reports_the_entries_of_a_folder_it_skips(tmp_path, capsys):
    folder = tmp_path / "songs"
    folder.mkdir()
    soundfile.write(folder / "a.wav", sine_chord(3.0), SR)
    (folder / "loop.wav").symlink_to("loop.wav")
    (folder / "gone.flac").symlink_to("missing.flac")
    os.mkfifo(folder / "pipe.mp3")
    assert main(["predict", str(folder), "--split", "filtered"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert f"skipped: {folder / 'gone.flac'}: a broken symbolic link" in err
    assert f"skipped: {folder / 'loop.wav'}: a symbolic link loop" in err
    assert f"skipped: {folder / 'pipe.mp3'}: not a regular file (a pipe or a device)" in err
    assert err[-1] == "skipped 3 entries that are not readable files (listed above)"


def test_predict_command_resumes_an_interrupted_csv_and_classifies_only_what_is_missing(tmp_path, monkeypatch, capsys):
    import mgc.serve.predict as predict

    folder = tmp_path / "music"
    folder.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        soundfile.write(folder / name, sine_chord(2.0), SR)
    (folder / "broken.mp3").write_bytes(b"not an mp3" * 100)
    csv = tmp_path / "out.csv"
    assert main(["predict", str(folder), "--split", "filtered", "--csv", str(csv)]) == 0
    complete = pd.read_csv(csv)
    # An interrupted run: the rows of b.wav and c.wav never reached the file.
    complete[~complete["file"].str.endswith(("b.wav", "c.wav"))].to_csv(csv, index=False)
    classified = []
    real = predict.classify
    monkeypatch.setattr(predict, "classify", lambda file, **kw: classified.append(Path(file).name) or real(file, **kw))
    assert main(["predict", str(folder), "--split", "filtered", "--csv", str(csv)]) == 0
    assert sorted(classified) == ["b.wav", "broken.mp3", "c.wav"]  # the failed file is tried again, a.wav is not
    assert "resuming" in capsys.readouterr().err
    pd.testing.assert_frame_equal(pd.read_csv(csv), complete)


def test_predict_command_writes_each_row_as_it_is_done(tmp_path, monkeypatch):
    import mgc.serve.predict as predict

    for name in ("a.wav", "b.wav"):
        soundfile.write(tmp_path / name, sine_chord(2.0), SR)
    real = predict.classify

    def stopped_at_b(file, **kw):
        if Path(file).name == "b.wav":
            raise KeyboardInterrupt
        return real(file, **kw)

    monkeypatch.setattr(predict, "classify", stopped_at_b)
    csv = tmp_path / "out" / "table.csv"
    with pytest.raises(KeyboardInterrupt):
        predict.predict_command(tmp_path, "crnn", "filtered", csv, jobs=1)
    assert [Path(f).name for f in pd.read_csv(csv)["file"]] == ["a.wav"]


def test_predict_command_starts_afresh_over_a_csv_it_did_not_write(tmp_path):
    soundfile.write(tmp_path / "a.wav", sine_chord(2.0), SR)
    csv = tmp_path / "out.csv"
    pd.DataFrame({"file": [str(tmp_path / "a.wav")], "genre": ["jazz"]}).to_csv(csv, index=False)
    assert main(["predict", str(tmp_path), "--split", "filtered", "--csv", str(csv)]) == 0
    table = pd.read_csv(csv)
    assert len(table) == 1 and set(GENRES) <= set(table.columns) and table["error"].isna().all()
