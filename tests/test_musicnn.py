"""musicnn in PyTorch: the converted networks compute what TensorFlow computed, and the front end draws musicnn's input.

`mgc/models/musicnn_weights/reference.npz` holds, for patches of two shipped examples and two synthetic
signals, the float32 log-mel patches fed to musicnn's own TensorFlow graph and its outputs
(`tools/convert_musicnn.py`); these tests need neither TensorFlow nor the network.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mgc.data.audio import Audio, load_audio
from mgc.frontends import MUSICNN_INPUT, FrontEnd, MusicnnInput
from mgc.frontends.musicnn_input import (
    HOP_LENGTH,
    LEVEL_DBFS,
    MEL_BASIS_FILE,
    N_FFT,
    N_MELS,
    PATCH_BATCH,
    PATCH_FRAMES,
    PATCH_SECONDS,
    SAMPLE_RATE,
    audio_patches,
    levelled,
    log_mel,
    patches,
    resample_to_16k,
)
from mgc.models.musicnn import (
    EMBEDDING_SIZE,
    MODEL_NAMES,
    TAGS,
    WEIGHTS_FOLDER,
    FoldedMusicnn,
    Musicnn,
    load_musicnn,
)
from tests.conftest import SR, encode, sine_chord

ROOT = WEIGHTS_FOLDER.parent.parent.parent
TAGGRAM_TOLERANCE = 1e-4
EMBEDDING_TOLERANCE = 1e-3
LOG_MEL_TOLERANCE = 3e-4
"""musicnn rounds the mel to float16 before its log, ours stays float32: |Δ log10(1 + 10000·mel)| ≤ log10(1 + 2⁻¹¹)
≈ 2.1e-4, which is what we measure (2.12e-4 on all ten shipped examples); the rest (soxr, float32 STFT) is ≤ 1e-5."""


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(WEIGHTS_FOLDER / "reference.npz") as stored:
        return dict(stored)


def _outputs(name: str, folded: bool, patch_array: np.ndarray) -> dict[str, np.ndarray]:
    with torch.no_grad():
        outputs = load_musicnn(name, folded=folded)(torch.from_numpy(patch_array))
    return {key: value.numpy() for key, value in outputs.items()}


@pytest.mark.parametrize("folded", [False, True], ids=["as-in-checkpoint", "folded"])
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_pytorch_network_computes_tensorflows_taggram_and_embedding(reference, name, folded):
    """Measured: taggram within 5e-6 and embedding within 2e-5 of TensorFlow's, for both layouts."""
    outputs = _outputs(name, folded, reference["patches"])
    assert np.abs(outputs["taggram"] - reference[f"{name}/taggram"]).max() <= TAGGRAM_TOLERANCE
    assert np.abs(outputs["embedding"] - reference[f"{name}/embedding"]).max() <= EMBEDDING_TOLERANCE
    assert np.abs(outputs["logits"] - reference[f"{name}/logits"]).max() <= EMBEDDING_TOLERANCE


def test_the_reference_covers_real_music_and_synthetic_signals_but_no_gtzan(reference):
    sources = set(reference["sources"])
    assert any(s.startswith("examples/") for s in sources) and any(s.startswith("synthetic") for s in sources)
    assert not any("gtzan" in s.lower() for s in sources)
    assert reference["patches"].dtype == np.float32 and reference["patches"].shape[1:] == (PATCH_FRAMES, N_MELS)
    assert np.isfinite(reference["patches"]).all()  # the float32 log: none of musicnn's float16 overflows
    assert {"tensorflow", "librosa", "numpy"} <= set(json.loads(str(reference["versions"])))


def test_the_front_end_draws_musicnns_patches_from_a_shipped_example(reference):
    for example, count in zip(reference["examples"], reference["example_patch_counts"]):
        ours = audio_patches(load_audio(ROOT / example).samples)
        assert len(ours) == count  # as many non-overlapping patches as musicnn cuts
        rows = np.flatnonzero(reference["sources"] == example)
        starts = reference["start_frames"][rows] // PATCH_FRAMES
        assert np.abs(ours[starts] - reference["patches"][rows]).max() <= LOG_MEL_TOLERANCE


def test_the_stored_mel_basis_is_librosas():
    librosa = pytest.importorskip("librosa")
    with np.load(MEL_BASIS_FILE) as stored:
        expected = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS)
        np.testing.assert_allclose(stored["mel_basis"], expected, rtol=1e-6, atol=0)


def test_patches_are_consecutive_and_do_not_overlap():
    frames = np.arange(3 * PATCH_FRAMES + 50, dtype=np.float32)[:, None] * np.ones(N_MELS, dtype=np.float32)
    cut = patches(frames)
    assert cut.shape == (3, PATCH_FRAMES, N_MELS)  # the incomplete fourth is dropped
    assert [p[0, 0] for p in cut] == [0, PATCH_FRAMES, 2 * PATCH_FRAMES]


