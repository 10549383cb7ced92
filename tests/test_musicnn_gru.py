"""The CNN + GRU with pretrained ears (musicnn-gru): real rooms and noise split by source, the recording chain, the
model, its trainer, one musicnn pass per request, and the measured rule that makes it Classify's default."""

import csv
import sys

import numpy as np
import pytest
import soundfile
import torch

import mgc
from mgc import conditions
from mgc.data.gtzan import GENRES
from mgc.evaluate import robustness
from mgc.frontends import MUSICNN_INPUT
from mgc.models import build_model, family
from mgc.models.musicnn import weights_file_digest
from mgc.models.musicnn_pass import MUSICNN_PASS, MusicnnPassInput, musicnn_pass
from mgc.runs.checkpoints import read_json, run_dir
from mgc.runs.table import default_run, row
from tests.conftest import sine_chord

RUN = "musicnn-gru"
SR = 22050


# --- real rooms and noise ------------------------------------------------------------------------


def sounds_folder(root, files: dict[str, str], listed: bool = True):
    """A sounds folder: file ("ir/x.flac", "noise/y.ogg") → its source in SOURCES.csv (left out when not `listed`)."""
    rng = np.random.default_rng(0)
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if name.startswith("ir/"):
            samples = np.zeros(SR // 2, dtype=np.float32)
            samples[100] = 1.0
            samples[101:] = (
                0.3 * rng.standard_normal(len(samples) - 101) * np.exp(-np.arange(len(samples) - 101) / 2000)
            )
        else:
            samples = (0.1 * rng.standard_normal(2 * SR)).astype(np.float32)
        soundfile.write(root / name, samples, SR)
    if listed:
        with open(root / "SOURCES.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["file", "kind", "source_repo"])
            writer.writerows([name, name.split("/")[0], source] for name, source in files.items())
    return root


HELD_IR, HELD_NOISE = conditions.HELD_OUT_SOURCES
FILES = {
    "ir/a_hall.flac": HELD_IR,
    "ir/b_room.flac": "someone/rooms",
    "noise/c_city.ogg": HELD_NOISE,
    "noise/d_rain.ogg": "someone/beds",
    "noise/e_cafe.ogg": "someone/beds",
}


def test_real_rooms_and_noise_are_split_by_source_and_the_benchmark_hears_only_the_held_out_sources(tmp_path):
    folder = sounds_folder(tmp_path, FILES)
    held_out, train = conditions.real_sounds("held_out", folder), conditions.real_sounds("train", folder)
    assert held_out.names == ("ir/a_hall.flac", "noise/c_city.ogg")
    assert train.names == ("ir/b_room.flac", "noise/d_rain.ogg", "noise/e_cafe.ogg")
    assert len(train.impulse_responses) == 1 and len(train.noises) == 2
    assert np.argmax(np.abs(train.impulse_responses[0])) == SR // 1000  # the direct sound 1 ms in, at peak 1
    assert np.abs(train.impulse_responses[0]).max() == pytest.approx(1.0)


def test_a_file_sources_csv_does_not_list_belongs_to_the_source_its_name_begins_with(tmp_path):
    folder = sounds_folder(tmp_path, {"ir/qv_x.flac": "", "ir/toob_y.flac": ""}, listed=False)
    assert conditions.sound_sources(folder) == {"ir/qv_x.flac": "qv", "ir/toob_y.flac": "toob"}


def test_without_the_sounds_folder_the_real_conditions_are_left_out_and_training_chains_stay_simulated(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MGC_SOUNDS", str(tmp_path / "absent"))
    assert conditions.real_sounds("train") is None
    available = conditions.available_conditions()
    assert "real_rooms" not in available and "real_noise_10db" not in available
    assert available == [n for n, c in conditions.CONDITIONS.items() if not c.needs_sounds]
    with pytest.raises(mgc.DatasetError, match="sounds folder"):
        conditions.apply("real_rooms", sine_chord(2.0))


def test_the_held_out_conditions_are_repeatable_and_change_the_sound(tmp_path, monkeypatch):
    monkeypatch.setenv("MGC_SOUNDS", str(sounds_folder(tmp_path, FILES)))
    assert "real_rooms" in conditions.available_conditions()
    music = sine_chord(3.0)
    for name in ("real_rooms", "real_noise_10db"):
        once, again = conditions.apply(name, music), conditions.apply(name, music)
        np.testing.assert_array_equal(once, again)
        assert once.shape == music.shape and not np.allclose(once, music, atol=1e-3)
    noisy = conditions.apply("real_noise_10db", music)
    snr = 10 * np.log10(np.mean(music.astype(np.float64) ** 2) / np.mean((noisy - music).astype(np.float64) ** 2))
    assert snr == pytest.approx(10.0, abs=0.5)


def test_the_shipped_sounds_folder_holds_out_four_rooms_and_three_beds_training_never_hears():
    folder = conditions.default_sounds_dir()
    if folder is None or not (folder / "ir").is_dir():
        pytest.skip("the sounds folder is absent (set MGC_SOUNDS or put it at ../shared/sounds)")
    held_out, train = conditions.real_sounds("held_out"), conditions.real_sounds("train")
    assert (len(held_out.impulse_responses), len(held_out.noises)) == (4, 3)
    assert (len(train.impulse_responses), len(train.noises)) == (8, 10)
    assert not set(held_out.names) & set(train.names)
    sources = conditions.sound_sources(folder)
    assert {sources[n] for n in held_out.names} == set(conditions.HELD_OUT_SOURCES)
    assert not {sources[n] for n in train.names} & set(conditions.HELD_OUT_SOURCES)


def repeatable_versions(sounds, music: np.ndarray, chain: str) -> list[np.ndarray]:
    """Two versions of `music` through `chain`, checked the same when drawn again, of its length, finite, within
    full scale, and different from each other."""
    first = conditions.degraded_versions(music, "rock.00001", 2, 5, sounds, chain=chain)
    again = conditions.degraded_versions(music, "rock.00001", 2, 5, sounds, chain=chain)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
        assert a.shape == music.shape and np.isfinite(a).all() and np.abs(a).max() <= 1.0
    assert not np.allclose(first[0], first[1])
    return first


def test_a_recording_chain_is_drawn_from_its_generator_and_keeps_the_length(tmp_path):
    sounds = conditions.real_sounds("train", sounds_folder(tmp_path, FILES))
    music = sine_chord(3.0)
    first = repeatable_versions(sounds, music, "recording")
    other = conditions.degraded_versions(music, "rock.00002", 1, 5, sounds, chain="recording")[0]
    assert not np.allclose(other, first[0])


def test_a_classroom_like_chain_is_repeatable_and_never_draws_the_benchmarks_room_or_noise(tmp_path, monkeypatch):
    sounds = conditions.real_sounds("train", sounds_folder(tmp_path, FILES))
    music = sine_chord(3.0)
    first = repeatable_versions(sounds, music, "classroom_like")
    assert not np.allclose(first[0], conditions.apply("classroom", music))
    # the benchmark's room (0.6 s, 8 × 7 × 3 m) and its babble and hum seeds are never drawn
    assert all(rt60 != 0.6 for rt60, _ in conditions.CLASSROOM_LIKE_ROOMS)
    rooms, seeds = [], []
    monkeypatch.setattr(conditions, "room", lambda x, rt60, size: rooms.append((rt60, size)) or x)

    def counted(noise):
        return lambda n, seed: seeds.append(seed) or noise(n, seed)

    for name in ("babble", "pink_noise"):
        monkeypatch.setattr(conditions, name, counted(getattr(conditions, name)))
    for seed in range(20):
        conditions.degraded_versions(music, "rock.00001", 1, seed, None, chain="classroom_like")
    assert len(rooms) == 20 and {r for r, _ in rooms} <= {r for r, _ in conditions.CLASSROOM_LIKE_ROOMS}
    assert len(seeds) == 40 and not {conditions.SEED + 1, conditions.SEED + 2} & set(seeds)


# --- the measured rule ---------------------------------------------------------------------------

TRACKS = [f"{GENRES[i % 10]}.{i:05d}" for i in range(30)]


def fake_record(model: str, right: dict[str, int]) -> dict:
    """A robustness record right on the first `right[condition]` of the 30 tracks."""
    truth = [t.split(".")[0] for t in TRACKS]
    wrong = [GENRES[(GENRES.index(g) + 1) % 10] for g in truth]
    return {
        "model": model,
        "split": "random",
        "clips": len(TRACKS),
        "tracks": TRACKS,
        "conditions": {name: {"correct": k, "answers": truth[:k] + wrong[k:]} for name, k in right.items()},
    }


def records(**runs) -> dict:
    return {(model, "random"): fake_record(model, right) for model, right in runs.items()}


REFERENCE = {"clean": 26, "classroom": 10, "laptop_microphone": 14}


def test_the_default_is_the_candidate_better_in_a_classroom_and_through_a_laptop_and_not_worse_clean():
    chosen = robustness.listening_default(
        records(crnn=REFERENCE, gru={"clean": 27, "classroom": 25, "laptop_microphone": 28}), "random", ("gru",), "crnn"
    )
    assert chosen.model == "gru" and chosen.measured
    clean, classroom, laptop = chosen.comparisons
    assert (clean.correct, clean.reference_correct) == (27, 26) and not clean.worse
    assert classroom.better and laptop.better
    line = chosen.reason()
    assert "25 of 30 clips through a classroom (crnn: 10)" in line and "28 of 30" in line and "\n" not in line


@pytest.mark.parametrize(
    "gru",
    [
        {"clean": 14, "classroom": 25, "laptop_microphone": 28},  # measurably worse on clean clips
        {"clean": 27, "classroom": 25, "laptop_microphone": 16},  # not measurably better through a laptop
        {"clean": 27, "classroom": 13, "laptop_microphone": 28},  # not measurably better in a classroom
        {"clean": 27, "classroom": 25},  # never measured through a laptop
    ],
)
def test_a_candidate_that_fails_one_test_leaves_the_picture_crnn_the_default(gru):
    chosen = robustness.listening_default(records(crnn=REFERENCE, gru=gru), "random", ("gru",), "crnn")
    assert chosen.model == "crnn" and not chosen.measured
    assert "crnn is the default" in chosen.reason()


def test_the_gru_is_kept_unless_another_run_is_measurably_better_in_a_classroom_and_the_note_says_by_how_much():
    gru = {"clean": 27, "classroom": 21, "laptop_microphone": 28}
    close = robustness.listening_default(
        records(crnn=REFERENCE, gru=gru, head={"clean": 28, "classroom": 23}), "random", ("gru", "head"), "crnn"
    )
    assert close.model == "gru" and close.best_other == ("head", 23)
    assert "head gets 23" in close.reason()
    far = robustness.listening_default(
        records(
            crnn=REFERENCE, gru={**gru, "classroom": 12}, head={"clean": 28, "classroom": 29, "laptop_microphone": 29}
        ),
        "random",
        ("gru", "head"),
        "crnn",
    )
    assert far.model == "head"


def test_the_app_rule_reads_the_candidates_and_the_reference_from_the_run_table():
    assert default_run("uploads") != RUN and row(RUN).for_uploads and row(RUN).for_recordings
    assert not row(RUN).candidate and not row(RUN).zoo  # not an ensemble member; trained on its own
    gru = {"clean": 30, "classroom": 25, "laptop_microphone": 28}
    chosen = robustness.classify_default(records(**{default_run("uploads"): REFERENCE, RUN: gru}), "random")
    assert chosen.model == RUN


def test_a_new_condition_joins_the_record_of_the_same_weights_and_clips_and_replaces_another_runs():
    before = {**fake_record("gru", {"clean": 20, "classroom": 10}), "weights": "sha256:a"}
    new = {**fake_record("gru", {"real_rooms": 18}), "weights": "sha256:a"}
    kept = robustness.merged(before, new)
    assert list(kept["conditions"]) == ["clean", "real_rooms", "classroom"]
    assert kept["conditions"]["real_rooms"]["correct"] == 18
    assert robustness.merged({**before, "weights": "sha256:b"}, new) == new
    assert robustness.merged(None, new) == new


# --- the model -----------------------------------------------------------------------------------


def embeddings(patches: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(patches, 200, generator=torch.Generator().manual_seed(seed))


def test_the_family_reads_musicnns_pass_and_the_gru_answers_each_patch():
    assert family(row(RUN).family).frontend is MUSICNN_PASS
    model = build_model(row(RUN).family, {"hidden": 8}).eval()
    outputs = model(embeddings(7))
    assert outputs["logits"].shape == (7, len(GENRES)) and outputs["embedding"].shape == (7, 16)
    batched = model.sequences(torch.stack([embeddings(7), embeddings(7, seed=1)]))
    torch.testing.assert_close(batched["logits"][0], outputs["logits"])


def test_each_patch_is_read_in_the_context_of_the_others_before_and_after():
    model = build_model(row(RUN).family, {"hidden": 8}).eval()
    x = embeddings(6)
    changed = x.clone()
    changed[5] += 3.0
    before, after = model(x)["logits"], model(changed)["logits"]
    assert not torch.allclose(before[0], after[0])  # the last patch reaches the first: a bidirectional GRU


def test_a_gru_trained_over_other_musicnn_weights_is_refused():
    with pytest.raises(mgc.CheckpointError, match="not those this model was trained over"):
        build_model(row(RUN).family, {"musicnn_digest": "sha256:other"}).pretrained


def test_musicnns_pass_is_one_batch_of_the_whole_sequence_and_names_the_weights():
    audio = mgc.Audio(sine_chord(7.0), SR, 7.0, SR, 1)
    passed = MUSICNN_PASS.from_audio(audio)
    assert passed.embedding.shape == (2, 200) and passed.taggram.shape == (2, 50) and len(passed.tags) == 50
    (only,) = list(MUSICNN_PASS.batches(passed))
    assert only[0].shape == (2, 200)
    assert weights_file_digest("MSD_musicnn")[7:23] in MUSICNN_PASS.version
    starts, ends = MUSICNN_PASS.window_times(passed, 7.0)
    assert starts[0] == 0 and ends[-1] <= 7.0


def test_the_taggram_reads_a_given_pass_instead_of_running_musicnn_again(monkeypatch):
    audio = mgc.Audio(sine_chord(4.0), SR, 4.0, SR, 1)
    computed = mgc.taggram(audio)
    passed = musicnn_pass(MUSICNN_INPUT.from_audio(audio))
    monkeypatch.setattr(sys.modules["mgc.explain.taggram"], "load_musicnn", lambda *a: pytest.fail("musicnn ran again"))
    given = mgc.taggram(audio, musicnn=passed)
    np.testing.assert_allclose(given.timeline.to_numpy(), computed.timeline.to_numpy(), atol=1e-6)


# --- training and serving ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(synthetic_data, tmp_path_factory):
    """A tiny musicnn-gru on the synthetic folder (one render of each kind, a few epochs), in its own checkpoints."""
    from mgc.train.musicnn_gru import MusicnnGRUTrainConfig, train_musicnn_gru

    root = tmp_path_factory.mktemp("checkpoints")
    config = MusicnnGRUTrainConfig(
        random_renders=1,
        recording_renders=1,
        valid_renders=1,
        extra_renders=("classroom_like",),  # the cheaper extra group (its rooms are cached); second_draw is like above
        render_patches=1,
        workers=1,
        epochs=3,
        candidates=((8, 0.0, 1e-3),),
        real_sounds=False,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MGC_CHECKPOINTS", str(root))
        train_musicnn_gru(RUN, "filtered", data=synthetic_data, config=config)
    return root


def test_training_saves_a_run_of_clean_and_degraded_sequences_from_every_clip_with_audio(trained):
    record = read_json(run_dir(RUN, "filtered", trained) / "training.json")
    assert record["family"] == row(RUN).family and record["recipe"] == "robust"
    assert record["train_tracks"] == 2 * len(GENRES) and record["valid_tracks"] == len(GENRES)
    assert record["train_sequences"] == {"clean": 20, "random": 20, "recording": 20, "classroom_like": 60}
    assert record["valid_sequences"] == {"clean": 10, "recording": 10}
    assert record["epochs_run"] == 3 and record["embedding_seconds"] > 0


def test_one_musicnn_pass_feeds_the_model_and_the_gate_and_comes_back_for_the_taggram(trained, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(trained))
    audio = mgc.Audio(sine_chord(7.0), SR, 7.0, SR, 1)
    passes, gate_embeddings = [], []
    original = MusicnnPassInput.from_audio

    def counted(self, given):
        passes.append(given)
        return original(self, given)

    from mgc.serve.prediction import check as real_check

    def gate(samples, sample_rate, embeddings=None, measured=None):  # measured: made beside musicnn (d20e624)
        gate_embeddings.append(embeddings)
        return real_check(samples, sample_rate, embeddings=embeddings, measured=measured)

    monkeypatch.setattr(MusicnnPassInput, "from_audio", counted)
    monkeypatch.setattr("mgc.serve.prediction.check", gate)
    prediction = mgc.classify(audio, model=RUN, split="filtered")
    assert len(passes) == 1 and gate_embeddings[0] is prediction.musicnn.embedding
    assert len(prediction.timeline) == len(prediction.musicnn) == 2

    given = prediction.musicnn
    again = mgc.classify(audio, model=RUN, split="filtered", musicnn=given)
    assert len(passes) == 1  # the given pass was read, musicnn did not run again
    assert again.probabilities == pytest.approx(prediction.probabilities)


def test_the_benchmark_answers_the_gru_from_musicnns_pass_as_classify_does_and_keeps_each_pass_on_disk(
    trained, synthetic_data, monkeypatch, tmp_path
):
    """`python -m mgc robustness` reads a GRU's answer off musicnn's pass of each degraded clip (no picture drawn) and
    keeps that pass in `$MGC_CACHE`: measured again (a retrained GRU reads the same passes), no condition is rendered
    and musicnn does not run, except for a clip whose file changed."""
    import os

    from mgc.data.audio import load_audio
    from mgc.data.gtzan import GTZAN
    from mgc.runs.outputs import audio_outputs

    monkeypatch.setenv("MGC_CHECKPOINTS", str(trained))
    monkeypatch.setenv("MGC_CACHE", str(tmp_path))
    names = ["quiet", "phone_speaker"]
    first = robustness.measure([RUN], "filtered", data=synthetic_data, names=names, out=False)[RUN]
    dataset = GTZAN(synthetic_data)
    for clip in first["tracks"][:3]:
        clean = load_audio(dataset.audio[clip])
        for name in ("clean", *names):
            samples = conditions.apply(name, clean.samples)
            whole = audio_outputs(RUN, "filtered", mgc.Audio(samples, SR, len(samples) / SR, SR, 1)).probabilities
            the_pass = robustness.PassCache().get(dataset.audio[clip], name)
            np.testing.assert_allclose(robustness.pass_probabilities(RUN, "filtered", the_pass), whole, atol=1e-5)
            index = first["tracks"].index(clip)
            assert first["conditions"][name]["answers"][index] == GENRES[int(np.argmax(whole))]

    rendered, passes = [], []
    apply, from_audio = conditions.apply, MusicnnPassInput.from_audio
    monkeypatch.setattr(conditions, "apply", lambda name, x: rendered.append(name) or apply(name, x))
    monkeypatch.setattr(MusicnnPassInput, "from_audio", lambda self, a: passes.append(a) or from_audio(self, a))
    assert robustness.measure([RUN], "filtered", data=synthetic_data, names=names, out=False)[RUN] == first
    assert rendered == [] and passes == []

    changed = dataset.audio[first["tracks"][0]]
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))
    robustness.measure([RUN], "filtered", data=synthetic_data, names=names, out=False)
    assert rendered == ["clean", *names] and len(passes) == 3
    assert robustness.PassCache().get(changed, "quiet") is not None
    monkeypatch.setattr(conditions, "VERSION", "conditions-changed")  # a condition's sound changed: measured again
    assert robustness.PassCache().get(changed, "quiet") is None


def test_the_benchmarks_answer_from_the_pass_is_the_mean_over_every_patch_as_classify_gives_it(tmp_path, monkeypatch):
    """On a 12-s input of three different chords (four patches), `robustness.pass_probabilities` equals
    `audio_outputs`' probabilities: the mean over all patches, not one patch's (the synthetic clips are one patch)."""
    from mgc.runs.checkpoints import save_model
    from mgc.runs.outputs import audio_outputs, window_outputs
    from mgc.runs.run import locate

    torch.manual_seed(0)
    save_model(
        tmp_path / RUN / "random" / "model.pt", row(RUN).family, build_model(row(RUN).family, {"hidden": 8}), "random"
    )
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    chords = [sine_chord(4.0, freqs, seed=i) for i, freqs in enumerate(((220.0, 277.2), (98.0, 123.5), (660.0, 880.0)))]
    samples = np.concatenate(chords)
    audio = mgc.Audio(samples, SR, len(samples) / SR, SR, 1)
    the_pass = MUSICNN_PASS.from_audio(audio)
    assert len(the_pass) == 4
    from_pass = robustness.pass_probabilities(RUN, "random", the_pass)
    np.testing.assert_allclose(from_pass, audio_outputs(RUN, "random", audio).probabilities, atol=1e-6)
    network, _ = locate(RUN, "random").load()
    patches, _ = window_outputs(network, MUSICNN_PASS, the_pass)
    assert np.abs(patches - from_pass).max(axis=1).min() > 1e-4  # no single patch answers as the whole input does
