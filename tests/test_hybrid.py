"""The hybrid: a frozen picture run's embedding + the 57 features → an MLP head; trained, checked, classifying."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import mgc
from mgc.data.gtzan import GENRES
from mgc.evaluate import evaluate
from mgc.frontends.picture import window_starts
from mgc.runs import ensembles
from mgc.runs.checkpoints import load_model, read_json, run_digest, run_dir
from mgc.train import TrainConfig, train
from mgc.train.ensembles import build_ensemble
from mgc.train.hybrid import HybridTrainConfig, train_hybrid
from mgc.train.tabular import feature_parts
from tests.conftest import encode, sine_chord, tiny_gtzan

PICTURE_CONFIG = {"channels": [8, 8, 16, 16, 16]}
"""A tiny cnn: its embedding has 2 × 16 values."""
FEW_EPOCHS = HybridTrainConfig(picture_models=("cnn",), remedies=((0.0, 0.0),), epochs=15, patience=1000, batch_size=16)


@pytest.fixture(scope="module")
def hybrid_data(tmp_path_factory):
    """A GTZAN folder with audio (4 clips of 4 s per genre: 2 train, 1 valid, 1 test) and the features_30_sec.csv
    that `extract_features` gives for that audio, so the CSV rows are what classify computes."""
    return tiny_gtzan(tmp_path_factory.mktemp("hybrid") / "gtzan", features=True)


@pytest.fixture(scope="module")
def trained_root(hybrid_data, tmp_path_factory):
    """A checkpoints root with a tiny cnn and a hybrid over it, both on the filtered split."""
    root = tmp_path_factory.mktemp("checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MGC_CHECKPOINTS", str(root))
        train(
            "cnn",
            "filtered",
            data=hybrid_data,
            config=TrainConfig(epochs=3, mixup_alpha=0.0),
            model_config=PICTURE_CONFIG,
        )
        train_hybrid("filtered", data=hybrid_data, config=FEW_EPOCHS)
    return root


@pytest.fixture
def checkpoints(trained_root, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(trained_root))
    return trained_root


def test_hybrid_training_lowers_the_loss_in_a_few_epochs(checkpoints):
    history = pd.read_csv(run_dir("hybrid", "filtered") / "history.csv")
    assert len(history) == FEW_EPOCHS.epochs
    assert history["train_loss"].iloc[-3:].mean() < 0.7 * history["train_loss"].iloc[0]


def test_hybrid_checkpoint_holds_the_head_and_names_its_picture_run_and_both_input_versions(checkpoints):
    saved = torch.load(run_dir("hybrid", "filtered") / "model.pt", weights_only=True)
    assert saved["family"] == "hybrid"
    assert saved["representation"] == "kaggle-mel-v1+kaggle-features-30s-v1"
    assert saved["config"]["picture_model"] == "cnn"
    assert saved["config"]["picture_digest"] == run_digest("cnn", "filtered")
    assert saved["config"]["embedding_size"] == 2 * PICTURE_CONFIG["channels"][-1]
    assert not any(name.startswith("picture.") for name in saved["state_dict"])


def test_hybrid_standardises_the_features_on_the_train_rows_only(checkpoints, hybrid_data):
    network, _ = load_model("hybrid", "filtered")
    train_rows = feature_parts(mgc.GTZAN(hybrid_data), "filtered").train_rows
    assert np.allclose(network.normalise.mean.numpy(), train_rows.mean(axis=0), rtol=1e-10)
    assert np.allclose(network.normalise.std.numpy(), np.where(train_rows.std(axis=0) > 0, train_rows.std(axis=0), 1))


def test_hybrid_refuses_a_picture_run_whose_weights_changed(checkpoints, tmp_path, monkeypatch):
    copy = tmp_path / "checkpoints"
    shutil.copytree(checkpoints, copy)
    monkeypatch.setenv("MGC_CHECKPOINTS", str(copy))
    load_model("hybrid", "filtered")  # unchanged: loads
    path = copy / "cnn" / "filtered" / "model.pt"
    saved = torch.load(path, weights_only=True)
    first = next(name for name in saved["state_dict"] if name.endswith("weight"))
    saved["state_dict"][first] = saved["state_dict"][first] + 0.01
    torch.save(saved, path)
    with pytest.raises(mgc.CheckpointError, match="'cnn' run of the filtered split has changed"):
        load_model("hybrid", "filtered")


def test_hybrid_classifies_a_clip_with_one_timeline_row_per_window(checkpoints):
    prediction = mgc.classify(encode(sine_chord(25.0)), model="hybrid", split="filtered")
    windows = len(window_starts(prediction.picture.shape[1]))
    assert windows > 1 and len(prediction.timeline) == windows
    assert np.allclose(prediction.timeline[list(GENRES)].sum(axis=1), 1.0, atol=1e-5)
    assert np.allclose(list(prediction.probabilities.values()), prediction.timeline[list(GENRES)].mean(), atol=1e-6)
    assert prediction.embedding.shape == (FEW_EPOCHS.hidden[-1],)


def test_evaluated_hybrid_says_of_each_test_track_what_classify_says_of_its_audio(checkpoints, hybrid_data):
    metrics = evaluate("hybrid", "filtered", data=hybrid_data)
    table = pd.read_csv(run_dir("hybrid", "filtered") / "predictions.csv").set_index("track")
    assert metrics["test_tracks"] == len(GENRES) == len(table)
    cnn, _ = load_model("cnn", "filtered")
    head = read_json(run_dir("hybrid", "filtered") / "training.json")["parameters"]
    assert metrics["parameters"] == head + sum(p.numel() for p in cnn.parameters())
    dataset = mgc.GTZAN(hybrid_data)
    for track in table.index[:3]:
        prediction = mgc.classify(dataset.audio[track], model="hybrid", split="filtered")
        assert np.allclose(
            list(prediction.probabilities.values()), table.loc[track, list(GENRES)].to_numpy(float), atol=1e-4
        )


def test_hybrid_is_chosen_on_validation_among_its_remedies(checkpoints, hybrid_data, tmp_path):
    config = HybridTrainConfig(
        picture_models=("cnn", "crnn"), remedies=((0.0, 0.0), (0.8, 0.0), (0.2, 2.0)), epochs=5, batch_size=16
    )
    out = train_hybrid("filtered", data=hybrid_data, out_dir=tmp_path / "hybrid", config=config)
    record = read_json(out / "training.json")
    assert [c["picture_model"] for c in record["candidates"]] == ["cnn"] * 3  # no crnn run here: cnn only
    best = max(record["candidates"], key=lambda c: (c["valid_accuracy"], -c["valid_loss"]))
    assert record["best_valid_accuracy"] == best["valid_accuracy"]
    saved = torch.load(out / "model.pt", weights_only=True)
    assert (saved["config"]["embedding_dropout"], saved["config"]["embedding_noise"]) == (
        best["embedding_dropout"],
        best["embedding_noise"],
    )


def test_an_ensemble_with_a_hybrid_member_classifies_audio_on_the_picture_windows(
    checkpoints, hybrid_data, tmp_path, monkeypatch
):
    copy = tmp_path / "checkpoints"
    shutil.copytree(checkpoints, copy)
    monkeypatch.setenv("MGC_CHECKPOINTS", str(copy))
    for member in ("cnn", "hybrid"):  # this test is about windows: members shown as trained (see test_calibration)
        (copy / member / "filtered" / "calibration.json").unlink(missing_ok=True)
    build_ensemble("ensemble-sum", "filtered", data=hybrid_data, members=("cnn", "hybrid"))
    audio = encode(sine_chord(25.0))
    together = mgc.classify(audio, model="ensemble-sum", split="filtered")
    apart = [mgc.classify(audio, model=m, split="filtered") for m in ("cnn", "hybrid")]
    assert len(together.timeline) == len(apart[0].timeline) == len(apart[1].timeline) > 1
    expected = np.mean([list(p.probabilities.values()) for p in apart], axis=0)
    assert np.allclose(list(together.probabilities.values()), expected, atol=1e-6)


def test_an_ensemble_counts_the_picture_run_its_hybrid_member_reads_once(checkpoints):
    cnn, _ = load_model("cnn", "filtered")
    head = read_json(run_dir("hybrid", "filtered") / "training.json")["parameters"]
    together = ensembles.Ensemble("ensemble-sum", "sum", ("cnn", "hybrid")).parameters("filtered")
    assert together == sum(p.numel() for p in cnn.parameters()) + head
