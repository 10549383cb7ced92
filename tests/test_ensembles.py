"""Ensembles: the combination rules on known probability tables, subset choice on validation, and new audio."""

import shutil

import numpy as np
import pandas as pd
import pytest

import mgc
from mgc.data.gtzan import GENRES
from mgc.evaluate import evaluate
from mgc.runs import ensembles
from mgc.runs.calibration import calibrate, calibration_of
from mgc.runs.checkpoints import read_json, run_dir
from mgc.train import TrainConfig, train
from mgc.train import ensembles as building
from mgc.train.ensembles import partly_read
from mgc.train.musicnn_head import MusicnnHeadTrainConfig, train_musicnn_head
from tests.conftest import encode, sine_chord


def table(*rows):
    """Probability rows over three 'genres' for one member: shape (rows, 3)."""
    return np.array(rows, dtype=np.float64)


A = table([0.6, 0.3, 0.1], [0.2, 0.5, 0.3])
B = table([0.1, 0.8, 0.1], [0.3, 0.3, 0.4])
C = table([0.5, 0.4, 0.1], [0.1, 0.8, 0.1])


def test_sum_is_the_mean_probability():
    combined = ensembles.combine(np.stack([A, B, C]), "sum")
    np.testing.assert_allclose(combined, (A + B + C) / 3)


def test_product_is_the_normalised_geometric_mean():
    combined = ensembles.combine(np.stack([A, B]), "product")
    expected = np.sqrt(A * B)
    np.testing.assert_allclose(combined, expected / expected.sum(axis=1, keepdims=True), rtol=1e-5)


def test_product_lets_one_member_veto_a_genre_that_sum_would_pick():
    sure, vetoing = table([0.9, 0.1, 0.0]), table([0.0, 0.6, 0.4])
    members = np.stack([sure, vetoing])
    assert ensembles.combine(members, "sum").argmax() == 0
    assert ensembles.combine(members, "product").argmax() == 1


def test_vote_weights_each_members_top_genre_by_its_confidence():
    combined = ensembles.combine(np.stack([A, B, C]), "vote")
    # row 0: A votes genre 0 (0.6), B genre 1 (0.8), C genre 0 (0.5): 1.1 against 0.8 of 1.9
    assert combined[0].argmax() == 0
    assert combined[0][0] == pytest.approx(1.1 / 1.9, abs=2e-3) and combined[0][2] == pytest.approx(0.0, abs=2e-3)
    # row 1: A genre 1 (0.5), B genre 2 (0.4), C genre 1 (0.8)
    assert combined[1].argmax() == 1


def test_a_tied_vote_goes_to_the_genre_with_more_probability():
    first, second = table([0.5, 0.45, 0.05]), table([0.05, 0.5, 0.45])
    combined = ensembles.combine(np.stack([first, second]), "vote")
    # one vote each (0.5 and 0.5) for genres 0 and 1; genre 1 has the larger mean probability
    assert combined[0].argmax() == 1
    assert combined[0][0] == pytest.approx(combined[0][1], abs=2e-3)


def test_every_rule_gives_rows_that_sum_to_one():
    members = np.random.default_rng(0).dirichlet(np.ones(10), size=(4, 7))
    for rule in ensembles.RULES:
        combined = ensembles.combine(members, rule)
        assert combined.shape == (7, 10)
        np.testing.assert_allclose(combined.sum(axis=1), 1.0)


def test_an_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="unknown ensemble rule"):
        ensembles.combine(np.stack([A, B]), "median")


# --- ensembles of trained models -------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_members(synthetic_data, tmp_path_factory):
    """A small CRNN and a small CNN trained on the synthetic folder (different seeds), evaluated, in their own
    checkpoints root."""
    root = tmp_path_factory.mktemp("checkpoints")
    for name, seed in (("crnn", 0), ("cnn", 1)):
        train(
            name,
            "filtered",
            data=synthetic_data,
            out_dir=root / name / "filtered",
            config=TrainConfig(epochs=3, mixup_alpha=0.0, seed=seed),
            model_config={"channels": [8, 8, 16, 16, 16], "gru_hidden": 8},
        )
    return root


