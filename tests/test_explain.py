"""Saliency, the "this may not be music" check and the embedding map."""

import numpy as np
import pytest
import torch

from mgc import GENRES, explain, load_audio
from mgc.evaluate import EmbeddingMap
from mgc.explain import not_music, saliency_map
from mgc.models import build_model
from tests.conftest import SR, sine_chord

# --- saliency ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return build_model("crnn", {"channels": [4, 4, 4, 4, 4], "gru_hidden": 8}).eval()


@pytest.mark.parametrize("columns", [40, 300])  # one window, and several overlapping windows
def test_saliency_has_the_shape_of_the_picture(small_model, columns):
    picture = np.random.default_rng(0).integers(0, 256, (128, columns), dtype=np.uint8)
    result = explain.saliency(small_model, picture, "rock")
    assert result.shape == picture.shape and np.isfinite(result).all() and np.abs(result).sum() > 0


def test_saliency_is_zero_where_the_picture_is_zero(small_model):
    picture = np.random.default_rng(1).integers(1, 256, (128, 60), dtype=np.uint8)
    picture[:, :10] = 0
    result = explain.saliency(small_model, picture, 3)
    assert (result[:, :10] == 0).all()


def test_saliency_leaves_no_gradient_on_the_shared_model(small_model):
    explain.saliency(small_model, np.full((128, 300), 100, dtype=np.uint8), "blues")
    assert all(parameter.grad is None for parameter in small_model.parameters())


def test_saliency_in_batches_equals_saliency_in_one_pass(small_model, monkeypatch):
    picture = np.random.default_rng(2).integers(0, 256, (128, 400), dtype=np.uint8)
    batched = explain.saliency(small_model, picture, "jazz")
    monkeypatch.setattr(saliency_map, "SALIENCY_BATCH", 1000)
    assert np.allclose(batched, explain.saliency(small_model, picture, "jazz"), atol=1e-6)


# --- "this may not be music" ----------------------------------------------------------------


def white_noise(seconds=5.0, level=0.3, seed=0):
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def speech_like(seconds=6.0, seed=0):
    """A voiced buzz (120 Hz with harmonics and a slow pitch glide) in syllables of ~4 Hz, words with pauses."""
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(120 + 20 * np.sin(2 * np.pi * 0.5 * t)) / SR
    voice = sum(np.sin(k * phase) / k for k in range(1, 30))
    syllables = np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    words = np.sin(2 * np.pi * 0.6 * t) > -0.3
    hiss = 0.001 * np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * voice * syllables * words + hiss).astype(np.float32)


@pytest.mark.parametrize("signal", ["chord", "noise", "speech-like", "short"])
def test_frame_loudness_and_flatness_are_librosas(signal):
    import librosa

    y = {"chord": sine_chord(5.0), "noise": white_noise(), "speech-like": speech_like(), "short": sine_chord(0.2)}[
        signal
    ]
    frame_rms, flatness = not_music.frame_loudness_and_flatness(y)
    np.testing.assert_allclose(
        frame_rms, librosa.feature.rms(y=y, frame_length=2048, hop_length=512)[0], rtol=1e-4, atol=1e-7
    )
    np.testing.assert_allclose(
        flatness, librosa.feature.spectral_flatness(y=y, n_fft=2048, hop_length=512)[0], rtol=1e-3, atol=1e-6
    )


def test_white_noise_may_not_be_music_because_it_is_flat():
    check = explain.music_check(white_noise())
    assert check.may_not_be_music and check.flatness > not_music.NOISE_FLATNESS


def test_quiet_noise_may_not_be_music_because_it_is_quiet():
    check = explain.music_check(white_noise(level=0.003))
    assert check.rms_dbfs < not_music.QUIET_RMS_DBFS
    assert any("quiet" in reason for reason in check.reasons)


def test_speech_like_signal_may_not_be_music_because_it_stops_and_starts():
    check = explain.music_check(speech_like())
    assert check.pause_fraction > not_music.SPEECH_PAUSE_FRACTION and check.flatness < not_music.NOISE_FLATNESS
    assert any("speech" in reason for reason in check.reasons)


def test_a_steady_chord_with_a_confident_answer_passes():
    confident = {g: (0.91 if g == "rock" else 0.01) for g in GENRES}
    assert not explain.music_check(sine_chord(5.0), confident).may_not_be_music


def test_a_model_that_cannot_choose_raises_the_doubt():
    uniform = dict.fromkeys(GENRES, 0.1)
    check = explain.music_check(sine_chord(5.0), uniform)
    assert check.entropy == pytest.approx(1.0) and check.may_not_be_music


def test_normalised_entropy_runs_from_zero_to_one():
    assert explain.normalised_entropy([1.0] + [0.0] * 9) == 0.0
    assert explain.normalised_entropy([0.1] * 10) == pytest.approx(1.0)


@pytest.mark.real_data
def test_real_gtzan_audio_passes_the_signal_checks(real_data):
    """No GTZAN clip with audio here is called quiet, noisy or speech-like (the model's entropy aside)."""
    clips = sorted(real_data.audio.values())[::5]
    flagged = [clip.name for clip in clips if explain.music_check(load_audio(clip).samples).may_not_be_music]
    assert flagged == []


# --- embedding map -------------------------------------------------------------------------------


def test_embedding_map_projects_its_own_tracks_onto_their_points(tmp_path):
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((12, 6)) * [5, 3, 1, 0.1, 0.1, 0.1]
    tracks = [f"{GENRES[i % 10]}.{i:05d}" for i in range(12)]
    fitted = EmbeddingMap.fit(tracks, embeddings)
    assert list(fitted.points.columns) == ["track", "genre", "x", "y"]
    assert fitted.project(embeddings[3]) == pytest.approx((fitted.points.x[3], fitted.points.y[3]))
    assert fitted.explained[0] > fitted.explained[1] and sum(fitted.explained) > 0.9

    fitted.save(tmp_path)
    loaded = EmbeddingMap.load(tmp_path)
    assert loaded.points["track"].tolist() == tracks
    assert loaded.project(embeddings[5]) == pytest.approx(fitted.project(embeddings[5]), abs=1e-4)


def test_embedding_map_is_none_where_it_was_never_built(tmp_path):
    assert EmbeddingMap.load(tmp_path) is None
