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
    gtzan = [item for item in items if item.name.startswith(("gtzan/", "excerpt/"))]
    assert gtzan and all((item.part == "fit") == (item.name.split("/")[1].split(" ")[0] in train) for item in gtzan)


def sounds_folder():
    from mgc.data.gtzan import default_data_dir

    root = default_data_dir()
    folder = root.parent / "sounds" if root is not None else None
    if folder is None or not (folder / "SOURCES.csv").is_file():
        pytest.skip("the real recordings are absent (../shared/sounds beside the GTZAN folder)")
    return folder


def test_real_recordings_are_split_by_source_never_by_file(real_data):
    sounds_folder()
    items = labelled_set.labelled_set(real_data.root, speech=False)
    real = [item for item in items if item.name.startswith(("sounds/", "example/"))]
    parts_of = {}
    for item in real:
        parts_of.setdefault(item.source, set()).add(item.part)
    assert all(len(parts) == 1 for parts in parts_of.values()), parts_of
    for kind in ("speech", "other", "music"):
        held = {item.source for item in real if item.kind == kind and item.part == "held-out"}
        fitted = {item.source for item in real if item.kind == kind and item.part == "fit"}
        assert held and fitted, kind
    assert {"FLEURS fr", "mirdata vocadito"} <= {item.source for item in real if item.part == "held-out"}
    conditions = {item.condition for item in real if item.source == "FLEURS fr"}
    assert conditions == {"clean", "room", "real room"}


def test_a_real_room_plays_the_sound_in_the_room_with_the_bed_at_the_asked_snr():
    folder = sounds_folder()
    room = next((folder / "ir").glob("*church*"))
    bed = next((folder / "noise").glob("*rain*"))
    dry = sine_chord(4.0)
    heard = labelled_set.real_room(dry, room, bed, 10.0)
    assert heard.shape == dry.shape and heard.dtype == np.float32 and np.isfinite(heard).all()
    noise_only = labelled_set.real_room(np.zeros_like(dry) + 1e-9, room, bed, 10.0)
    assert not np.allclose(heard, dry, atol=1e-3) and np.abs(noise_only).max() > 0


def test_synthetic_sounds_are_reproducible_and_at_a_sensible_level():
    for kind in labelled_set.SYNTHETIC_KINDS:
        a, b = labelled_set.synthetic_sound(kind, 3, 2.0), labelled_set.synthetic_sound(kind, 3, 2.0)
        assert np.array_equal(a, b) and a.dtype == np.float32
        assert -45 < 10 * np.log10(np.mean(a.astype(np.float64) ** 2)) < -10
    melody = labelled_set.solo_melody(1, 6.0)
    assert np.isfinite(melody).all() and np.abs(melody).max() > 0.01


# --- fitting -----------------------------------------------------------------------------------


