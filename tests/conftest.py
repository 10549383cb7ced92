"""Shared fixtures: synthetic signals, a tiny synthetic GTZAN folder, and the real one when present."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile

from mgc.data.gtzan import GENRES, GTZAN, default_data_dir

SR = 22050

# --- the unit tier: `python -m pytest -m unit`, about a minute on 2 cores, for someone changing code ----------------
SLOW_FILES = {
    "test_app.py",  # drives every page through Streamlit's AppTest, loading the shipped models
    "test_browser.py",  # a real server and chromium
    "test_shipped.py",  # every shipped run held to its predictions
    "test_bad_input.py",  # crafted uploads through the decoder and the app, each with its time budget
    "test_ensembles.py",  # trains small members on the synthetic folder
    "test_robustness.py",  # renders rooms, speakers and codecs
    "test_conditions.py",
    "test_gate.py",  # fits and checks the not-music gate on real recordings
    "test_musicnn.py",  # the pretrained musicnn network
    "test_musicnn_head.py",
    "test_musicnn_gru.py",
    "test_taggram.py",
    "test_microphone.py",
    "test_train_loop.py",  # whole training runs
    "test_toy_family.py",  # trains, evaluates and classifies with a toy family in a copy of the package
    "test_hybrid.py",
    "test_seed_frontend.py",
    "test_tabular.py",  # trains every MLP recipe (24–119 s each at load 30)
    "test_checkpoints.py",  # child processes that load models
    "test_calibration.py",  # fits temperatures over many simulated runs
}
"""Test files left out of the unit tier: each test in them takes seconds (a trained or pretrained network, training,
audio rendering, the app or a browser). Measured with `python -m pytest --durations=0`."""
SLOW_TESTS = (
    "test_ten_minutes_take_about_the_memory",  # decodes ten minutes in a child process
    "test_bench_times_a_training_step",
    "test_every_feature_equals_librosas_own_calls",
    "test_extracting_features_never_imports_librosa",  # a fresh interpreter
    "test_classify_reads_an_ensembles_recipe_once",  # loads the shipped ensemble's members
)
"""Tests (name prefixes) in otherwise fast files that took 20–120 s each in `python -m pytest -m unit --durations=25`
at load 30: left out of the unit tier."""
SLOW_FIXTURES = {"real_data", "small_model", "synthetic_data", "trained_crnn", "checkpoints_copy", "no_dataset"}
"""A test that asks for one of these (the dataset, a model trained for it, the shipped runs) is not a unit test."""


def pytest_collection_modifyitems(config, items):
    """Mark as `unit` every test that needs no dataset, no trained model, no app and no browser, and is not in one of
    the slow files: `python -m pytest -m unit` runs them alone; `python -m pytest` (CI) still runs everything."""
    for item in items:
        slow = (
            item.path.name in SLOW_FILES
            or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
            or item.name.startswith(SLOW_TESTS)
            or any(item.get_closest_marker(name) for name in ("real_data", "browser", "slow"))
        )
        if not slow:
            item.add_marker(pytest.mark.unit)


def sine_chord(seconds: float, freqs=(220.0, 277.2, 329.6), sr: int = SR, seed: int = 0) -> np.ndarray:
    """A steady chord with a little noise: deterministic, clearly not silence."""
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(seed)
    y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs) * 0.5
    return (y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def encode(samples: np.ndarray, sr: int = SR, format: str = "WAV", subtype: str | None = None) -> bytes:
    """Audio samples → file bytes in `format` (WAV, FLAC, OGG, MP3)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sr, format=format, subtype=subtype)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def real_data() -> GTZAN:
    """The real GTZAN folder ($MGC_DATA or ../shared/gtzan); tests using it skip when it is absent."""
    root = default_data_dir()
    if root is None or not root.is_dir():
        pytest.skip("the GTZAN folder is absent (set MGC_DATA or put it at ../shared/gtzan)")
    return GTZAN(root)


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """Every test session caches pictures in its own folder, never in the user's ~/.cache."""
    monkeypatch.setenv("MGC_CACHE", str(tmp_path_factory.getbasetemp() / "mgc-cache"))


def genre_signal(genre: str, index: int, seconds: float = 4.0) -> np.ndarray:
    """A clip whose spectrum depends on its genre: a chord rooted on a genre-specific pitch."""
    k = GENRES.index(genre)
    root = 110.0 * 2 ** (k / 3)
    return sine_chord(seconds, freqs=(root, root * 1.5, root * 2.01), seed=100 * k + index)


def tiny_gtzan(root: Path, features: bool = False) -> Path:
    """A tiny GTZAN folder in the Kaggle layout at `root`: 4 clips of 4 s per genre (`genre_signal`; 2 train, 1 valid,
    1 test in the filtered split's lists), audio only — with `features`, also the features_30_sec.csv that
    `extract_features` gives for that audio, so the CSV rows are what classify computes (every trainer can read it)."""
    lines, rows = {"train": [], "valid": [], "test": []}, []
    for genre in GENRES:
        (root / "genres_original" / genre).mkdir(parents=True)
        for i in range(4):
            name = f"{genre}.{i:05d}.wav"
            samples = genre_signal(genre, i)
            soundfile.write(root / "genres_original" / genre / name, samples, SR)
            if features:
                import mgc
                from mgc.frontends.features import FEATURE_NAMES, extract_features

                measured = extract_features(mgc.load_audio(encode(samples)).samples)
                rows.append(
                    {"filename": name, "length": len(samples), **dict(zip(FEATURE_NAMES, measured)), "label": genre}
                )
            lines["train" if i < 2 else ("valid" if i == 2 else "test")].append(f"{genre}/{name}")
    if features:
        import pandas as pd

        pd.DataFrame(rows).to_csv(root / "features_30_sec.csv", index=False)
    (root / "splits").mkdir()
    for part, names in lines.items():
        (root / "splits" / f"{part}_filtered.txt").write_text("\n".join(names) + "\n")
    return root


@pytest.fixture(scope="session")
def synthetic_data(tmp_path_factory) -> Path:
    """A tiny GTZAN folder in the Kaggle layout: 4 clips of 4 s per genre, audio only, with split lists."""
    return tiny_gtzan(tmp_path_factory.mktemp("gtzan"))


@pytest.fixture(scope="session")
def small_model(synthetic_data, tmp_path_factory):
    """A small CRNN trained for two epochs on the synthetic folder (clean recipe), in its own checkpoints root."""
    from mgc.train import TrainConfig, train

    root = tmp_path_factory.mktemp("checkpoints")
    train(
        "crnn",
        "filtered",
        data=synthetic_data,
        out_dir=root / "crnn" / "filtered",
        config=TrainConfig(epochs=2, mixup_alpha=0.0),
        model_config={"channels": [8, 8, 16, 16, 16], "gru_hidden": 8},
    )
    return root
