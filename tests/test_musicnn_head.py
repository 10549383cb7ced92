"""The musicnn head: the frozen pretrained musicnn's embedding → a small genre head; built, trained, evaluated,
classifying."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import mgc
from mgc.data.gtzan import GENRES, GTZAN
from mgc.errors import DatasetError
from mgc.evaluate import evaluate
from mgc.frontends import MUSICNN_INPUT
from mgc.frontends.musicnn_input import N_MELS, PATCH_FRAMES
from mgc.models import build_model, family
from mgc.models.musicnn import EMBEDDING_SIZE, weights_file_digest
from mgc.runs.checkpoints import load_model, read_json, run_dir
from mgc.train import train
from mgc.train.musicnn_head import MusicnnHeadTrainConfig, embedded_patches, train_musicnn_head
from tests.conftest import encode, sine_chord

FEW_EPOCHS = MusicnnHeadTrainConfig(candidates=(((), 0.0, 1e-3), ((16,), 0.5, 1e-3)), epochs=10, patience=1000)
TEST_CLIPS_WITH_AUDIO = 3


def patches(count: int) -> torch.Tensor:
    return torch.randn(count, PATCH_FRAMES, N_MELS, generator=torch.Generator().manual_seed(0))


def test_the_musicnn_family_reads_musicnns_patches_and_trains_from_audio():
    chosen = family("musicnn")
    assert chosen.frontend is MUSICNN_INPUT
    assert chosen.trainer == "audio"


@pytest.mark.parametrize(("hidden", "embedding_size"), [((), EMBEDDING_SIZE), ((64,), 64)])
def test_the_head_gives_logits_for_each_patch_and_the_embedding_its_last_layer_reads(hidden, embedding_size):
    outputs = build_model("musicnn", {"hidden": hidden})(patches(3))
    assert outputs["logits"].shape == (3, len(GENRES))
    assert outputs["embedding"].shape == (3, embedding_size)


def test_the_pretrained_network_is_not_in_the_heads_state_dict():
    head = build_model("musicnn", {"hidden": (64,)})
    assert sum(p.numel() for p in head.state_dict().values()) < 20_000  # musicnn itself has ≈ 790,000
    assert not any(p.requires_grad for p in head.pretrained.parameters())


def test_a_head_trained_over_other_musicnn_weights_is_refused():
    head = build_model("musicnn", {"musicnn_digest": "sha256:other"})
    with pytest.raises(mgc.CheckpointError, match="not those this head was trained over"):
        head(patches(1))
    assert build_model("musicnn", {"musicnn_digest": weights_file_digest("MSD_musicnn")})(patches(1))


@pytest.fixture(scope="module")
def few_clips_with_audio(synthetic_data, tmp_path_factory):
    """The synthetic GTZAN folder with the audio of most test clips gone, as in Kaggle's download."""
    root = tmp_path_factory.mktemp("musicnn-head") / "gtzan"
    shutil.copytree(synthetic_data, root)
    test_clips = (root / "splits" / "test_filtered.txt").read_text().split()
    for clip in test_clips[TEST_CLIPS_WITH_AUDIO:]:
        (root / "genres_original" / clip).unlink()
    return root


@pytest.fixture(scope="module")
def trained_root(few_clips_with_audio, tmp_path_factory):
    root = tmp_path_factory.mktemp("checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MGC_CHECKPOINTS", str(root))
        train_musicnn_head("filtered", data=few_clips_with_audio, config=FEW_EPOCHS)
    return root


@pytest.fixture
def checkpoints(trained_root, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(trained_root))
    return trained_root


def test_training_saves_a_run_with_the_clip_counts_and_the_musicnn_weights_it_read(checkpoints):
    record = read_json(run_dir("musicnn", "filtered") / "training.json")
    assert record["train_tracks"] == 2 * len(GENRES) and record["valid_tracks"] == len(GENRES)
    assert record["clips_with_audio"] == {"train": 20, "valid": 10, "test": TEST_CLIPS_WITH_AUDIO}
    assert len(record["candidates"]) == len(FEW_EPOCHS.candidates)
    saved = torch.load(run_dir("musicnn", "filtered") / "model.pt", weights_only=True)
    assert saved["representation"] == MUSICNN_INPUT.version
    assert saved["config"]["musicnn"] == "MSD_musicnn"
    assert saved["config"]["musicnn_digest"] == weights_file_digest("MSD_musicnn")
    assert len(pd.read_csv(run_dir("musicnn", "filtered") / "history.csv")) == FEW_EPOCHS.epochs