def fake_table(seed=0, n=40):
    """Measurement rows where music has a beat and no speech, speech has speech and pauses, other is flat; and
    musicnn embeddings (two patches each) whose mean differs by kind."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, kind in enumerate(CLASSES):
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
            embeddings = rng.standard_normal((2, 200)) + 2.0 * np.repeat(np.eye(10)[k], 20)
            rows.append(
                {"name": f"{kind}/{i}", "kind": kind, "part": "fit" if i % 2 == 0 else "held-out"}
                | {"source": f"{kind} source {i % 6}", "condition": "clean", **row, "embeddings": embeddings}
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("features", gate_fit.FEATURES)
def test_a_gate_fitted_on_separable_kinds_flags_the_held_out_speech_and_noise_and_passes_music(features):
    table = fake_table()
    gate = gate_fit.fit_gate(table, features=features)
    assert gate.reads_embedding == ("musicnn" in features)
    report = gate_fit.check_table(gate, table).set_index(["part", "kind"])
    assert report.loc[("held-out", "music"), "share"] <= 0.05
    assert report.loc[("held-out", "speech"), "share"] >= 0.95
    assert report.loc[("held-out", "other"), "share"] >= 0.95
    fit_music = table[(table.part == "fit") & (table.kind == "music")]
    assert gate_fit.flagged(gate, fit_music).mean() <= gate_fit.MUSIC_FLAGGED_AT_MOST + 1e-9


def test_a_gate_on_musicnn_alone_reads_only_the_embedding():
    table = fake_table()
    gate = gate_fit.fit_gate(table, features="musicnn")
    scrambled = table.assign(**dict.fromkeys(NAMES, 0.0))
    np.testing.assert_allclose(gate_fit.music_probability(gate, scrambled), gate_fit.music_probability(gate, table))


def test_cross_validation_keeps_each_source_on_one_side_and_choose_picks_the_lowest_cost():
    table = fake_table()
    seen = []
    real_fit = gate_fit.fit_gate

    def spy(fit, **options):
        seen.append(set(fit.source))
        return real_fit(fit, **options)

    import unittest.mock

    with unittest.mock.patch.object(gate_fit, "fit_gate", spy):
        judged = gate_fit.cross_validated(table, features="measurements")
    sources = set(table[table.part == "fit"].source)
    assert len(seen) == 5 and all(s < sources for s in seen)
    assert len(judged) == (table.part == "fit").sum()
    chosen, tried = gate_fit.choose(table, progress=False)
    assert len(tried) == len(gate_fit.FEATURES) * len(gate_fit.REGULARISATIONS) * len(gate_fit.MUSIC_WEIGHTS)
    assert min(t["cv_error"] for t in tried) == next(
        t["cv_error"] for t in tried if {key: t[key] for key in chosen} == chosen
    )


def test_the_gate_is_fitted_on_its_own_patches_rows_of_every_patch_the_default_model_gives_it():
    """`measure_set` keeps every patch (the default model's musicnn pass); fitting and the main report read the
    `GATE_PATCHES` of them the gate draws on its own, the very rows `patch_embeddings` returns."""
    from mgc.gate.embedding import GATE_PATCHES, patch_embeddings

    audio = sine_chord(seconds=10.0) + 0.05 * white_noise(10.0)
    every = patch_embeddings(audio, most=None)
    assert len(every) == 3
    table = pd.DataFrame({"embeddings": [every, every[:1]]})
    own = gate_fit.own_patches(table).embeddings
    np.testing.assert_allclose(own[0], patch_embeddings(audio), atol=1e-5)
    assert len(own[0]) == GATE_PATCHES and len(own[1]) == 1


def test_a_cached_row_is_kept_per_part_as_a_moved_source_is_heard_in_the_other_parts_rooms(tmp_path):
    item = labelled_set.Item("sounds/music/a_note (real room)", "music", labelled_set.HELD_OUT, np.zeros, "a source")
    moved = labelled_set.Item(item.name, "music", labelled_set.FIT, np.zeros, "a source")
    assert gate_fit._cache_file(tmp_path, item) != gate_fit._cache_file(tmp_path, moved)
    assert gate_fit._cache_file(tmp_path, item) == gate_fit._cache_file(tmp_path, labelled_set.Item(**vars(item)))


def test_a_gate_survives_its_json_and_refuses_other_measurements():
    gate = gate_fit.fit_gate(fake_table())
    again = Gate.from_json(gate.to_json())
    other = fake_table(seed=1)
    rows, embeddings = other[list(NAMES)].to_numpy(), list(other.embeddings)
    np.testing.assert_allclose(again.probabilities(rows, embeddings), gate.probabilities(rows, embeddings))
    with pytest.raises(CheckpointError):
        Gate.from_json(gate.to_json() | {"measurements": ["speech_share"]})
    saved = gate.to_json()
    saved["musicnn_embedding"] = saved["musicnn_embedding"] | {"weights_digest": "sha256:other"}
    with pytest.raises(CheckpointError, match="musicnn"):
        Gate.from_json(saved)


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


def steady_sounds(seconds=8.0):
    """Issue 28's sounds that are not music, made here (not by the labelled set's recipe)."""
    t = np.arange(int(seconds * SR)) / SR
    clicks = np.zeros_like(t)
    clicks[:: SR // 4] = 1.0  # four clicks a second
    return {
        "white noise": white_noise(seconds),
        "a 1-kHz tone": 0.1 * np.sin(2 * np.pi * 1000 * t),
        "a 100-Hz square wave": 0.1 * np.sign(np.sin(2 * np.pi * 100 * t)),
        "a tone at the top of the band": 0.1 * np.sin(2 * np.pi * 10000 * t),
        "clicks": clicks * 0.5,
        "DC": np.full_like(t, 0.2),
        "a 50-Hz hum": 0.1 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3)),
    }


@pytest.mark.parametrize("name", list(steady_sounds(1.0)))
def test_the_shipped_gate_calls_noise_tones_square_waves_clicks_dc_and_hum_other_sounds(name):
    result = check(steady_sounds()[name].astype(np.float32))
    assert not result.is_music and result.kind == "other", (name, result.probabilities)


# --- the musicnn embedding: its own, or the caller's ------------------------------------------------


def test_the_gate_reads_the_embedding_it_is_given_as_the_one_it_draws():
    from mgc.gate.embedding import patch_embeddings

    music = load_audio(examples_of("music")[0].file).samples
    own = check(music)
    given = check(music, embeddings=patch_embeddings(music))
    assert own.probabilities == pytest.approx(given.probabilities, abs=1e-9)
    speech = load_audio(examples_of("speech")[0].file).samples
    swapped = check(music, embeddings=patch_embeddings(speech))
    if load_gate().reads_embedding:
        assert swapped.probabilities != pytest.approx(own.probabilities, abs=1e-3)


def test_the_embedding_contract_is_the_musicnn_heads_input_row_for_row():
    from mgc.frontends import MUSICNN_INPUT
    from mgc.gate.embedding import EMBEDDING_SIZE, GATE_PATCHES, patch_embeddings, spread
    from mgc.models.musicnn import EMBEDDING_SIZE as MUSICNN_EMBEDDING_SIZE
    from mgc.models.musicnn import load_musicnn

    assert EMBEDDING_SIZE == MUSICNN_EMBEDDING_SIZE
    audio = load_audio(examples_of("music")[1].file)
    with torch.inference_mode():
        every = load_musicnn()(torch.from_numpy(MUSICNN_INPUT.from_audio(audio)))["embedding"].numpy()
    own = patch_embeddings(audio.samples)
    assert len(own) == min(GATE_PATCHES, len(every))
    np.testing.assert_allclose(own, every[spread(len(every), GATE_PATCHES)], atol=1e-4)
    check(audio.samples, embeddings=every)  # every patch is read as well as a few
    check(audio.samples, embeddings=every[0])  # one patch as a 1-d array


@pytest.mark.parametrize("wrong", [np.zeros((2, 199)), np.zeros((0, 200)), np.full((1, 200), np.nan)])
def test_embeddings_of_the_wrong_shape_or_not_finite_are_refused(wrong):
    if not load_gate().reads_embedding:
        pytest.skip("the shipped gate does not read musicnn")
    with pytest.raises(ValueError, match="musicnn embeddings"):
        check(sine_chord(4.0), embeddings=wrong)


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


A_CAPPELLA_MISSED = pytest.mark.xfail(
    strict=True, reason="known miss (checkpoints/gate/check.json): the held-out a cappella song is heard as speech"
)
REAL_RECORDINGS = {
    # a held-out source of each kind the issue names: read speech, real sounds (a barking dog park may also be
    # called speech, people talk there: it must not pass as music), a cappella singing
    "speech/fleurs_fleurs-fr-000.ogg": "speech",
    "speech/rtvc_vctk_p240_00000.ogg": "speech",
    "other/blanket_storm_digifishmusic_41739.ogg": "other",
    "other/dd_dogpark_hargissssound_321126.ogg": "not music",
    "music/mirdata_vocadito_1_acappella.ogg": "music",
}


@pytest.mark.parametrize(
    "file", [pytest.param(f, marks=A_CAPPELLA_MISSED) if "acappella" in f else f for f in REAL_RECORDINGS]
)
def test_the_shipped_gate_on_real_recordings_of_held_out_sources(file):
    path = sounds_folder() / file
    assert labelled_set.source_of(path.name) in labelled_set.HELD_OUT_SOURCES or file.startswith("other/")
    result = check(load_audio(path).samples)
    assert result.is_music == (REAL_RECORDINGS[file] == "music"), (file, result.probabilities)
    if REAL_RECORDINGS[file] != "not music":
        assert result.kind == REAL_RECORDINGS[file], (file, result.probabilities)


@pytest.mark.parametrize("example", examples_of("animal"), ids=lambda example: example.id)
def test_the_shipped_gate_calls_the_gallerys_animals_not_music(example):
    """The gallery's "Not music: animals" (a robin, a humpback whale): the page's not-music notice must show for
    them. A refit whose fit music was heard in two measured rooms (commit a1d5e27) called both music."""
    result = check(load_audio(example.file).samples)
    assert not result.is_music and result.reasons, (example.id, result.probabilities)


ROOM_MISSES = pytest.mark.xfail(
    strict=True, reason="known miss (checkpoints/gate/check.json): held-out music in a held-out measured room"
)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "name",
    [
        pytest.param("example/lets-go-fishin (real room)", marks=ROOM_MISSES),
        pytest.param("gtzan/hiphop.00005 (real room)", marks=ROOM_MISSES),
        "gtzan/hiphop.00004 (real room)",
        "example/brahms (classroom)",
    ],
)
def test_the_shipped_gate_on_held_out_music_in_a_measured_room_and_through_the_classroom_chain(real_data, name):
    """Held-out music heard as the labelled set's recipe makes it (a held-out measured room under a held-out noise
    bed, or the classroom chain), read from the fitted gate: the known misses are marked, so a gate that mends
    them says so (a strict xfail that passes fails)."""
    sounds_folder()
    item = next(i for i in labelled_set.labelled_set(real_data.root, speech=False) if i.name == name)
    assert item.part == "held-out"
    result = check(item.make())
    assert result.is_music, (name, result.probabilities)


@pytest.mark.real_data
def test_the_shipped_gate_passes_held_out_rap(real_data):
    from mgc.data.gtzan import random_split

    train = set(random_split(real_data.tracks).part("train"))
    rap = [path for track, path in sorted(real_data.audio.items()) if track.startswith("hiphop") and track not in train]
    assert rap
    for clip in rap[:2]:
        result = check(load_audio(clip).samples)
        assert result.is_music, (clip.name, result.probabilities)


def test_the_check_report_is_what_the_shipped_gate_does():
    report = gate_fit.shipped_report()
    assert report["threshold"] == pytest.approx(load_gate().threshold)
    rates = {(row["part"], row["kind"]): row for row in report["rates"]}
    assert rates[("held-out", "music")]["items"] > 50
    sources = {row["source"] for row in report["held_out_by_source"]}
    assert sources & labelled_set.HELD_OUT_SOURCES
    assert not labelled_set.HELD_OUT_SOURCES & set(gate_fit.read_json(gate_fit.gate_file())["fitted_sources"])
    every = {row["kind"]: row for row in report["held_out_every_patch"]}
    for kind in ("music", "speech", "other"):
        assert every[kind]["items"] == rates[("held-out", kind)]["items"]