@pytest.fixture
def members_root(two_members, synthetic_data, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(two_members))
    for name in ("crnn", "cnn"):
        evaluate(name, "filtered", data=synthetic_data)
    return two_members


def test_the_best_subset_is_chosen_on_validation_and_recorded(members_root, synthetic_data):
    out = train("ensemble-best", "filtered", data=synthetic_data)
    saved = read_json(out / "training.json")
    assert saved["members"] == ["crnn", "cnn"] and saved["subsets_tried"] == 1  # two members: one subset
    assert saved["valid_tracks"] == 10 and 0 <= saved["best_valid_accuracy"] <= 1
    assert ensembles.load_ensemble("ensemble-best", "filtered").rule == "best"


# Four runs whose validation and test answers are set by hand: each is a softmax regression that reads its own
# ten columns of the feature table as its logits, so a track's row says what every member answers on it.
HAND_SET = ("crnn", "cnn", "mlp", "logreg")  # names of default ensemble candidates; all four are regressions here


def spiked(genre: int, logit: float) -> list[float]:
    """One member's ten logits: `logit` for `genre`, 0 for the others (softmax: 0.86 for 4, 0.69 for 3, 0.45 for 2)."""
    row = [0.0] * 10
    row[genre] = logit
    return row


def hand_set_answers(genre: int, part: str) -> list[float]:
    """The four members' logits on the track of `genre` (0–9) in `part`, side by side (40 feature columns).

    Validation: crnn right on genres 0–6, cnn on 3–9 (each sure when right, unsure when wrong), mlp and logreg
    wrong on every track, fairly sure, all wrong ones naming the next genre. Of the 11 subsets only crnn + cnn
    gets all 10 right (each pair with one wrong member 7, mlp + logreg and every triple at most 4). On the test
    part it is the other way round: only mlp + logreg are right, so a choice made on the test part differs."""
    wrong = (genre + 1) % 10
    if part == "test":
        return spiked(wrong, 3.0) * 2 + spiked(genre, 4.0) * 2
    crnn = spiked(genre, 4.0) if genre <= 6 else spiked(wrong, 2.0)
    cnn = spiked(genre, 4.0) if genre >= 3 else spiked(wrong, 2.0)
    return crnn + cnn + spiked(wrong, 3.0) * 2


@pytest.fixture
def hand_set_members(tmp_path, monkeypatch):
    """A data folder holding only a feature table and split lists (one track per genre in each part), and the
    four hand-set runs in their own checkpoints root; returns the data folder."""
    import torch

    from mgc.frontends.features import FEATURE_NAMES
    from mgc.models import build_model
    from mgc.runs.checkpoints import save_model

    data, root = tmp_path / "gtzan", tmp_path / "checkpoints"
    rows = []
    (data / "splits").mkdir(parents=True)
    for number, part in enumerate(("train", "valid", "test")):
        names = [f"{genre}/{genre}.{number:05d}.wav" for genre in GENRES]
        (data / "splits" / f"{part}_filtered.txt").write_text("\n".join(names) + "\n")
        for k, genre in enumerate(GENRES):
            values = hand_set_answers(k, part) + [0.0] * (len(FEATURE_NAMES) - 40)
            rows.append({"filename": f"{genre}.{number:05d}.wav", **dict(zip(FEATURE_NAMES, values)), "label": genre})
    pd.DataFrame(rows).to_csv(data / "features_30_sec.csv", index=False)
    for index, name in enumerate(HAND_SET):
        network = build_model("logreg")  # standardisation left at mean 0, std 1: the logits are the columns
        with torch.no_grad():
            network.linear.weight.zero_()
            network.linear.bias.zero_()
            network.linear.weight[:, 10 * index : 10 * index + 10] = torch.eye(10)
        save_model(root / name / "filtered" / "model.pt", "logreg", network, "filtered")
    monkeypatch.setenv("MGC_CHECKPOINTS", str(root))
    return data


