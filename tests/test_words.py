"""Words for students: the glossary, a line per model, what each model reads, and the three models shown first."""

from __future__ import annotations

import pytest

from mgc.explain import words
from mgc.models import FAMILIES
from mgc.runs.checkpoints import available_runs


def test_the_glossary_explains_each_term_the_pages_use():
    for term in ("split", "accuracy", "f1", "auc", "ap", "saliency", "test track", "training track"):
        assert len(words.GLOSSARY[term]) > 40, term


def test_every_trained_run_has_its_own_plain_description():
    for model in {m for m, _ in available_runs()}:
        assert words.describe_model(model) != words.describe_model("no-such-model"), model


def test_an_mlp_variant_is_described_by_its_width_and_optimiser():
    line = words.describe_model("mlp-512-sgd")
    assert "512" in line and "SGD" in line


def test_each_family_reads_the_input_of_its_front_end():
    kinds = {name: words.input_kind(name) for name in FAMILIES}
    assert set(kinds.values()) <= set(words.READS) and set(kinds.values()) <= set(words.READS_SHORT)
    assert {name: kinds[name] for name in kinds if name in SHIPPED_FAMILIES} == {
        "crnn": "picture",
        "cnn-lstm": "picture",
        "cnn": "picture",
        "lstm": "picture",
        "mlp": "features",
        "logreg": "features",
        "hybrid": "both",
        "musicnn": "audio",
        "crnn-seed": "seed",
    }


SHIPPED_FAMILIES = ("crnn", "cnn-lstm", "cnn", "lstm", "mlp", "logreg", "hybrid", "musicnn", "crnn-seed")


def test_a_front_end_that_does_not_say_what_it_reads_is_refused_not_described_as_the_hybrid(monkeypatch):
    from mgc.frontends import FEATURES, FrontEnd
    from mgc.models import Family

    class Silent(FrontEnd):  # a new input whose words were forgotten
        version = "silent-1"
        describes = "nothing"
        from_audio = from_dataset = batches = window_times = None

    monkeypatch.setitem(FAMILIES, "silent", Family("silent", type(None), Silent(), "tabular"))
    with pytest.raises(TypeError, match="does not say what it reads"):
        words.input_kind("silent")
    assert words.input_kind("mlp") == "features" and FAMILIES["mlp"].frontend is FEATURES


def test_a_feature_model_is_said_to_read_57_numbers_of_the_whole_clip_not_the_spectrogram():
    if ("mlp", "random") not in available_runs():
        pytest.skip("no trained mlp for the random split")
    sentence = words.what_it_reads("mlp", "random")
    assert "57 numbers" in sentence and "whole clip" in sentence and "never sees the spectrogram" in sentence


def test_an_ensemble_is_said_to_combine_what_its_members_read():
    if ("ensemble-best", "random") not in available_runs():
        pytest.skip("no ensemble-best for the random split")
    sentence = words.what_it_reads("ensemble-best", "random")
    inputs = words.run_inputs("ensemble-best", "random")
    assert sentence.startswith(f"ensemble-best combines {len(inputs)} models")
    assert all(member in sentence for member in inputs)


def test_the_student_models_are_the_crnn_the_best_ensemble_of_the_split_and_the_mlp():
    metrics = {
        ("crnn", "random"): {"accuracy": 0.79},
        ("mlp", "random"): {"accuracy": 0.72},
        ("ensemble-sum", "random"): {"accuracy": 0.84},
        ("ensemble-best", "random"): {"accuracy": 0.86},
        ("ensemble-best", "filtered"): {"accuracy": 0.59},
        ("ensemble-product", "filtered"): {"accuracy": 0.61},
        ("logreg", "random"): {"accuracy": 0.70},
    }
    assert words.student_models(metrics, "random") == ["crnn", "ensemble-best", "mlp"]
    assert words.student_models(metrics, "filtered") == ["crnn", "ensemble-product", "mlp"]


def test_the_student_models_leave_out_what_is_not_trained():
    assert words.student_models({("crnn", "random"): {"accuracy": 0.79}}, "random") == ["crnn"]
    assert words.student_models({}, "random") == []
