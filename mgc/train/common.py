"""What the trainers share besides the loop (`mgc.train.loop`): the run files, an epoch's and a validation's scores,
seeds, the arithmetic of a training step, and the refusal of a split whose train clips with audio miss a genre."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.gtzan import GENRES, genre_of
from ..errors import DatasetError
from ..models import build_model, parameter_count
from ..runs.checkpoints import HISTORY_FILE, MODEL_FILE, TRAINING_FILE, save_model, write_json
from ..runs.outputs import track_outputs


def save_run(
    out_dir: Path,
    name: str,
    family: str,
    model: nn.Module,
    split: str,
    history: list[dict],
    train_config: dict,
    **record,
) -> None:
    """Write a trained run: model.pt (weights, config, best epoch), history.csv (a row per epoch), training.json.

    `history` rows have at least epoch, train_loss, train_accuracy, valid_loss, valid_accuracy;
    the best epoch is the one with the best validation accuracy (then loss), whose weights `model` holds.
    `record` adds run facts (device, train_seconds, train_tracks, …) to training.json.
    """
    best = max(history, key=lambda r: (r["valid_accuracy"], -r["valid_loss"]))
    save_model(out_dir / MODEL_FILE, family, model, split, {"train_config": train_config, "best_epoch": best["epoch"]})
    with open(out_dir / HISTORY_FILE, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    if "train_seconds" in record:
        record["train_seconds"] = round(record["train_seconds"], 1)
    write_json(
        out_dir / TRAINING_FILE,
        {
            "model": name,
            "family": family,
            "split": split,
            "threads": torch.get_num_threads(),
            **record,
            "epochs_run": len(history),
            "best_epoch": best["epoch"],
            "best_valid_accuracy": best["valid_accuracy"],
            "best_valid_loss": best["valid_loss"],
            "parameters": parameter_count(model),
            "train_config": train_config,
            "model_config": json.loads(json.dumps(model.config.__dict__)),
        },
    )
    seconds = record.get("train_seconds", 0)
    took = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
    print(
        f"{name} on the {split} split: trained in {took}; best epoch "
        f"{best['epoch']} (valid accuracy {best['valid_accuracy']:.3f}); wrote {out_dir}"
    )


class RunningScores:
    """An epoch's training loss and accuracy as its batches go by: the means over the examples seen so far."""

    def __init__(self):
        self.seen, self.loss_sum, self.correct = 0, 0.0, 0

    def add(self, logits: torch.Tensor, labels: torch.Tensor, loss: torch.Tensor) -> None:
        """One batch: its logits, true labels and mean loss."""
        self.seen += len(labels)
        self.loss_sum += loss.item() * len(labels)
        self.correct += (logits.argmax(1) == labels).sum().item()

    @property
    def loss(self) -> float:
        return self.loss_sum / self.seen

    @property
    def accuracy(self) -> float:
        return self.correct / self.seen

    def postfix(self) -> dict[str, str]:
        """For the epoch's progress bar."""
        return {"loss": f"{self.loss:.3f}", "acc": f"{self.accuracy:.3f}"}


def validate_per_track(model: nn.Module, frontend, inputs: list, device: str, bf16: bool = False) -> np.ndarray:
    """The valid tracks' probabilities (tracks, classes) as `evaluate` reads tracks (the mean over each one's
    windows), computed on the CPU (under a bf16 autocast with `bf16`); the model goes back to `device` after."""
    model.cpu()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        probabilities, _ = track_outputs(model, frontend, inputs)
    model.to(device)
    return probabilities


def track_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log of the probability given to each track's true genre (validation loss)."""
    return float(-np.log(probabilities[np.arange(len(labels)), labels] + 1e-9).mean())


def mean_per_track(probabilities: np.ndarray, track_index: np.ndarray, tracks: int) -> np.ndarray:
    """(tracks, classes): the mean of each track's rows of `probabilities` (its windows or patches; `track_index`
    names each row's track) — a track's answer, as `mgc.runs.outputs` gives it."""
    sums = np.zeros((tracks, probabilities.shape[1]))
    np.add.at(sums, track_index, probabilities)
    return sums / np.bincount(track_index, minlength=tracks)[:, None]