def test_ensemble_best_chooses_the_subset_best_on_validation_among_many(hand_set_members):
    """Pins that `ensemble-best` tries every subset of two or more of its candidates and keeps the one with the best
    validation accuracy — the only subset of 11 right on every validation track — and that the test part, where
    another subset would win, plays no part in the choice."""
    saved = read_json(train("ensemble-best", "filtered", data=hand_set_members) / "training.json")
    assert sorted(saved["candidates"]) == sorted(HAND_SET) and saved["subsets_tried"] == 11
    assert sorted(saved["members"]) == ["cnn", "crnn"]
    assert saved["best_valid_accuracy"] == 1.0 and saved["valid_tracks"] == 10
    assert saved["member_valid_accuracy"] == {"crnn": 0.7, "cnn": 0.7, "mlp": 0.0, "logreg": 0.0}
    assert sorted(ensembles.load_ensemble("ensemble-best", "filtered").members) == ["cnn", "crnn"]


def test_the_other_rules_take_every_candidate(hand_set_members):
    """Pins that ensemble-sum (and the other fixed rules) keep all candidates, whatever validation says."""
    saved = read_json(train("ensemble-sum", "filtered", data=hand_set_members) / "training.json")
    assert sorted(saved["members"]) == sorted(HAND_SET) and saved["subsets_tried"] == 1
    assert saved["best_valid_accuracy"] == 0.4  # the four together: right on genres 3–6 only


def temperature(model: str) -> float:
    return calibration_of(model, "filtered").temperature


def as_trained(probabilities, model: str) -> np.ndarray:
    """Undo a run's calibration: softmax(log q · T) is the p of q = softmax(log p / T)."""
    return calibrate(np.asarray(probabilities, dtype=float), 1.0 / temperature(model))


@pytest.mark.parametrize("name", ["ensemble-sum", "ensemble-product", "ensemble-vote"])
def test_an_ensemble_is_evaluated_from_its_members_test_predictions(name, members_root, synthetic_data):
    train(name, "filtered", data=synthetic_data)
    metrics = evaluate(name, "filtered", data=synthetic_data)
    table_of = {m: pd.read_csv(run_dir(m, "filtered") / "predictions.csv") for m in ("crnn", "cnn", name)}
    # each run's cached probabilities are calibrated with its own temperature: the members are combined as
    # trained (undoing theirs), and the ensemble's own temperature applies to the combination
    members = np.stack([as_trained(table_of[m][list(GENRES)].to_numpy(), m) for m in ("crnn", "cnn")])
    expected = calibrate(ensembles.combine(members, ensembles.ENSEMBLES[name]), temperature(name))
    np.testing.assert_allclose(table_of[name][list(GENRES)].to_numpy(), expected, atol=2e-5)
    assert metrics["members"] == ["crnn", "cnn"] and metrics["test_tracks"] == 10
    assert metrics["parameters"] == sum(
        read_json(run_dir(m, "filtered") / "metrics.json")["parameters"] for m in ("crnn", "cnn")
    )


def test_an_ensemble_classifies_new_audio_by_its_rule(members_root, synthetic_data):
    train("ensemble-product", "filtered", data=synthetic_data)
    audio = encode(sine_chord(20.0))
    together = mgc.classify(audio, model="ensemble-product", split="filtered")
    apart = [mgc.classify(audio, model=m, split="filtered") for m in ("crnn", "cnn")]
    members = np.stack([[as_trained(list(p.probabilities.values()), p.model)] for p in apart])
    expected = calibrate(ensembles.combine(members, "product")[0], temperature("ensemble-product"))
    np.testing.assert_allclose(list(together.probabilities.values()), expected, atol=1e-6)
    assert len(together.timeline) == len(apart[0].timeline)
    assert together.embedding.shape == (apart[0].embedding.size + apart[1].embedding.size,)


