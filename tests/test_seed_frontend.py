"""The seeds' own front end (12-kHz, 96-band log-mel in ≈ 29-s windows) and `crnn-seed`, the CRNN trained on it from
audio: shapes and values, the family, training end to end, classifying."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch

import mgc
from mgc.data.audio import Audio
from mgc.data.gtzan import GENRES
from mgc.errors import DatasetError
from mgc.frontends import SEED_INPUT
from mgc.frontends.seed_input import (
    FRAME_SECONDS,
    MEL_BASIS_FILE,
    N_FFT,
    N_MELS,
    SAMPLE_RATE,
    TOP_DB,
    WINDOW_FRAMES,
    log_mel,
)
from mgc.models import build_model, family
from mgc.runs.checkpoints import load_model, read_json, run_dir
from mgc.train import train
from mgc.train.audio_network import AudioNetworkTrainConfig, train_audio_network
from tests.conftest import SR, encode, sine_chord

SMALL = {"channels": [8, 8, 16, 16, 16], "gru_hidden": 8}
FEW_EPOCHS = AudioNetworkTrainConfig(epochs=2, patience=1000)


def audio(samples: np.ndarray) -> Audio:
    return Audio(samples.astype(np.float32), SR, len(samples) / SR, SR, 1)


def test_a_30_s_clip_is_one_window_of_96_bands_and_1366_frames():
    model_input = SEED_INPUT.from_audio(audio(sine_chord(30.0)))
    assert model_input.dtype == np.float32
    assert model_input.shape == (N_MELS, 1 + 30 * SAMPLE_RATE // 256)
    (batch,) = list(SEED_INPUT.batches(model_input))
    assert batch[0].shape == (1, N_MELS, WINDOW_FRAMES)
    starts, ends = SEED_INPUT.window_times(model_input, 30.0)
    assert starts.tolist() == [0.0] and ends[0] == pytest.approx(WINDOW_FRAMES * FRAME_SECONDS)  # ≈ 29.1 s


def test_60_s_of_audio_is_two_windows_from_its_first_frame_to_its_last():
    model_input = SEED_INPUT.from_audio(audio(sine_chord(60.0)))
    windows = torch.cat([batch[0] for batch in SEED_INPUT.batches(model_input)])
    assert windows.shape == (2, N_MELS, WINDOW_FRAMES)
    starts, ends = SEED_INPUT.window_times(model_input, 60.0)
    assert starts[0] == 0 and ends[-1] == pytest.approx(60.0, abs=FRAME_SECONDS)


def test_a_sines_energy_is_in_the_mel_band_of_its_frequency_and_the_loudest_bin_is_0_db():
    t = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE
    decibels = log_mel(np.sin(2 * np.pi * 1000.0 * t).astype(np.float32))
    import librosa  # the band of 1 kHz on the mel basis the front end stores (librosa's Slaney mel)

    centres = librosa.mel_frequencies(N_MELS + 2, fmax=SAMPLE_RATE / 2)[1:-1]
    loudest = decibels[:, 10:-10].mean(axis=1).argmax()
    assert abs(loudest - np.abs(centres - 1000.0).argmin()) <= 1
    assert decibels.max() == 0.0 and decibels.min() >= -TOP_DB


def test_the_stored_mel_basis_is_librosas_at_12_khz():
    import librosa

    with np.load(MEL_BASIS_FILE) as stored:
        basis = stored["mel_basis"]
    expected = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)
    assert np.allclose(basis, expected, rtol=1e-6, atol=1e-9)


def test_a_quiet_recording_gives_the_same_input_as_a_loud_one():
    loud = SEED_INPUT.from_audio(audio(sine_chord(5.0)))
    quiet = SEED_INPUT.from_audio(audio(sine_chord(5.0) * 10 ** (-35 / 20)))
    assert np.abs(loud - quiet).max() < 0.01


def test_the_crnn_seed_family_is_the_crnn_on_96_float_bands_and_runs_on_the_front_ends_windows():
    chosen = family("crnn-seed")
    assert chosen.frontend is SEED_INPUT and chosen.trainer == "audio-network"
    model = build_model("crnn-seed", SMALL).eval()
    assert model.config.bands == N_MELS and model.normalise.mean.shape == (N_MELS,)
    (batch,) = list(SEED_INPUT.batches(SEED_INPUT.from_audio(audio(sine_chord(30.0)))))
    with torch.inference_mode():
        out = model(*batch)
    assert out["logits"].shape == (1, len(GENRES)) and out["embedding"].shape == (1, 2 * SMALL["gru_hidden"])


@pytest.fixture(scope="module")
def trained_root(synthetic_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("checkpoints")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MGC_CHECKPOINTS", str(root))
        train_audio_network("crnn-seed", "filtered", data=synthetic_data, config=FEW_EPOCHS, model_config=SMALL)
    return root


@pytest.fixture
def checkpoints(trained_root, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(trained_root))
    return trained_root


def test_training_from_audio_saves_a_run_with_the_clip_counts_and_the_front_ends_version(checkpoints):
    record = read_json(run_dir("crnn-seed", "filtered") / "training.json")
    assert record["train_tracks"] == 2 * len(GENRES) and record["valid_tracks"] == len(GENRES)
    assert record["clips_with_audio"] == {"train": 20, "valid": 10, "test": 10}
    assert len(pd.read_csv(run_dir("crnn-seed", "filtered") / "history.csv")) == FEW_EPOCHS.epochs
    network, saved = load_model("crnn-seed", "filtered")
    assert saved["representation"] == SEED_INPUT.version
    assert not torch.allclose(network.normalise.mean, torch.zeros(N_MELS))


def test_training_refuses_a_split_whose_train_clips_with_audio_miss_a_genre(synthetic_data, tmp_path):
    root = tmp_path / "gtzan"
    shutil.copytree(synthetic_data, root)
    for clip in (root / "genres_original" / "jazz").iterdir():
        clip.unlink()
    with pytest.raises(DatasetError, match="no clip with audio of jazz"):
        train_audio_network("crnn-seed", "filtered", data=root, config=FEW_EPOCHS, out_dir=tmp_path / "run")
    assert not (tmp_path / "run" / "model.pt").exists()


def test_the_train_command_dispatches_crnn_seed_to_the_audio_network_trainer(synthetic_data, tmp_path):
    out = train("crnn-seed", "filtered", data=synthetic_data, epochs=1, out_dir=tmp_path / "run")
    assert read_json(out / "training.json")["epochs_run"] == 1


def test_classify_gives_a_genre_and_a_window_of_29_s(checkpoints):
    prediction = mgc.classify(encode(sine_chord(30.0)), model="crnn-seed", split="filtered")
    assert len(prediction.timeline) == 1
    assert prediction.genre in GENRES


@pytest.mark.real_data
def test_the_shipped_crnn_seed_run_names_a_genre_of_a_real_clip(real_data):
    clip = next(t for t in real_data.split("random").test if t in real_data.audio)
    prediction = mgc.classify(real_data.audio[clip], model="crnn-seed", split="random")
    assert len(prediction.timeline) == 1  # a 30-s clip: one ≈ 29-s window
    assert prediction.genre in GENRES


def test_the_issues_spelling_crnn_with_the_seed_front_end_trains_crnn_seed(synthetic_data, tmp_path):
    from mgc.cli import main

    out = tmp_path / "run"
    args = ["train", "--model", "crnn", "--frontend", "seed", "--split", "filtered", "--epochs", "1"]
    assert main([*args, "--data", str(synthetic_data), "--out", str(out)]) == 0
    assert read_json(out / "training.json")["family"] == "crnn-seed"
