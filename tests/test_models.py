"""Model shapes, normalisation inside the module, and a tiny training run that learns."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from mgc.frontends import PICTURE
from mgc.frontends.picture import window_starts
from mgc.models import build_model, families_reading, parameter_count
from mgc.runs.checkpoints import load_picture_model
from mgc.train import TrainConfig, train
from mgc.train.common import native_bf16, training_precision

EMBEDDING_SIZE = {"crnn": 128, "cnn-lstm": 128, "cnn": 256, "lstm": 384}
SMALL = {
    "crnn": {"channels": [8, 16, 16, 32, 32], "gru_hidden": 16},
    "cnn-lstm": {"channels": [8, 16, 16, 32, 32], "gru_hidden": 16},
    "cnn": {"channels": [8, 16, 16, 32, 32]},
    "lstm": {"hidden": 16},
}


def test_every_picture_model_is_tested_here():
    assert set(EMBEDDING_SIZE) == set(families_reading(PICTURE)) == set(SMALL)


@pytest.mark.parametrize("family", sorted(EMBEDDING_SIZE))
@pytest.mark.parametrize("columns", [11, 34, 112, 334])
def test_picture_models_give_logits_and_an_embedding_for_any_width(family, columns):
    model = build_model(family).eval()
    out = model(torch.randint(0, 256, (3, 128, columns), dtype=torch.uint8))
    assert out["logits"].shape == (3, 10) and out["embedding"].shape == (3, EMBEDDING_SIZE[family])


def test_crnn_normalises_its_own_uint8_input():
    model = build_model("crnn")
    pictures = [np.full((128, 50), 200, dtype=np.uint8), np.full((128, 50), 100, dtype=np.uint8)]
    model.normalise.fit(pictures)
    assert torch.allclose(model.normalise.mean, torch.full((128,), 150.0))
    normalised = model.normalise(torch.from_numpy(pictures[0])[None])
    assert torch.allclose(normalised, torch.ones_like(normalised), atol=0.02)


def test_config_round_trips_through_a_plain_dict():
    model = build_model("crnn", {"gru_hidden": 16, "channels": [8, 8, 8, 8, 8]})
    assert model.config.gru_hidden == 16 and model.config.channels == (8, 8, 8, 8, 8)
    assert parameter_count(model) < parameter_count(build_model("crnn"))


def test_windows_cover_the_whole_picture():
    starts = window_starts(334, 112, 28)
    assert starts[0] == 0 and starts[-1] == 334 - 112 and len(starts) == 9
    assert list(window_starts(50, 112, 28)) == [0]


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("family", sorted(SMALL))
def test_tiny_training_run_lowers_the_loss_and_writes_a_loadable_checkpoint(
    family, precision, synthetic_data, tmp_path, monkeypatch
):
    if precision == "bf16" and not native_bf16("cpu"):
        # Training picks bf16 only where the CPU computes it natively (training_precision("auto")); emulated, oneDNN
        # has no bf16 LSTM primitive on some CPUs (an AMD EPYC without AVX-512 BF16 raised "could not create a
        # primitive descriptor"), so this case is for the CPUs that would train in it.
        pytest.skip("this CPU does not compute bfloat16 natively, so training never uses it here")
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    config = TrainConfig(
        epochs=12,
        lr=3e-3,
        mixup_alpha=0.0,
        crops_per_track=4,
        patience=100,
        precision=precision,
        listening=0.0,
        degraded_renders=0,
    )
    out = train(
        family,
        "filtered",
        data=synthetic_data,
        config=config,
        model_config=SMALL[family],
        out_dir=tmp_path / family / "filtered",
    )
    assert json.loads((out / "training.json").read_text())["precision"] == precision
    history = pd.read_csv(out / "history.csv")
    assert len(history) == 12
    assert history["train_loss"].iloc[-2:].mean() < 0.9 * history["train_loss"].iloc[0]
    assert history["valid_loss"].min() < history["valid_loss"].iloc[0]
    model, saved = load_picture_model(family, "filtered")
    assert saved["representation"] == "kaggle-mel-v1" and saved["genres"][0] == "blues"
    assert saved["family"] == family and model.config == build_model(family, SMALL[family]).config


def test_training_precision_is_bf16_only_where_the_cpu_computes_it_natively(monkeypatch):
    assert training_precision("fp32", "cpu") == "fp32" and training_precision("bf16", "cpu") == "bf16"
    with pytest.raises(ValueError, match="unknown precision"):
        training_precision("fp16", "cpu")
    for amx, avx512_bf16, expected in [(False, False, "fp32"), (True, False, "bf16"), (False, True, "bf16")]:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
        monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
        assert training_precision("auto", "cpu") == expected


def test_bench_times_a_training_step_of_every_picture_model_in_each_precision_this_cpu_trains_in():
    from mgc.bench import training_steps

    steps = training_steps(runs=1, warmup=0)
    assert set(steps) == set(families_reading(PICTURE))
    native = native_bf16("cpu")
    for family, row in steps.items():
        assert row["fp32"]["median_ms"] > 0 and ("bf16" in row) == native
        if native:
            assert row["fp32_over_bf16"] == row["fp32"]["median_ms"] / row["bf16"]["median_ms"]


@pytest.mark.real_data
def test_bench_estimates_the_zoos_picture_training_from_steps_validation_and_conditions(real_data):
    import math

    from mgc.bench import zoo_training_estimate
    from mgc.train.pictures import TrainConfig, robust_fine_tuning

    estimate = zoo_training_estimate({"crnn": {"fp32": {"median_ms": 100.0}}}, tracks=2)
    clean, robust = TrainConfig(), robust_fine_tuning(Path("."))
    assert estimate["epochs"] == {"clean": clean.epochs, "fine_tuning": robust.epochs}
    assert 0 < estimate["condition_ms_per_example"] < 50  # the rooms are made before the timing, not in it
    for split, row in estimate["families"]["crnn"].items():
        parts = real_data.split(split)
        steps = math.ceil(len(parts.train) * clean.crops_per_track / clean.batch_size) * 0.1
        assert steps < row["epoch_seconds"] < steps + len(parts.valid) * 1.0  # + validation, under 1 s a track
        conditions = robust.epochs * len(parts.train) * robust.crops_per_track * estimate["condition_ms_per_example"]
        assert row["minutes"] * 60 == pytest.approx(
            (clean.epochs + robust.epochs) * row["epoch_seconds"] + conditions / 1000
        )
    assert estimate["picture_models_minutes"] == pytest.approx(
        sum(r["minutes"] for r in estimate["families"]["crnn"].values())
    )


def test_the_cnn_lstm_is_the_crnn_with_lstm_cells_and_nothing_else():
    crnn, cnn_lstm = build_model("crnn"), build_model("cnn-lstm")
    assert isinstance(crnn.gru, torch.nn.GRU) and isinstance(cnn_lstm.gru, torch.nn.LSTM)
    assert type(crnn) is type(cnn_lstm) and cnn_lstm.config.cell == "lstm" and crnn.config.cell == "gru"
    assert {k: v for k, v in vars(crnn.config).items() if k != "cell"} == {
        k: v for k, v in vars(cnn_lstm.config).items() if k != "cell"
    }
    with pytest.raises(ValueError, match="unknown recurrent cell"):
        build_model("crnn", {"cell": "rnn"})


def test_the_robust_recipe_fine_tunes_the_clean_run_through_listening_conditions(synthetic_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    out = train("crnn", "filtered", data=synthetic_data, epochs=2, model_config=SMALL["crnn"])  # recipe="robust"
    record = json.loads((out / "training.json").read_text())
    assert record["recipe"] == "robust: fine-tuned from a clean run"
    assert record["fine_tuned_from"]["epochs_run"] == 2 and record["epochs_run"] == 20
    assert record["degraded_render_tracks"] == 20  # every train track of the tiny folder has audio
    assert record["train_config"]["listening"] == 0.8 and record["train_config"]["lr"] == 3e-4
    assert record["train_seconds"] >= record["fine_tuned_from"]["train_seconds"]
    assert len(pd.read_csv(out / "history.csv")) == 20
    model, saved = load_picture_model("crnn", "filtered")
    assert saved["family"] == "crnn" and model.config == build_model("crnn", SMALL["crnn"]).config


def test_the_clean_recipe_is_one_stage_on_the_pictures_as_they_are(synthetic_data, tmp_path, monkeypatch):
    monkeypatch.setenv("MGC_CHECKPOINTS", str(tmp_path))
    out = train("cnn", "filtered", data=synthetic_data, epochs=2, model_config=SMALL["cnn"], recipe="clean")
    record = json.loads((out / "training.json").read_text())
    assert record["recipe"] == "clean" and record["fine_tuned_from"] is None and record["epochs_run"] == 2
    with pytest.raises(ValueError, match="unknown recipe"):
        train("cnn", "filtered", data=synthetic_data, recipe="noisy")