def test_an_ensemble_needs_two_trained_members(tmp_path, monkeypatch, synthetic_data, two_members):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    shutil.copytree(two_members / "crnn", tmp_path / "crnn")
    with pytest.raises(mgc.CheckpointError, match="two or more trained members"):
        train("ensemble-sum", "filtered", data=synthetic_data)


def test_an_ensembles_saliency_is_drawn_by_its_first_picture_member(members_root, synthetic_data):
    from mgc.explain import saliency_model

    train("ensemble-sum", "filtered", data=synthetic_data)
    assert saliency_model("ensemble-sum", "filtered") == "crnn"
    assert saliency_model("cnn", "filtered") == "cnn"


# --- the musicnn head, a model of audio, as a candidate ----------------------------------------------------


def test_a_candidate_that_reads_fewer_validation_tracks_than_the_others_is_named_with_the_counts():
    outputs = {"crnn": dict.fromkeys("abcd"), "mlp": dict.fromkeys("abcd"), "musicnn": dict.fromkeys("ab")}
    assert partly_read(outputs) == {"musicnn": "reads 2 of the 4 validation tracks the others read"}
    assert partly_read({"crnn": dict.fromkeys("ab"), "musicnn": dict.fromkeys("ab")}) == {}
    # one track short of the others (a missing picture) is not reason enough
    assert partly_read({"crnn": dict.fromkeys("abcdefghij"), "mlp": dict.fromkeys("abcdefghijk")}) == {}


@pytest.fixture(scope="module")
def with_musicnn(two_members, synthetic_data, tmp_path_factory):
    """The two picture members and a musicnn head, trained on the synthetic folder, whose every track has audio."""
    root = tmp_path_factory.mktemp("with-musicnn")
    shutil.copytree(two_members, root, dirs_exist_ok=True)
    quick = MusicnnHeadTrainConfig(candidates=(((), 0.0, 1e-3),), epochs=5, patience=1000, degraded_renders=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MGC_CHECKPOINTS", str(root))
        train_musicnn_head("filtered", data=synthetic_data, config=quick)
    return root


def test_the_musicnn_head_is_a_member_where_it_reads_every_validation_track(with_musicnn, synthetic_data, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(with_musicnn))
    saved = read_json(train("ensemble-sum", "filtered", data=synthetic_data) / "training.json")
    assert saved["members"] == ["crnn", "cnn", "musicnn"] and saved["left_out"] == {}
    metrics = evaluate("ensemble-sum", "filtered", data=synthetic_data)
    assert metrics["members"] == ["crnn", "cnn", "musicnn"] and metrics["test_tracks"] == 10
    audio = encode(sine_chord(8.0))
    assert mgc.classify(audio, model="ensemble-sum", split="filtered").genre in GENRES


def test_a_head_of_audio_that_reads_only_some_validation_tracks_is_left_out_and_said_so(
    with_musicnn, synthetic_data, monkeypatch, capsys
):
    """As in Kaggle's download, where only some tracks have audio: the head reads fewer validation tracks than
    the picture members, and the ensemble keeps the picture members on all of them rather than shrink to those."""
    monkeypatch.setenv("MGC_CHECKPOINTS", str(with_musicnn))
    read_by_each = building.each_member_outputs

    def some_audio_missing(members, split, dataset, tracks, readable_only=False):
        outputs = read_by_each(members, split, dataset, tracks, readable_only)
        outputs["musicnn"] = dict(list(outputs["musicnn"].items())[:4])
        return outputs

    monkeypatch.setattr(building, "each_member_outputs", some_audio_missing)
    saved = read_json(train("ensemble-best", "filtered", data=synthetic_data) / "training.json")
    assert saved["members"] == ["crnn", "cnn"] and saved["valid_tracks"] == 10
    assert saved["left_out"] == {"musicnn": "reads 4 of the 10 validation tracks the others read"}
    assert "musicnn left out: reads 4 of the 10" in capsys.readouterr().out
