"""Training a picture model on one split: Adam, cross-entropy, augmentation, early stopping.

Reads top to bottom: load pictures → build model → epochs of (augmented random crops → step) with
track-level validation → keep the best weights by validation → save checkpoint and history.
"""
from __future__ import annotations

import csv
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .checkpoints import run_dir, save_model, write_json
from .dataset import GTZAN, labels_of
from .inference import WINDOW_COLUMNS, WINDOW_HOP, track_outputs
from .models import build_model, parameter_count
from .representation import track_pictures


@dataclass
class TrainConfig:
    """Defaults after Choi et al. 2016 (Adam, lr 1e-3, batch 32) plus what fits ~700 tracks.

    The learning rate follows a cosine from `lr` down to zero over `epochs` (Loshchilov & Hutter 2017),
    so a run of a fixed length ends in its low-rate phase; the weights kept are still those of the best
    validation epoch.
    """

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    crop_min_columns: int = 34  # ≈ 3 s: short microphone excerpts must work too
    crop_max_columns: int = WINDOW_COLUMNS  # ≈ 10 s
    crops_per_track: int = 2  # random crops of each training track per epoch
    freq_masks: int = 2  # SpecAugment-style masks (Park et al. 2019)
    freq_mask_bands: int = 12
    time_masks: int = 2
    time_mask_fraction: float = 0.1
    level_shift: int = 8  # ± colour indices (≈ ± 2.5 dB)
    mixup_alpha: float = 0.2  # 0 turns mixup off
    patience: int = 20  # epochs without validation improvement before stopping
    precision: str = "auto"  # of the training steps and validation: auto | bf16 | fp32 (see `training_precision`)
    seed: int = 0


