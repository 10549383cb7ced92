"""The not-music gate (`mgc.gate`): its measurements, the labelled set's recipe, fitting, and the shipped gate on
real recordings and synthesised speech."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from mgc import load_audio
from mgc.data.examples import examples_of
from mgc.errors import CheckpointError
from mgc.gate import CLASSES, Gate, check, labelled_set, load_gate
from mgc.gate import fit as gate_fit
from mgc.gate.measurements import FRAME, HOP, NAMES, frame_loudness_and_flatness, measure, speech_share
from tests.conftest import SR, sine_chord

needs_espeak = pytest.mark.skipif(not labelled_set.espeak_available(), reason="espeak-ng is not installed")


def white_noise(seconds=5.0, level=0.3, seed=0):
    return (level * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(np.float32)


def spoken(
    text="Good morning, everyone. Please open your books on page twelve and read the first story.", voice="en+m3"
):
    return labelled_set.espeak(text, voice, 150)


# --- measurements ------------------------------------------------------------------------------


@pytest.mark.parametrize("signal", ["chord", "noise", "short"])
def test_frame_loudness_and_flatness_are_librosas(signal):
    import librosa

    y = {"chord": sine_chord(5.0), "noise": white_noise(), "short": sine_chord(0.2)}[signal]
    frame_rms, flatness, _ = frame_loudness_and_flatness(y)
    np.testing.assert_allclose(
        frame_rms, librosa.feature.rms(y=y, frame_length=FRAME, hop_length=HOP)[0], rtol=1e-4, atol=1e-7
    )
    np.testing.assert_allclose(
        flatness, librosa.feature.spectral_flatness(y=y, n_fft=FRAME, hop_length=HOP)[0], rtol=1e-3, atol=1e-6
    )


@needs_espeak
def test_the_voice_detector_hears_speech_in_speech_and_none_in_a_chord():
    assert speech_share(spoken()) > 0.5
    assert speech_share(sine_chord(5.0)) < 0.05


def test_the_voice_detector_keeps_the_projects_thread_count():
    before = torch.get_num_threads()
    speech_share(sine_chord(2.0))
    assert torch.get_num_threads() == before


def test_noise_is_flat_and_a_steady_chord_barely_changes():
    noise, chord = measure(white_noise()), measure(sine_chord(5.0))
    assert noise.flatness > 0.3 > chord.flatness
    assert chord.spectral_change < noise.spectral_change


def test_a_click_track_has_a_beat_and_noise_has_none():
    clicks = np.zeros(SR * 8, dtype=np.float32)
    for start in range(0, len(clicks) - 200, SR // 2):  # 120 bpm
        clicks[start : start + 200] = np.hanning(200) * np.sin(np.arange(200))
    assert measure(clicks + white_noise(8.0, 0.001)).beat_strength > 0.8
    assert measure(white_noise(8.0)).beat_strength < 0.2


def test_a_long_input_is_measured_over_at_most_a_minute_spread_over_it(monkeypatch):
    seen = []
    monkeypatch.setattr("mgc.gate.measurements.speech_share", lambda samples, rate: seen.append(len(samples)) or 0.0)
    measure(np.tile(sine_chord(10.0), 30))  # 5 minutes
    assert seen and seen[0] <= 61 * SR


# --- the labelled set --------------------------------------------------------------------------


def test_the_labelled_set_holds_out_real_recordings_and_the_languages_it_was_not_fitted_on(real_data):
    items = labelled_set.labelled_set(real_data.root, speech=True)
    parts = {item.name: item.part for item in items}
    assert {item.kind for item in items} == set(labelled_set.KINDS)
    assert all(part == "held-out" for name, part in parts.items() if name.startswith(("example/", "mix/")))
    fitted_languages = {
        n.split("/")[1].split("+")[0] for n, p in parts.items() if n.startswith("espeak/") and p == "fit"
    }
    held_languages = {n.split("/")[1].split("+")[0] for n, p in parts.items() if n.startswith("espeak/") and p != "fit"}
    assert fitted_languages and held_languages and not (held_languages - {"en-us"}) & fitted_languages
    from mgc.data.gtzan import random_split

    train = set(random_split(real_data.tracks).part("train"))
    gtzan = [item for item in items if item.name.startswith("gtzan/")]
    assert gtzan and all((item.part == "fit") == (item.name.split("/")[1].split(" ")[0] in train) for item in gtzan)


def test_synthetic_sounds_are_reproducible_and_at_a_sensible_level():
    for kind in labelled_set.SYNTHETIC_KINDS:
        a, b = labelled_set.synthetic_sound(kind, 3, 2.0), labelled_set.synthetic_sound(kind, 3, 2.0)
        assert np.array_equal(a, b) and a.dtype == np.float32
        assert -45 < 10 * np.log10(np.mean(a.astype(np.float64) ** 2)) < -10
    melody = labelled_set.solo_melody(1, 6.0)
    assert np.isfinite(melody).all() and np.abs(melody).max() > 0.01


# --- fitting -----------------------------------------------------------------------------------


def fake_table(seed=0, n=40):
    """Measurement rows where music has a beat and no speech, speech has speech and pauses, other is flat."""
    rng = np.random.default_rng(seed)
    rows = []
    for kind in CLASSES:
        for i in range(n):
            row = dict.fromkeys(NAMES, 0.0)
            row.update(
                speech_share=rng.uniform(0.6, 0.9) if kind == "speech" else rng.uniform(0, 0.2),
                pause_share=rng.uniform(0.05, 0.2) if kind == "speech" else rng.uniform(0, 0.02),
                flatness=rng.uniform(0.2, 0.5) if kind == "other" else rng.uniform(1e-4, 1e-2),
                beat_strength=rng.uniform(0.3, 0.8) if kind == "music" else rng.uniform(0, 0.15),
                loudness_spread=rng.uniform(2, 6),
                level_dbfs=rng.uniform(-30, -10),
                centroid_hz=rng.uniform(300, 2000),
                spectral_change=rng.uniform(0.5, 2.5),
            )
            rows.append({"name": f"{kind}/{i}", "kind": kind, "part": "fit" if i % 2 == 0 else "held-out", **row})
    return pd.DataFrame(rows)


def test_a_gate_fitted_on_separable_kinds_flags_the_held_out_speech_and_noise_and_passes_music():
    table = fake_table()
    gate = gate_fit.fit_gate(table)
    report = gate_fit.check_table(gate, table).set_index(["part", "kind"])
    assert report.loc[("held-out", "music"), "share"] <= 0.05
    assert report.loc[("held-out", "speech"), "share"] >= 0.95
    assert report.loc[("held-out", "other"), "share"] >= 0.95
    fit_music = table[(table.part == "fit") & (table.kind == "music")]
    assert gate_fit.flagged(gate, fit_music).mean() <= gate_fit.MUSIC_FLAGGED_AT_MOST + 1e-9


def test_a_gate_survives_its_json_and_refuses_other_measurements():
    gate = gate_fit.fit_gate(fake_table())
    again = Gate.from_json(gate.to_json())
    rows = fake_table(seed=1)[list(NAMES)].to_numpy()
    np.testing.assert_allclose(again.probabilities(rows), gate.probabilities(rows))
    with pytest.raises(CheckpointError):
        Gate.from_json(gate.to_json() | {"measurements": ["speech_share"]})


def test_a_missing_gate_says_how_to_fit_one(tmp_path):
    with pytest.raises(CheckpointError, match="check-gate --fit"):
        load_gate(tmp_path / "gate.json")


# --- the shipped gate on real and synthesised sound ---------------------------------------------


def test_the_shipped_gate_passes_the_shipped_music_and_flags_the_readings():
    for example in examples_of("music"):
        result = check(load_audio(example.file).samples)
        assert result.is_music, (example.id, result)
    for example in examples_of("speech"):
        result = check(load_audio(example.file).samples)
        assert not result.is_music and result.kind == "speech" and result.reasons, (example.id, result)


def test_the_shipped_gate_flags_noise_and_a_steady_tone_as_other_sounds():
    tone = labelled_set.synthetic_sound("tone", 5)
    for sound in (white_noise(8.0), tone):
        result = check(sound)
        assert not result.is_music and result.kind == "other"


@needs_espeak
@pytest.mark.parametrize("voice", ["en+f2", "de+m1", "fr+f3"])
def test_the_shipped_gate_flags_synthesised_speech(voice):
    result = check(spoken(voice=voice))
    assert not result.is_music and result.kind == "speech"


@pytest.mark.real_data
def test_the_shipped_gate_passes_real_gtzan_music_rap_included(real_data):
    clips = [
        path for track, path in sorted(real_data.audio.items()) if track.startswith(("hiphop", "classical", "jazz"))
    ]
    flagged = [clip.name for clip in clips[::2] if not check(load_audio(clip).samples).is_music]
    assert len(flagged) <= max(1, len(clips[::2]) // 20), flagged


def test_the_check_report_is_what_the_shipped_gate_does():
    report = gate_fit.shipped_report()
    assert report["threshold"] == pytest.approx(load_gate().threshold)
    rates = {(row["part"], row["kind"]): row for row in report["rates"]}
    assert rates[("held-out", "music")]["items"] > 50
