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


def test_the_validation_part_is_measured_for_choosing_and_never_cached(small_model, synthetic_data, monkeypatch):
    """tools/classroom_oracle.py chooses between runs on the validation clips: `part="valid"` measures those (one
    per genre in the fixture, none of the test clips) and leaves robustness.json alone; writing it is refused."""
    from mgc.data.gtzan import GTZAN

    monkeypatch.setenv("MGC_CHECKPOINTS", str(small_model))
    cached = small_model / "crnn" / "filtered" / robustness.ROBUSTNESS_FILE
    before = cached.read_bytes() if cached.is_file() else None
    record = robustness.measure(["crnn"], "filtered", data=synthetic_data, names=["quiet"], out=False, part="valid")
    parts = GTZAN(synthetic_data).split("filtered")
    assert record["crnn"]["tracks"] == sorted(parts.valid) and not set(parts.valid) & set(parts.test)
    assert list(record["crnn"]["conditions"]) == ["clean", "quiet"]
    assert (cached.read_bytes() if cached.is_file() else None) == before
    with pytest.raises(ValueError, match="test part"):
        robustness.measure(["crnn"], "filtered", data=synthetic_data, part="valid")


@pytest.fixture
def hears_loudness(tmp_path, monkeypatch):
    """A checkpoints root holding one hand-set run, "logreg": a softmax regression on the 57 features of the audio
    it hears whose answer is the loudness — classical where the frames' mean RMS is under 0.1, blues above (the
    synthetic clips are at ~0.2, the "quiet" condition brings them to ~0.018)."""
    import torch

    from mgc.frontends.features import FEATURE_NAMES
    from mgc.models import build_model
    from mgc.runs.checkpoints import save_model

    network = build_model("logreg")  # standardisation left at mean 0, std 1: the linear layer reads raw features
    with torch.no_grad():
        network.linear.weight.zero_()
        network.linear.bias.zero_()
        network.linear.bias[0] = 1.0  # blues
        network.linear.bias[1] = 10.0  # classical: 10 − 100 × rms_mean
        network.linear.weight[1, FEATURE_NAMES.index("rms_mean")] = -100.0
    save_model(tmp_path / "logreg" / "filtered" / "model.pt", "logreg", network, "filtered")
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    return tmp_path


def test_each_condition_is_applied_to_the_audio_the_runs_hear(hears_loudness, synthetic_data):
    """Pins that the benchmark's answers under a condition are the run's answers on the audio as the condition
    changed it, not on the clean clip: a run that answers by loudness says blues on every clean test clip and
    classical on every one played quietly."""
    record = robustness.measure(["logreg"], "filtered", data=synthetic_data, names=["quiet"], out=False)["logreg"]
    assert record["conditions"]["clean"]["answers"] == ["blues"] * 10
    assert record["conditions"]["quiet"]["answers"] == ["classical"] * 10


def test_a_split_without_test_audio_is_named(small_model, tmp_path, monkeypatch):
    from mgc.errors import DatasetError

    monkeypatch.setenv("MGC_CHECKPOINTS", str(small_model))
    (tmp_path / "splits").mkdir()
    for part in ("train", "valid", "test"):  # the split's lists, but no audio for any of its tracks
        (tmp_path / "splits" / f"{part}_filtered.txt").write_text("blues/blues.00000.wav\n")
    with pytest.raises(DatasetError, match="has audio"):
        robustness.measure(["crnn"], "filtered", data=tmp_path)


def _measured(model: str, right: list[bool], tracks: list[str]) -> dict:
    """A robustness.json record whose classroom-chain answers are right exactly where `right` says."""
    answers = [
        t.split(".")[0] if ok else ("rock" if not t.startswith("rock") else "pop") for t, ok in zip(tracks, right)
    ]
    return {"model": model, "tracks": tracks, "clips": len(tracks), "conditions": {"classroom": {"answers": answers}}}


TRACKS = [f"{g}.000{i:02d}" for g in ("blues", "jazz", "metal") for i in range(11)]  # 33 clips


def test_a_run_that_hears_recordings_measurably_better_on_the_same_clips_is_suggested():
    records = {
        ("crnn", "random"): _measured("crnn", [True] * 12 + [False] * 21, TRACKS),
        ("musicnn", "random"): _measured("musicnn", [True] * 11 + [False] + [True] * 8 + [False] * 13, TRACKS),
        ("cnn", "random"): _measured("cnn", [True] * 13 + [False] * 20, TRACKS),
        ("musicnn", "filtered"): _measured("musicnn", [True] * 33, TRACKS),  # another split: never compared
    }
    suggestion = robustness.better_for_recordings(records, "crnn", "random")
    assert (suggestion.model, suggestion.correct, suggestion.current_correct, suggestion.clips) == (
        "musicnn",
        19,
        12,
        33,
    )
    assert suggestion.p_value == pytest.approx(0.039, abs=0.001)  # 8 clips right only by musicnn, 1 only by the crnn
    assert robustness.better_for_recordings(records, "musicnn", "random") is None  # nothing better than the best
    assert robustness.better_for_recordings(records, "lstm", "random") is None  # never measured


def test_no_suggestion_for_a_difference_within_the_noise_or_a_run_wrong_on_most_clips():
    within_noise = {
        ("crnn", "random"): _measured("crnn", [True] * 12 + [False] * 21, TRACKS),
        ("musicnn", "random"): _measured("musicnn", [True] * 16 + [False] * 17, TRACKS),  # 4 more, p = 0.125
    }
    assert robustness.better_for_recordings(within_noise, "crnn", "random") is None
    mostly_wrong = {
        ("crnn", "random"): _measured("crnn", [False] * 33, TRACKS),
        ("logreg", "random"): _measured("logreg", [True] * 10 + [False] * 23, TRACKS),  # p = 0.002, but 10 of 33
    }
    assert robustness.better_for_recordings(mostly_wrong, "crnn", "random") is None