def validation_scores(probabilities: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """An epoch's `valid_loss` (log loss) and `valid_accuracy` from the valid tracks' probabilities."""
    return {
        "valid_loss": track_log_loss(probabilities, labels),
        "valid_accuracy": float((probabilities.argmax(1) == labels).mean()),
    }


def native_bf16(device: str) -> bool:
    """Whether `device` computes bfloat16 natively: a CPU with AMX or AVX-512 BF16 instructions, a CUDA
    GPU that supports it. Elsewhere bfloat16 is emulated and slower than float32."""
    kind = torch.device(device).type
    if kind == "cpu":
        return torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported()
    return kind == "cuda" and torch.cuda.is_bf16_supported()


def training_precision(requested: str, device: str) -> str:
    """The arithmetic of the training steps: "bf16" or "fp32" for `requested` ("auto", "bf16" or "fp32").

    "auto" is bf16 mixed precision (`torch.autocast`: convolutions and recurrent layers in bfloat16,
    weights, batch-norm statistics and the loss in float32) where the device computes bfloat16 natively
    (`native_bf16`), fp32 elsewhere. On the 2 AMX cores this project trains on, a CNN step takes ~2.5×
    less time, a CRNN step ~1.9×, an LSTM step ~3.6× (`python -m mgc bench --parts training`).
    The per-epoch validation (on the CPU) runs in bf16 too when the steps do and the CPU computes it
    natively (the CNN's ~2× quicker, the CRNN's and LSTM's a little); on the shipped runs' valid tracks
    its probabilities are within 0.005 of float32's and 1 of 891 answers differs (docs/models.md, "Training a
    picture model": measured at commit d35658b). `evaluate`, the test figures and serving compute in float32.
    """
    if requested in ("bf16", "fp32"):
        return requested
    if requested != "auto":
        raise ValueError(f"unknown precision {requested!r}; use auto, bf16 or fp32")
    return "bf16" if native_bf16(device) else "fp32"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def tracks_with_audio(dataset, frontend, tracks, desc: str):
    """(track, input) for each of `tracks` whose audio is in the data folder and decodes, drawn by `frontend` as it
    is reached (a tqdm bar `desc`); DatasetError when none has. For the trainers that learn from audio."""
    from tqdm.auto import tqdm

    tracks = list(tracks)
    found = 0
    for track in tqdm(tracks, desc=desc, unit="clip"):
        drawn = frontend.from_dataset(dataset, [track])
        if track in drawn:
            found += 1
            yield track, drawn[track]
    if not found:
        raise DatasetError(f"none of the {len(tracks)} tracks ({desc}) has audio that decodes in {dataset.root}")


def refuse_unheard_genres(dataset, split: str, train_tracks) -> None:
    """DatasetError when the split's train tracks that have audio in `dataset` miss a genre: a model trained
    from audio cannot learn genres it never hears (here the fault-filtered split's: no blues, classical or jazz)."""
    heard = {genre_of(t) for t in train_tracks if t in dataset.audio}
    unseen = [genre for genre in GENRES if genre not in heard]
    if unseen:
        raise DatasetError(
            f"the {split} split's train part has no clip with audio of {', '.join(unseen)} in {dataset.root}: a "
            "model cannot learn genres it never hears. Kaggle's full download (the audio of all 1000 clips) has "
            "them all; with only some of the audio, train on a split whose train part covers every genre"
        )


def parameters(family: str, model_config: dict | None = None) -> int:
    """The parameters of a model of `family` as configured, for a trainer's opening line; counted on a throwaway
    model built without drawing from torch's generator (the model trained must be initialised as if it were not)."""
    with torch.random.fork_rng(devices=[]):
        return parameter_count(build_model(family, model_config))


def audio_counts(dataset, parts) -> dict[str, dict[str, int]]:
    """What training.json of a trainer from audio counts: the clips of each part of the split (`parts`) that have
    audio in `dataset`, and the clips of each part."""
    names = ("train", "valid", "test")
    return {
        "clips_with_audio": {part: sum(t in dataset.audio for t in parts.part(part)) for part in names},
        "clips_in_split": {part: len(parts.part(part)) for part in names},
    }
