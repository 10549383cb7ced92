"""The seed projects' pipeline, kept as a reference: what mgc's front ends are checked against and what
`python -m benchmarks.seed_style` times mgc against. Not part of the installed package.

* `librosa_picture` — a clip's Kaggle mel picture with librosa's own calls, as the representation's docstring
  states them: the reference that `mgc.frontends.picture.render_audio` (torch) is checked against
  (`tests/test_representation.py`).
* `seed_style_features` — Kaggle's 57 features the way the seed notebooks computed them.
* `seed_style_classify` — a file classified the seeds' way: everything per call, librosa all the way, the model
  built and its weights loaded per call, its layers run one by one (no batch-norm folding, no layout change).
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050


def librosa_picture(y: np.ndarray) -> np.ndarray:
    """A clip's mel picture with librosa's own calls (melspectrogram, amplitude_to_db against the maximum), at
    mgc's column rule: the reference for `mgc.frontends.picture.render_audio`."""
    import librosa

    from mgc.frontends.picture import HOP_LENGTH, N_FFT, N_MELS, TOP_DB, _piece_columns, frame_of_column

    power = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS, pad_mode="reflect"
    )
    decibels = librosa.amplitude_to_db(power, ref=np.max, top_db=TOP_DB)
    columns = frame_of_column(_piece_columns(power.shape[1], len(y) / SAMPLE_RATE), power.shape[1])
    return np.minimum(np.floor((decibels[:, columns] + TOP_DB) / TOP_DB * 256), 255).astype(np.uint8)


def seed_style_features(y: np.ndarray) -> np.ndarray:
    """Kaggle's 57 features the way the seed notebooks computed them: each librosa call from the waveform
    (its own STFT), `effects.hpss` for the harmonic and percussive parts, `beat.beat_track` for the tempo."""
    import librosa

    sr = SAMPLE_RATE
    frames = [
        librosa.feature.chroma_stft(y=y, sr=sr),
        librosa.feature.rms(y=y),
        librosa.feature.spectral_centroid(y=y, sr=sr),
        librosa.feature.spectral_bandwidth(y=y, sr=sr),
        librosa.feature.spectral_rolloff(y=y, sr=sr),
        librosa.feature.zero_crossing_rate(y),
        *librosa.effects.hpss(y),
    ]
    values = [stat(frame) for frame in frames for stat in (np.mean, np.var)]
    values.append(float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0])[0]))
    values += [stat(band) for band in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20) for stat in (np.mean, np.var)]
    return np.asarray(values, dtype=np.float64)


def seed_style_classify(path: Path, model: str, split: str = "random") -> np.ndarray:
    """Classify `path` the seeds' way: everything per call, librosa all the way, plain layers.

    A picture model reads librosa's mel picture; a feature model `seed_style_features`; the hybrid both, its
    picture model built and loaded per call too. Returns the mean of the windows' softmax probabilities."""
    import librosa
    import torch
    from torch import nn

    from mgc.frontends import FEATURES, PICTURE, PICTURE_AND_FEATURES
    from mgc.frontends.picture import picture_windows
    from mgc.models import build_model, family
    from mgc.models.modules import ConvBlock
    from mgc.runs import run_dir

    def built(name: str) -> tuple[nn.Module, dict]:
        saved = torch.load(run_dir(name, split) / "model.pt", map_location="cpu", weights_only=True)
        network = build_model(saved["family"], saved["config"])
        network.load_state_dict(saved["state_dict"])  # a hybrid's file holds its head; its picture model follows
        network.eval()
        for block in network.modules():
            if isinstance(block, ConvBlock):  # the layers one by one, as written: no folding, no layout change
                block.forward = types.MethodType(nn.Sequential.forward, block)
        if saved["family"] == "hybrid":
            network.attach_picture(built(saved["config"]["picture_model"])[0])
        return network, saved

    y, _ = librosa.load(path, sr=SAMPLE_RATE)
    network, saved = built(model)
    frontend = family(saved["family"]).frontend
    with torch.no_grad():
        if frontend is FEATURES:
            logits = network(torch.as_tensor(seed_style_features(y)[None]))["logits"]
        elif frontend is PICTURE:
            logits = network(picture_windows(librosa_picture(y)))["logits"]
        elif frontend is PICTURE_AND_FEATURES:
            logits = network(picture_windows(librosa_picture(y)), torch.as_tensor(seed_style_features(y)[None]))[
                "logits"
            ]
        else:
            raise ValueError(f"no seed-style path for {model}'s front end {frontend}")
    return torch.softmax(logits, dim=1).mean(dim=0).numpy()