def test_the_robust_recipe_adds_the_patches_of_degraded_versions_of_each_train_clip(checkpoints, few_clips_with_audio):
    assert read_json(run_dir("musicnn", "filtered") / "training.json")["recipe"] == "robust"
    dataset = GTZAN(few_clips_with_audio)
    tracks = dataset.split("filtered").train[:2]
    _, clean = embedded_patches(dataset, tracks)
    _, robust = embedded_patches(dataset, tracks, degraded_renders=2)
    assert len(robust.embeddings) == 3 * len(clean.embeddings)
    assert np.array_equal(np.bincount(robust.track_index), 3 * np.bincount(clean.track_index))
    first = robust.track_index == 0
    per_version = first.sum() // 3
    np.testing.assert_allclose(robust.embeddings[first][:per_version], clean.embeddings[clean.track_index == 0])
    assert not np.allclose(
        robust.embeddings[first][per_version : 2 * per_version], robust.embeddings[first][:per_version]
    )
    _, again = embedded_patches(dataset, tracks, degraded_renders=2)
    np.testing.assert_array_equal(again.embeddings, robust.embeddings)  # the same versions every time


def test_training_refuses_a_split_whose_train_clips_with_audio_miss_a_genre(few_clips_with_audio, tmp_path):
    """As the fault-filtered split with Kaggle's 154 clips of audio: no train clip of blues, classical or jazz."""
    root = tmp_path / "gtzan"
    shutil.copytree(few_clips_with_audio, root)
    train_clips = (root / "splits" / "train_filtered.txt").read_text().split()
    for clip in [c for c in train_clips if "jazz." in c]:
        (root / "genres_original" / clip).unlink()
    with pytest.raises(DatasetError, match="no clip with audio of jazz"):
        train_musicnn_head("filtered", data=root, config=FEW_EPOCHS, out_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "model.pt").exists()


def test_the_head_standardises_musicnns_embedding_on_the_train_patches(checkpoints):
    network, _ = load_model("musicnn", "filtered")
    assert network.normalise.std.min() > 0
    assert not torch.allclose(network.normalise.mean, torch.zeros(EMBEDDING_SIZE, dtype=torch.float64))


def test_the_train_command_dispatches_the_musicnn_family_to_its_trainer(few_clips_with_audio, tmp_path):
    out = train("musicnn", "filtered", data=few_clips_with_audio, epochs=2, out_dir=tmp_path / "run")
    assert (out / "model.pt").is_file()
    assert read_json(out / "training.json")["epochs_run"] == 2


def test_evaluation_reads_only_the_test_clips_that_have_audio_and_counts_them(checkpoints, few_clips_with_audio):
    metrics = evaluate("musicnn", "filtered", data=few_clips_with_audio)
    table = pd.read_csv(run_dir("musicnn", "filtered") / "predictions.csv")
    assert metrics["test_tracks"] == TEST_CLIPS_WITH_AUDIO == len(table)
    assert len(metrics["test_tracks_missing"]) == len(GENRES) - TEST_CLIPS_WITH_AUDIO


def test_classify_gives_a_timeline_over_3_s_patches(checkpoints):
    prediction = mgc.classify(encode(sine_chord(10.0)), model="musicnn", split="filtered")
    assert len(prediction.timeline) == 3  # 10 s: three whole 3-s patches
    assert np.allclose(prediction.timeline[list(GENRES)].sum(axis=1), 1.0, atol=1e-5)
    assert prediction.genre in GENRES


@pytest.mark.real_data
def test_the_shipped_musicnn_run_names_the_genre_of_a_real_clip(real_data):
    clip = next(t for t in real_data.split("random").test if t in real_data.audio and t.startswith("classical"))
    prediction = mgc.classify(real_data.audio[clip], model="musicnn", split="random")
    assert len(prediction.timeline) == 10  # a 30-s clip: ten 3-s patches
    assert prediction.genre == "classical"