def test_ten_seconds_of_audio_give_three_patches_of_log_mel():
    samples_16k = resample_to_16k(sine_chord(10.0))
    assert len(samples_16k) == 160000
    frames = log_mel(samples_16k)
    assert frames.shape == (1 + len(samples_16k) // HOP_LENGTH, N_MELS) and frames.dtype == np.float32
    assert frames.min() >= 0.0  # log10(1 + 10000·mel) of a power
    assert audio_patches(sine_chord(10.0)).shape == (3, PATCH_FRAMES, N_MELS)


def test_audio_shorter_than_a_patch_is_repeated_to_one_patch():
    """musicnn's training 'repeat-pad': 1.5 s of chord fills the whole patch, not half a patch and then silence."""
    cut = audio_patches(sine_chord(1.5))
    assert cut.shape == (1, PATCH_FRAMES, N_MELS) and np.isfinite(cut).all()
    first_half, second_half = cut[0, 10:80].mean(), cut[0, 110:180].mean()
    assert second_half == pytest.approx(first_half, rel=0.05)


def test_the_network_returns_tag_probabilities_logits_and_a_200_d_embedding():
    network = load_musicnn("MTT_musicnn")
    with torch.no_grad():
        outputs = network(torch.from_numpy(audio_patches(sine_chord(7.0))))
    assert outputs["taggram"].shape == outputs["logits"].shape == (2, TAGS)
    assert outputs["embedding"].shape == (2, EMBEDDING_SIZE)
    assert torch.equal(outputs["taggram"], torch.sigmoid(outputs["logits"]))
    assert len(network.tags) == TAGS and network.tags[:2] == ("guitar", "classical")


def test_networks_are_loaded_once_in_eval_mode_and_folded_by_default():
    network = load_musicnn("MSD_musicnn")
    assert network is load_musicnn("MSD_musicnn") and isinstance(network, FoldedMusicnn)
    assert isinstance(load_musicnn("MSD_musicnn", folded=False), Musicnn)
    assert not network.training and not any(p.requires_grad for p in network.parameters())
    assert network.tags[:3] == ("rock", "pop", "alternative")


def test_an_unknown_model_name_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="MSD_musicnn"):
        load_musicnn("MSD_vgg")


def test_the_weights_ship_with_musicnns_licence_and_attribution():
    licence = (WEIGHTS_FOLDER / "LICENSE-musicnn.txt").read_text()
    assert "Jordi Pons" in licence and "Xavier Serra" in licence and "Permission to use, copy, modify" in licence


def test_the_folded_network_on_a_few_patches_at_a_time_computes_the_checkpoints_layout_on_all_at_once(reference):
    """What serving runs (folded, channels-last, `PATCH_BATCH` patches per call) against the layer-by-layer port."""
    patch_array = reference["patches"]
    naive = _outputs("MSD_musicnn", False, patch_array)
    with torch.inference_mode():
        batches = [load_musicnn("MSD_musicnn")(*batch) for batch in MUSICNN_INPUT.batches(patch_array)]
    served = torch.cat([b["taggram"] for b in batches]).numpy()
    assert len(batches) == -(-len(patch_array) // PATCH_BATCH)
    assert np.abs(served - naive["taggram"]).max() <= 1e-5


def _audio(samples: np.ndarray) -> Audio:
    return Audio(samples, SR, len(samples) / SR, SR, 1)


def test_musicnn_input_is_a_front_end_of_audio_with_its_own_version():
    assert isinstance(MUSICNN_INPUT, MusicnnInput) and isinstance(MUSICNN_INPUT, FrontEnd)
    assert MUSICNN_INPUT.describes == "audio"
    assert MUSICNN_INPUT.version.startswith("musicnn") and MUSICNN_INPUT.version != "kaggle-mel-v1"


def test_musicnn_input_of_audio_is_the_patches_of_the_audio_at_one_level():
    samples = sine_chord(10.0)
    np.testing.assert_array_equal(MUSICNN_INPUT.from_audio(_audio(samples)), audio_patches(levelled(samples)))
    rms_db = 20 * np.log10(np.sqrt(np.mean(np.square(levelled(samples), dtype=np.float64))))
    assert abs(rms_db - LEVEL_DBFS) < 0.01
    quiet = MUSICNN_INPUT.from_audio(_audio(samples * 10 ** (-35 / 20)))
    np.testing.assert_allclose(quiet, MUSICNN_INPUT.from_audio(_audio(samples)), atol=1e-4)  # the level is gone
    loud = audio_patches(samples)
    assert np.abs(audio_patches(samples * 10 ** (-35 / 20)) - loud).max() > 1.0  # …which the bare log-mel keeps
    silence = np.zeros(SR * 4, dtype=np.float32)
    np.testing.assert_array_equal(levelled(silence), silence)


def test_musicnn_input_batches_a_few_patches_at_a_time_and_loses_none():
    patch_array = audio_patches(sine_chord(16.0))  # 5 patches
    batches = list(MUSICNN_INPUT.batches(patch_array))
    assert all(len(args) == 1 and len(args[0]) <= PATCH_BATCH for args in batches)
    np.testing.assert_array_equal(torch.cat([args[0] for args in batches]).numpy(), patch_array)


def test_musicnn_windows_are_consecutive_3_s_patches_within_the_audio():
    starts, ends = MUSICNN_INPUT.window_times(audio_patches(sine_chord(10.0)), 10.0)
    np.testing.assert_allclose(starts, [0, PATCH_SECONDS, 2 * PATCH_SECONDS])
    np.testing.assert_allclose(ends - starts, PATCH_SECONDS)
    short_starts, short_ends = MUSICNN_INPUT.window_times(audio_patches(sine_chord(1.5)), 1.5)
    assert list(short_starts) == [0.0] and list(short_ends) == [1.5]  # the repeated audio's one patch spans it


def test_musicnn_input_of_a_dataset_gives_the_tracks_with_readable_audio_only(tmp_path):
    good, broken = tmp_path / "blues.00000.wav", tmp_path / "blues.00001.wav"
    good.write_bytes(encode(sine_chord(4.0)))
    broken.write_bytes(b"not audio at all" * 100)
    dataset = type("Dataset", (), {"audio": {"blues.00000": good, "blues.00001": broken}})()
    inputs = MUSICNN_INPUT.from_dataset(dataset, ["blues.00000", "blues.00001", "blues.00002"])
    assert list(inputs) == ["blues.00000"]  # the broken file and the track without audio are left out
    assert inputs["blues.00000"].shape == (1, PATCH_FRAMES, N_MELS)
