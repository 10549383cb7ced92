"""The feature models (MLPs, logistic regression) on Kaggle's 57 features: training, standardisation, shipping."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

import mgc
from mgc.cli import main
from mgc.data.gtzan import GENRES, labels_of
from mgc.evaluate import compute_metrics, evaluate
from mgc.frontends import FEATURES
from mgc.frontends.features import FEATURE_NAMES, table_features
from mgc.models.modules import FeatureStandardisation
from mgc.runs.calibration import calibrate, calibration_of
from mgc.runs.checkpoints import load_model, load_picture_model, read_json, run_dir
from mgc.runs.outputs import window_outputs
from mgc.train.tabular import MLP_VARIANTS, feature_parts, fit_logreg, train_logreg, train_mlp
from tests.conftest import encode, sine_chord

TRACKS_PER_GENRE = 8
PARTS = {"train": range(0, 5), "valid": range(5, 6), "test": range(6, 8)}


def feature_folder(root, valid_test_scale: float = 1.0):
    """A GTZAN folder with only a features_30_sec.csv and split lists: 8 tracks per genre, 5/1/2.

    Each genre has its own centre; columns have scales from 1e-6 to 1e6 (as Kaggle's do), so a model
    learns only if it standardises. `valid_test_scale` multiplies the valid and test rows.
    """
    rng = np.random.default_rng(0)
    scales = np.logspace(-6, 6, len(FEATURE_NAMES))
    centres = rng.standard_normal((len(GENRES), len(FEATURE_NAMES)))
    rows, lists = [], {part: [] for part in PARTS}
    for k, genre in enumerate(GENRES):
        for i in range(TRACKS_PER_GENRE):
            part = next(p for p, indices in PARTS.items() if i in indices)
            values = (centres[k] + 3.0 * rng.standard_normal(len(FEATURE_NAMES))) * scales + scales
            if part != "train":
                values = values * valid_test_scale
            rows.append(
                {
                    "filename": f"{genre}.{i:05d}.wav",
                    "length": 661794,
                    **dict(zip(FEATURE_NAMES, values)),
                    "label": genre,
                }
            )
            lists[part].append(f"{genre}/{genre}.{i:05d}.wav")
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "features_30_sec.csv", index=False)
    (root / "splits").mkdir(exist_ok=True)
    for part, names in lists.items():
        (root / "splits" / f"{part}_filtered.txt").write_text("\n".join(names) + "\n")
    return root


@pytest.fixture(scope="module")
def features_data(tmp_path_factory):
    return feature_folder(tmp_path_factory.mktemp("features") / "gtzan")


@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    monkeypatch.setenv("MGC_CHECKPOINTS", str(root))
    return root


def few_epochs(name: str, epochs: int = 30):
    """The recipe of `name` for a few epochs of 5 mini-batches each (50 train rows), without early stopping."""
    return replace(MLP_VARIANTS[name][1], epochs=epochs, batch_size=10, patience=1000)


@pytest.mark.parametrize("name", list(MLP_VARIANTS))
def test_every_mlp_recipe_lowers_its_training_loss_in_a_few_steps(name, features_data, checkpoints):
    out = train_mlp(name, "filtered", data=features_data, out_dir=run_dir(name, "filtered"), config=few_epochs(name))
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 30
    assert history["train_loss"].iloc[-3:].mean() < 0.9 * history["train_loss"].iloc[0]
    record = read_json(out / "training.json")
    assert record["family"] == "mlp" and list(record["model_config"]["hidden"]) == list(MLP_VARIANTS[name][0]["hidden"])


def test_logistic_regression_fits_far_below_the_loss_of_guessing(features_data, checkpoints):
    history = pd.read_csv(train_logreg("filtered", data=features_data) / "history.csv")
    assert len(history) == 1 and history["train_loss"].iloc[0] < 0.5 * np.log(len(GENRES))


def test_standardisation_matches_scikit_learn_and_leaves_constant_columns_at_zero():
    from sklearn.preprocessing import StandardScaler

    rows = np.random.default_rng(1).standard_normal((30, 57)) * np.logspace(-6, 6, 57)
    rows[:, 3] = 7.0
    layer = FeatureStandardisation(57)
    layer.fit(rows)
    scaler = StandardScaler().fit(rows)
    assert np.allclose(layer.mean.numpy(), scaler.mean_, rtol=1e-12) and np.allclose(layer.std.numpy(), scaler.scale_)
    standardised = layer(torch.from_numpy(rows)).numpy()
    assert np.allclose(standardised, scaler.transform(rows), atol=1e-5) and np.all(standardised[:, 3] == 0)


@pytest.mark.parametrize("name", ["mlp-256", "logreg"])
def test_standardisation_is_fitted_on_the_train_rows_only(name, features_data, tmp_path, checkpoints):
    """Scaling the valid and test rows by 1000 changes nothing in the buffers, which are the train rows' statistics."""
    shifted = feature_folder(tmp_path / "shifted", valid_test_scale=1000.0)
    buffers = []
    for data in (features_data, shifted):
        out = tmp_path / data.name / name
        if name == "logreg":
            train_logreg("filtered", data=data, out_dir=out)
        else:
            train_mlp(name, "filtered", data=data, out_dir=out, config=few_epochs(name, epochs=2))
        saved = torch.load(out / "model.pt", weights_only=True)
        buffers.append((saved["state_dict"]["normalise.mean"], saved["state_dict"]["normalise.std"]))
    assert torch.equal(buffers[0][0], buffers[1][0]) and torch.equal(buffers[0][1], buffers[1][1])
    train_rows = feature_parts(mgc.GTZAN(features_data), "filtered").train_rows
    assert np.allclose(buffers[0][0].numpy(), train_rows.mean(axis=0), rtol=1e-10)
    assert np.allclose(buffers[0][1].numpy(), train_rows.std(axis=0), rtol=1e-10)


def test_logreg_module_gives_scikit_learns_predict_proba(features_data):
    parts = feature_parts(mgc.GTZAN(features_data), "filtered")
    pipeline, model = fit_logreg(parts.train_rows, parts.train_labels)
    probabilities, embeddings = window_outputs(model, FEATURES, parts.valid_rows)
    assert np.allclose(probabilities, pipeline.predict_proba(parts.valid_rows), atol=1e-5)
    assert embeddings.shape == (len(parts.valid_rows), 57)


def test_saved_logreg_loads_with_weights_only_and_its_test_metrics_are_scikit_learns(features_data, checkpoints):
    train_logreg("filtered", data=features_data)
    model, saved = load_model("logreg", "filtered")
    assert saved["family"] == "logreg" and saved["representation"] == "kaggle-features-30s-v1"
    assert read_json(run_dir("logreg", "filtered") / "training.json")["sklearn_max_abs_difference"] < 1e-5
    metrics = evaluate("logreg", "filtered", data=features_data)

    dataset = mgc.GTZAN(features_data)
    parts = feature_parts(dataset, "filtered")
    pipeline, _ = fit_logreg(parts.train_rows, parts.train_labels)
    test = dataset.split("filtered").test
    expected = pipeline.predict_proba(table_features(dataset.features, test))
    table = pd.read_csv(run_dir("logreg", "filtered") / "predictions.csv")
    assert list(table["track"]) == list(test)
    # the cached probabilities are calibrated with the run's temperature (which never changes an answer)
    temperature = calibration_of("logreg", "filtered").temperature
    assert np.allclose(table[list(GENRES)].to_numpy(), calibrate(expected, temperature), atol=1e-5)
    reference = compute_metrics(labels_of(test), expected)
    assert metrics["confusion_matrix"] == reference["confusion_matrix"]
    for key in ("accuracy", "macro_f1", "macro_roc_auc"):
        assert metrics[key] == pytest.approx(reference[key])
    assert metrics["parameters"] == 57 * 10 + 10 and metrics["train_seconds"] is not None


def test_train_mlp_command_trains_four_variants_and_ships_the_best_by_validation_accuracy(features_data, checkpoints):
    assert main(["train", "--model", "mlp", "--split", "filtered", "--data", str(features_data), "--epochs", "5"]) == 0
    shipped = read_json(run_dir("mlp", "filtered") / "training.json")
    candidates = {name: read_json(run_dir(name, "filtered") / "training.json") for name in MLP_VARIANTS}
    assert shipped["candidates_valid_accuracy"] == {n: r["best_valid_accuracy"] for n, r in candidates.items()}
    assert shipped["best_valid_accuracy"] == max(shipped["candidates_valid_accuracy"].values())
    variant = shipped["variant"]
    assert (run_dir("mlp", "filtered") / "model.pt").read_bytes() == (
        run_dir(variant, "filtered") / "model.pt"
    ).read_bytes()
    assert main(["evaluate", "--model", "mlp", "--split", "filtered", "--data", str(features_data)]) == 0
    metrics = read_json(run_dir("mlp", "filtered") / "metrics.json")
    assert metrics["test_tracks"] == 2 * len(GENRES) and metrics["parameters"] > 0


def test_a_feature_model_classifies_audio_with_one_timeline_row_and_is_no_picture_model(features_data, checkpoints):
    train_mlp(
        "mlp-256",
        "filtered",
        data=features_data,
        out_dir=run_dir("mlp", "filtered"),
        config=few_epochs("mlp-256", epochs=2),
    )
    prediction = mgc.classify(encode(sine_chord(5.0)), model="mlp", split="filtered")
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert len(prediction.timeline) == 1 and prediction.timeline["end"].iloc[0] == pytest.approx(5.0, abs=0.01)
    assert prediction.embedding.shape == (64,) and prediction.picture.shape[0] == 128
    with pytest.raises(mgc.CheckpointError, match="not a mel picture"):
        load_picture_model("mlp", "filtered")


@pytest.mark.real_data
@pytest.mark.parametrize("model", ["mlp", "logreg"])
def test_shipped_feature_model_says_the_same_from_audio_as_from_the_csv_row(model, real_data, monkeypatch):
    monkeypatch.delenv("MGC_CHECKPOINTS", raising=False)
    if not (run_dir(model, "random") / "model.pt").is_file():
        pytest.skip(
            f"no shipped {model} for the random split: run `python -m mgc train --model {model} --split random`"
        )
    if not real_data.audio:
        pytest.skip("the GTZAN folder has no audio (genres_original/) to classify")
    test = real_data.split("random").test
    clip = next((t for t in test if t in real_data.audio), sorted(real_data.audio)[0])
    network, _ = load_model(model, "random")
    from_csv, embedding = window_outputs(network, FEATURES, table_features(real_data.features, [clip]))
    prediction = mgc.classify(real_data.audio[clip], model=model, split="random")
    expected = calibrate(from_csv[0], calibration_of(model, "random").temperature)  # what classify shows
    assert np.allclose(list(prediction.probabilities.values()), expected, atol=1e-4)
    assert np.allclose(prediction.embedding, embedding[0], atol=1e-4 * max(1.0, np.abs(embedding).max()))
    assert prediction.timeline["end"].iloc[0] == pytest.approx(30.0, abs=0.1)
