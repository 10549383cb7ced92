#!/usr/bin/env python3
"""Convert musicnn's TensorFlow-1 checkpoints to PyTorch, and record TensorFlow's outputs for the parity test.

    python tools/convert_musicnn.py [--musicnn DIR] [--out DIR]

Runs once, by hand, in a throwaway environment with TensorFlow; the repository and its tests never need it.
`musicnn==0.1.0` pins numpy<1.17 and so cannot be installed with its dependencies on Python 3.11; this works:

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfenv/bin/pip install tensorflow-cpu librosa soundfile pandas torch  # torch (CPU) writes the .pt files
    /tmp/tfenv/bin/pip install --no-deps tf-keras
    TF_USE_LEGACY_KERAS=1 /tmp/tfenv/bin/python tools/convert_musicnn.py

It downloads nothing: `--musicnn` names the installed package's folder (default: where `import musicnn` finds
it). It writes:

* `mgc/models/musicnn_weights/{MSD,MTT}_musicnn.pt` — {"state_dict" (float32, keyed for
  `mgc.models.musicnn.Musicnn`), "tags" (the 50 tags in output order), "source"}; the VGG checkpoints in the
  wheel are left out;
* `mgc/models/musicnn_weights/reference.npz` — log-mel patches (float32, as fed to TensorFlow) of two shipped
  examples (never GTZAN: the file is committed) and of synthetic signals, with TensorFlow's taggram, logits and
  penultimate embedding per patch for both models;
* `mgc/models/musicnn_weights/LICENSE-musicnn.txt` — the wheel's ISC licence, with attribution;
* `mgc/frontends/musicnn_mel_basis.npz` — librosa's mel filters for musicnn's front end, so serving needs no librosa.

musicnn's own front end (`extractor.batch_data`) is mirrored with one deliberate change. It casts the mel power
spectrogram to float16 and takes `np.log10(10000 * mel + 1)`: NumPy 1's value-based casting promoted that
product to float32, but NumPy 2 (NEP 50) keeps it float16, which overflows to inf wherever 10000·mel > 65504
(loud tonal bins: every patch of the jazz example) — musicnn under NumPy 2 silently tags infs (on that
example, 'rock, pop, soul' instead of 'jazz, instrumental'). Here the float16 mel is cast to float32 before the
log, which is what NumPy 1 computed. The script checks the mirror against `batch_data` itself and prints how
many values the overflow touches.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ("MSD_musicnn", "MTT_musicnn")
SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187
REFERENCE_EXAMPLES = {  # shipped example → how many of its first patches the reference keeps
    "Kevin_MacLeod_-_Vibe_Ace.ogg": 2,
    "Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg": 2,
}
LICENCE_HEADER = """\
musicnn's pretrained weights (MSD_musicnn, MTT_musicnn), converted to PyTorch state dicts by
tools/convert_musicnn.py from the TensorFlow checkpoints in the musicnn 0.1.0 wheel on PyPI
(https://github.com/jordipons/musicnn). The licence (ISC) below covers that package's code and its weights.

musicnn was created by Jordi Pons and Xavier Serra (Music Technology Group, Universitat Pompeu Fabra):

    Jordi Pons and Xavier Serra, "musicnn: Pre-trained convolutional neural networks for music audio
    tagging", Late-breaking/demo session, ISMIR 2019. arXiv:1909.06654.

The network is the one of:

    Jordi Pons, Oriol Nieto, Matthew Prockup, Erik M. Schmidt, Andreas F. Ehmann and Xavier Serra,
    "End-to-end learning for music audio tagging at scale", ISMIR 2018. arXiv:1711.02520.

----------------------------------------------------------------------------------------------------------
"""


def checkpoint_state_dict(model_folder: Path) -> dict:
    """The checkpoint's variables as a state dict for `Musicnn` (TensorFlow's layer names are creation order)."""
    import tensorflow as tf
    import torch

    # tf.train.load_checkpoint reads the folder's `checkpoint` file, which names the author's disk; the
    # reader takes the file prefix itself (the files are `<folder>/.index` and `<folder>/.data-…`).
    reader = tf.compat.v1.train.NewCheckpointReader(str(model_folder) + "/")

    def tensor(name: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(reader.get_tensor(name), dtype=np.float32))

    def conv2d(name: str) -> torch.Tensor:  # TF (time, bands, in, out) → torch (out, in, time, bands)
        return tensor(f"{name}/kernel").permute(3, 2, 0, 1).contiguous()

    def conv1d(name: str) -> torch.Tensor:  # TF (time, channels, 1, out): the channels are the conv's width
        return tensor(f"{name}/kernel")[:, :, 0, :].permute(2, 1, 0).contiguous()

    def norm(prefix: str, tf_index: int) -> dict:
        name = "batch_normalization" + (f"_{tf_index}" if tf_index else "")
        return {
            f"{prefix}.weight": tensor(f"{name}/gamma"),
            f"{prefix}.bias": tensor(f"{name}/beta"),
            f"{prefix}.running_mean": tensor(f"{name}/moving_mean"),
            f"{prefix}.running_var": tensor(f"{name}/moving_variance"),
            f"{prefix}.num_batches_tracked": torch.tensor(0),
        }

    state = norm("input_norm", 0)
    # Front end, in models.frontend's order: f74, f77 (timbral), s1, s2, s3 (temporal 128, 64, 32 frames).
    front = [("timbral", 0), ("timbral", 1), ("temporal", 0), ("temporal", 1), ("temporal", 2)]
    for tf_index, (kind, i) in enumerate(front):
        name = "conv2d" + (f"_{tf_index}" if tf_index else "")
        state[f"{kind}.{i}.weight"] = conv2d(name)
        state[f"{kind}.{i}.bias"] = tensor(f"{name}/bias")
        state.update(norm(f"{kind}_norms.{i}", tf_index + 1))
    for i in range(3):
        state[f"mid_end.{i}.weight"] = conv1d(f"conv2d_{5 + i}")
        state[f"mid_end.{i}.bias"] = tensor(f"conv2d_{5 + i}/bias")
        state.update(norm(f"mid_end_norms.{i}", 6 + i))
    state.update(norm("pool_norm", 9))
    state["dense.weight"] = tensor("dense/kernel").T.contiguous()
    state["dense.bias"] = tensor("dense/bias")
    state.update(norm("dense_norm", 10))
    state["classifier.weight"] = tensor("dense_1/kernel").T.contiguous()
    state["classifier.bias"] = tensor("dense_1/bias")
    return state


def musicnn_patches(audio_16k: np.ndarray, float16_log: bool = False) -> np.ndarray:
    """musicnn's `extractor.batch_data` on samples already at 16 kHz, with the log taken in float32.

    `float16_log=True` keeps musicnn's float16 arithmetic (to check this mirror against the original).
    Patches do not overlap (`extractor`'s default `input_overlap=False` makes the hop one patch), and the
    last incomplete patch is dropped.
    """
    import librosa

    mel = librosa.feature.melspectrogram(
        y=audio_16k, sr=SAMPLE_RATE, hop_length=HOP_LENGTH, n_fft=N_FFT, n_mels=N_MELS
    ).T.astype(np.float16)
    if not float16_log:
        mel = mel.astype(np.float32)
    with np.errstate(over="ignore"):  # the float16 path overflows; that is what it is there to show
        log_mel = np.log10(10000 * mel + 1)
    starts = range(0, log_mel.shape[0] - PATCH_FRAMES + 1, PATCH_FRAMES)
    return np.stack([log_mel[s : s + PATCH_FRAMES] for s in starts])


def synthetic_signals() -> dict[str, np.ndarray]:
    """Deterministic 16-kHz test signals of one patch each (3.1 s): an A-minor chord and pink-ish noise."""
    seconds = (PATCH_FRAMES + 1) * HOP_LENGTH / SAMPLE_RATE
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220.0, 261.63, 329.63, 440.0))
    chord *= np.minimum(1.0, t / 0.05)  # a 50-ms attack, no click
    white = np.random.default_rng(2019).standard_normal(len(t))
    spectrum = np.fft.rfft(white) / np.sqrt(np.maximum(np.fft.rfftfreq(len(t), 1 / SAMPLE_RATE), 20.0))
    noise = np.fft.irfft(spectrum, len(t))
    noise *= 0.1 / np.sqrt(np.mean(noise**2))
    return {"synthetic: A-minor chord": chord.astype(np.float32), "synthetic: pink noise": noise.astype(np.float32)}


def reference_patches(examples: Path) -> tuple[np.ndarray, list[str], list[int], dict[str, int]]:
    """Patches fed to TensorFlow, the source of each, the STFT frame where it starts, and how many patches
    musicnn cuts from each whole example."""
    import librosa
    from musicnn.extractor import batch_data  # also disables eager execution, as musicnn's extractor runs

    patches, sources, starts, counts = [], [], [], {}
    for file_name, count in REFERENCE_EXAMPLES.items():
        path = examples / file_name
        audio, _ = librosa.load(path, sr=SAMPLE_RATE)  # as batch_data loads it
        mine = musicnn_patches(audio)
        with np.errstate(over="ignore"):
            original, _ = batch_data(str(path), PATCH_FRAMES, PATCH_FRAMES)
        mirrored = musicnn_patches(audio, float16_log=True)
        assert np.array_equal(original, mirrored, equal_nan=True), f"{file_name}: mirror differs from batch_data"
        overflowed = ~np.isfinite(original.astype(np.float32))
        print(
            f"{file_name}: {len(original)} patches; musicnn's float16 log overflows in {overflowed.sum()} of "
            f"{original.size} values ({overflowed.any(axis=(1, 2)).sum()} patches); float32 log: "
            f"max |Δ| elsewhere {np.abs(mine[~overflowed] - original[~overflowed].astype(np.float32)).max():.2e}"
        )
        counts[f"examples/{file_name}"] = len(mine)
        patches.extend(mine[:count])
        sources.extend([f"examples/{file_name}"] * count)
        starts.extend(range(0, count * PATCH_FRAMES, PATCH_FRAMES))
    for name, signal in synthetic_signals().items():
        patches.append(musicnn_patches(signal)[0])
        sources.append(name)
        starts.append(0)
    return np.stack(patches).astype(np.float32), sources, starts, counts


def tensorflow_outputs(musicnn_folder: Path, model: str, patches: np.ndarray) -> dict[str, np.ndarray]:
    """musicnn's own graph (`models.define_model`, as `extractor.extractor` builds it) restored and run on `patches`."""
    import tensorflow as tf
    from musicnn import models

    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        logits, *_, penultimate = models.define_model(x, is_training, model, 50)
        taggram = tf.nn.sigmoid(logits)
    threads = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    with tf.compat.v1.Session(config=threads) as session:
        # extractor wraps this restore in a bare `except:` and would run random weights on failure; not here.
        tf.compat.v1.train.Saver().restore(session, str(musicnn_folder / model) + "/")
        tags, raw, embedding = session.run([taggram, logits, penultimate], {x: patches, is_training: False})
    return {"taggram": tags, "logits": raw, "embedding": embedding}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--musicnn", type=Path, default=None, help="the installed musicnn package's folder")
    parser.add_argument("--out", type=Path, default=ROOT / "mgc" / "models" / "musicnn_weights")
    parser.add_argument("--examples", type=Path, default=ROOT / "examples")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=r".*is deprecated", category=UserWarning)  # musicnn's tf.layers
    import librosa
    import tensorflow as tf
    import torch

    if args.musicnn is None:
        import musicnn

        args.musicnn = Path(musicnn.__file__).parent
    from musicnn import configuration

    from mgc.models.musicnn import Musicnn

    tags = {"MSD_musicnn": configuration.MSD_LABELS, "MTT_musicnn": configuration.MTT_LABELS}
    args.out.mkdir(parents=True, exist_ok=True)
    for model in MODELS:
        state = checkpoint_state_dict(args.musicnn / model)
        network = Musicnn(tags=len(tags[model]))
        network.load_state_dict(state)  # strict: every key present and of the right shape
        source = f"musicnn 0.1.0 (ISC licence, Pons & Serra 2019), {model} TensorFlow checkpoint"
        torch.save(
            {"state_dict": network.state_dict(), "tags": list(tags[model]), "source": source}, args.out / f"{model}.pt"
        )
        print(f"{model}: {sum(p.numel() for p in network.parameters())} parameters → {args.out / (model + '.pt')}")

    basis = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype(np.float32)
    np.savez_compressed(ROOT / "mgc" / "frontends" / "musicnn_mel_basis.npz", mel_basis=basis)

    patches, sources, starts, counts = reference_patches(args.examples)
    reference = {
        "patches": patches,
        "sources": np.array(sources),
        "start_frames": np.array(starts),
        "examples": np.array(list(counts)),
        "example_patch_counts": np.array(list(counts.values())),
    }
    for model in MODELS:
        for key, value in tensorflow_outputs(args.musicnn, model, patches).items():
            reference[f"{model}/{key}"] = value.astype(np.float32)
    versions = {"tensorflow": tf.__version__, "librosa": librosa.__version__, "numpy": np.__version__}
    reference["versions"] = np.array(json.dumps(versions))
    np.savez_compressed(args.out / "reference.npz", **reference)
    print(f"reference: {len(patches)} patches ({', '.join(dict.fromkeys(sources))}); {versions}")

    licence = (args.musicnn.parent / "musicnn-0.1.0.dist-info" / "LICENSE.md").read_text()
    (args.out / "LICENSE-musicnn.txt").write_text(LICENCE_HEADER + "\n" + licence.strip() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
