"""The real-world benchmark: python -m mgc robustness on a tiny trained model and a tiny GTZAN folder."""

import json

import pytest

from mgc.cli import main
from mgc.evaluate import robustness
from mgc.evaluate.metrics import wilson_interval


def test_the_wilson_interval_holds_the_proportion_and_is_wide_for_few_trials():
    low, high = wilson_interval(28, 33)
    assert low < 28 / 33 < high and high - low > 0.2
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0


def test_the_command_measures_each_condition_on_the_test_clips_and_caches_it(
    small_model, synthetic_data, monkeypatch, capsys
):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(small_model))
    code = main(
        ["robustness", "--model", "crnn", "--split", "filtered", "--data", str(synthetic_data),
         "--conditions", "quiet,phone_speaker"]
    )  # fmt: skip
    assert code == 0
    record = json.loads((small_model / "crnn" / "filtered" / robustness.ROBUSTNESS_FILE).read_text())
    assert record["clips"] == 10 and len(record["tracks"]) == 10  # one test clip per genre in the fixture
    assert list(record["conditions"]) == ["clean", "quiet", "phone_speaker"]
    for condition in record["conditions"].values():
        assert condition["correct"] == round(condition["accuracy"] * 10) and len(condition["answers"]) == 10
        assert condition["ci_low"] <= condition["accuracy"] <= condition["ci_high"]
    printed = capsys.readouterr().out
    assert "10 test clips with audio" in printed and "phone speaker" in printed


def test_a_split_without_test_audio_is_named(small_model, tmp_path, monkeypatch):
    from mgc.errors import DatasetError

    monkeypatch.setenv("MGC_CHECKPOINTS", str(small_model))
    (tmp_path / "splits").mkdir()
    for part in ("train", "valid", "test"):  # the split's lists, but no audio for any of its tracks
        (tmp_path / "splits" / f"{part}_filtered.txt").write_text("blues/blues.00000.wav\n")
    with pytest.raises(DatasetError, match="has audio"):
        robustness.measure(["crnn"], "filtered", data=tmp_path)