def save_run(out_dir: Path, name: str, family: str, model: nn.Module, split: str, history: list[dict],
             train_config: dict, **record) -> None:
    """Write a trained run: model.pt (weights, config, best epoch), history.csv (a row per epoch), training.json.

    `history` rows have at least epoch, train_loss, train_accuracy, valid_loss, valid_accuracy;
    the best epoch is the one with the best validation accuracy (then loss), whose weights `model` holds.
    `record` adds run facts (device, train_seconds, train_tracks, …) to training.json.
    """
    best = max(history, key=lambda r: (r["valid_accuracy"], -r["valid_loss"]))
    save_model(out_dir / "model.pt", family, model, split, {"train_config": train_config, "best_epoch": best["epoch"]})
    with open(out_dir / "history.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    if "train_seconds" in record:
        record["train_seconds"] = round(record["train_seconds"], 1)
    write_json(out_dir / "training.json", {
        "model": name, "family": family, "split": split, "threads": torch.get_num_threads(), **record,
        "epochs_run": len(history), "best_epoch": best["epoch"], "best_valid_accuracy": best["valid_accuracy"],
        "best_valid_loss": best["valid_loss"], "parameters": parameter_count(model), "train_config": train_config,
        "model_config": json.loads(json.dumps(model.config.__dict__)),
    })
    seconds = record.get("train_seconds", 0)
    took = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
    print(f"{name} on the {split} split: trained in {took}; best epoch "
          f"{best['epoch']} (valid accuracy {best['valid_accuracy']:.3f}); wrote {out_dir}")


class BestEpoch:
    """Early stopping for every trainer: keeps a copy of the weights of the best validation epoch (by
    accuracy, then loss) and counts the epochs since; `stop` once `patience` epochs brought nothing."""

    def __init__(self, patience: int):
        self.patience, self.best, self.state, self.stale = patience, None, None, 0

    def update(self, model: nn.Module, valid_accuracy: float, valid_loss: float) -> bool:
        """Record an epoch's validation; True when it is the best so far (its weights are then kept)."""
        if self.best is None or (valid_accuracy, -valid_loss) > self.best:
            self.best, self.stale = (valid_accuracy, -valid_loss), 0
            self.state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            return True
        self.stale += 1
        return False

    @property
    def stop(self) -> bool:
        return self.stale >= self.patience

    def restore(self, model: nn.Module) -> nn.Module:
        """`model` with the best epoch's weights, on the CPU, in eval mode."""
        model.load_state_dict(self.state)
        return model.cpu().eval()


def minibatch_epoch(logits_of, labels: torch.Tensor, optimiser: torch.optim.Optimizer, loss_fn: nn.Module,
                    batch_size: int, generator: torch.Generator) -> tuple[float, float]:
    """One epoch of the feature and hybrid trainers: the rows in a random order (from `generator`), in
    mini-batches of `batch_size`; `logits_of(batch)` gives the model's logits for those row indices.
    Returns the epoch's mean training loss and accuracy. The model must be in train mode."""
    loss_sum, correct = 0.0, 0
    for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
        batch = batch.to(labels.device)
        logits = logits_of(batch)
        loss = loss_fn(logits, labels[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        loss_sum += loss.item() * len(batch)
        correct += (logits.argmax(1) == labels[batch]).sum().item()
    return loss_sum / len(labels), correct / len(labels)


def track_log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log of the probability given to each track's true genre (validation loss)."""
    return float(-np.log(probabilities[np.arange(len(labels)), labels] + 1e-9).mean())


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
    its probabilities are within 0.005 of float32's and 1 of 891 answers differs (`python
    tools/validation_precision.py`). `evaluate`, the test figures and serving compute in float32.
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


def augment(batch: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Level shift and SpecAugment-style frequency/time masks on a uint8 crop batch → float batch."""
    x = batch.float()
    n, bands, width = x.shape
    shift = torch.randint(-config.level_shift, config.level_shift + 1, (n, 1, 1), generator=generator)
    x = (x + shift).clamp_(0, 255)
    for _ in range(config.freq_masks):
        size = torch.randint(0, config.freq_mask_bands + 1, (n,), generator=generator)
        start = (torch.rand(n, generator=generator) * (bands - size)).long()
        rows = torch.arange(bands)[None, :]
        x[(rows >= start[:, None]) & (rows < (start + size)[:, None])] = 0
    for _ in range(config.time_masks):
        size = (torch.rand(n, generator=generator) * config.time_mask_fraction * width).long()
        start = (torch.rand(n, generator=generator) * (width - size)).long()
        cols = torch.arange(width)[None, :]
        mask = (cols >= start[:, None]) & (cols < (start + size)[:, None])
        x.permute(0, 2, 1)[mask] = 0
    return x


def train_step(model: nn.Module, optimiser: torch.optim.Optimizer, loss_fn: nn.Module, x: torch.Tensor,
               y: torch.Tensor, precision: str, mixup: tuple[float, torch.Tensor] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step of a picture model on a batch of (augmented) crops `x` with genres `y`, in
    `precision` ("bf16": under `torch.autocast`; "fp32"). With `mixup` = (λ, permutation) the batch is
    mixed with its permutation and the loss weighted alike (Zhang et al. 2018). Returns the float32
    logits and the loss."""
    if mixup is not None:
        lam, perm = mixup
        x = lam * x + (1 - lam) * x[perm]
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
        logits = model(x)["logits"].float()
    loss = loss_fn(logits, y) if mixup is None else lam * loss_fn(logits, y) + (1 - lam) * loss_fn(logits, y[perm])
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    return logits, loss


def random_crops(pictures: list[np.ndarray], labels: np.ndarray, width: int,
                 rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    width = min(width, min(picture.shape[1] for picture in pictures))
    crops = []
    for picture in pictures:
        start = rng.integers(0, max(1, picture.shape[1] - width + 1))
        crops.append(picture[:, start : start + width])
    return torch.from_numpy(np.stack(crops)), torch.from_numpy(labels)


def train(family: str, split: str, data: str | Path | None = None, epochs: int | None = None,
          device: str = "cpu", out_dir: Path | None = None, config: TrainConfig | None = None,
          model_config: dict | None = None) -> Path:
    """Train `family` on `split` of the GTZAN folder `data`; returns the run folder it wrote.

    The feature models (`mlp`, its variants `mlp-256` …, `logreg`) are trained by
    `mgc.tabular_training.train_tabular`, with their own recipes, the `hybrid` by
    `mgc.hybrid_training.train_hybrid` (it reads a trained picture run), and ensembles (`ensemble-sum` …)
    are chosen by `mgc.ensembles.build_ensemble`; `config` and `model_config` are for the picture models.
    """
    from .ensembles import ENSEMBLES, build_ensemble
    from .tabular_training import TABULAR_RUNS, train_tabular

    if family in ENSEMBLES:
        return build_ensemble(family, split, data=data, out_dir=out_dir)
    if family in TABULAR_RUNS:
        if config is not None or model_config is not None:
            raise ValueError(f"config and model_config are for picture models; {family!r} trains with "
                             "mgc.tabular_training's recipes (call train_tabular to change them)")
        return train_tabular(family, split, data=data, epochs=epochs, device=device, out_dir=out_dir)
    if family == "hybrid":
        from .hybrid_training import train_hybrid

        if config is not None or model_config is not None:
            raise ValueError("config and model_config are for picture models; the hybrid trains with "
                             "mgc.hybrid_training's recipe (call train_hybrid to change it)")
        return train_hybrid(split, data=data, epochs=epochs, device=device, out_dir=out_dir)
    config = config or TrainConfig()
    if epochs is not None:
        config.epochs = epochs
    seed_everything(config.seed)
    dataset = GTZAN(data)
    parts = dataset.split(split)
    pictures = track_pictures(dataset.root, parts.train + parts.valid)
    train_tracks = [t for t in parts.train if t in pictures]
    valid_tracks = [t for t in parts.valid if t in pictures]
    train_pictures = [pictures[t] for t in train_tracks]
    valid_pictures = [pictures[t] for t in valid_tracks]
    train_labels, valid_labels = labels_of(train_tracks), labels_of(valid_tracks)

    model = build_model(family, model_config)
    model.normalise.fit(train_pictures)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    loss_fn = nn.CrossEntropyLoss()
    precision = training_precision(config.precision, device)
    validate_in_bf16 = precision == "bf16" and native_bf16("cpu")
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    out_dir = Path(out_dir or run_dir(family, split))
    out_dir.mkdir(parents=True, exist_ok=True)

    history, best = [], BestEpoch(config.patience)
    started = time.perf_counter()
    print(f"training {family} on the {split} split: {len(train_tracks)} train / {len(valid_tracks)} valid tracks, "
          f"{parameter_count(model):,} parameters, device {device}, {precision}")
    for epoch in range(1, config.epochs + 1):
        model.train()
        lr = optimiser.param_groups[0]["lr"]  # this epoch's rate (the schedule steps at its end)
        order = np.concatenate([rng.permutation(len(train_tracks)) for _ in range(config.crops_per_track)])
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        seen, loss_sum, correct = 0, 0.0, 0
        bar = tqdm(batches, desc=f"epoch {epoch}/{config.epochs}", unit="batch", leave=False)
        for batch in bar:
            width = int(rng.integers(config.crop_min_columns, config.crop_max_columns + 1))
            x, y = random_crops([train_pictures[i] for i in batch], train_labels[batch], width, rng)
            x = augment(x, config, generator).to(device)
            y = y.to(device)
            mixup = None
            if config.mixup_alpha > 0:
                mixup = (float(rng.beta(config.mixup_alpha, config.mixup_alpha)),
                         torch.randperm(len(y), generator=generator).to(device))
            logits, loss = train_step(model, optimiser, loss_fn, x, y, precision, mixup)
            seen += len(y)
            loss_sum += loss.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        model.cpu()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=validate_in_bf16):
            probabilities, _ = track_outputs(model, valid_pictures, WINDOW_COLUMNS, WINDOW_HOP)
        model.to(device)
        valid_loss = track_log_loss(probabilities, valid_labels)
        valid_acc = float((probabilities.argmax(1) == valid_labels).mean())
        scheduler.step()
        row = {"epoch": epoch, "train_loss": loss_sum / seen, "train_accuracy": correct / seen,
               "valid_loss": valid_loss, "valid_accuracy": valid_acc, "lr": lr,
               "seconds": time.perf_counter() - started}
        history.append(row)
        improved = best.update(model, valid_acc, valid_loss)
        tqdm.write(f"epoch {epoch:3d}  train loss {row['train_loss']:.3f} acc {row['train_accuracy']:.3f}  "
                   f"valid loss {valid_loss:.3f} acc {valid_acc:.3f}{'  *' if improved else ''}")
        if best.stop:
            tqdm.write(f"no validation improvement for {config.patience} epochs: stopping")
            break
    seconds = time.perf_counter() - started

    model = best.restore(model)
    save_run(out_dir, family, family, model, split, history, asdict(config), device=device, precision=precision,
             train_seconds=seconds, train_tracks=len(train_tracks), valid_tracks=len(valid_tracks))
    return out_dir
