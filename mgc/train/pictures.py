"""Training a picture model (crnn, cnn, lstm) on one split: Adam, cross-entropy, augmentation, early stopping.

Reads top to bottom: load pictures → build model → epochs of (augmented random crops → step) with
track-level validation → keep the best weights by validation → save checkpoint and history.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.gtzan import GTZAN, labels_of
from ..frontends.picture import PICTURE, WINDOW_COLUMNS
from ..models import build_model
from ..runs.checkpoints import TRAINING_FILE, load_model, read_json
from .common import (
    RunningScores,
    native_bf16,
    parameters,
    seed_everything,
    training_precision,
    validate_per_track,
    validation_scores,
)
from .loop import Job, Recipe, fit
from .picture_conditions import ConditionRecipe, apply_condition, degraded_pictures, random_condition


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
    listening: float = 0.0  # share of clean examples put through a picture-domain listening condition (0: none)
    degraded_renders: int = 0  # per training track with audio: pictures of its audio through random listening chains
    degraded_share: float = 0.5  # how often such a track is seen through one of them instead of its clean picture
    start_from: str | None = None  # the folder of a trained run of the same family to fine-tune (None: from scratch)
    seed: int = 0

    @property
    def recipe(self) -> str:
        """`robust` when examples go through listening conditions (`mgc.train.picture_conditions`), else `clean`."""
        return "robust" if self.listening > 0 or self.degraded_renders > 0 else "clean"


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


def train_step(
    model: nn.Module,
    optimiser: torch.optim.Optimizer,
    loss_fn: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    precision: str,
    mixup: tuple[float, torch.Tensor] | None = None,
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


def robust_fine_tuning(start_from: Path) -> TrainConfig:
    """The robust recipe's second stage: 20 epochs at a tenth of the learning rate from the clean run in
    `start_from`, 80 % of the examples through picture-domain listening conditions and, where the train part
    has audio, pictures of truly degraded audio half the time. Measured on the random split's CRNN
    (docs/real-world.md): clean test accuracy 79.0 → 77.5 %, the phone speaker 39 → 70 %, the classroom chain
    18 → 36 % on the 33 test clips with audio; trained from scratch with the same conditions for 60 epochs instead,
    it fell to 70.5 % clean."""
    return TrainConfig(epochs=20, lr=3e-4, listening=0.8, degraded_renders=4, patience=100, start_from=str(start_from))


def training_example(
    picture: np.ndarray, renders: list[np.ndarray], config: TrainConfig, rng: np.random.Generator
) -> np.ndarray:
    """What the model is shown of one training track this time: one of its degraded-audio renders, or its
    clean picture, put through a random picture-domain listening condition with probability `listening`."""
    if renders and rng.random() < config.degraded_share:
        return renders[int(rng.integers(len(renders)))]
    condition = random_condition(ConditionRecipe(probability=config.listening), rng) if config.listening > 0 else None
    return picture if condition is None else apply_condition(picture, condition).numpy()


def random_crops(
    pictures: list[np.ndarray], labels: np.ndarray, width: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """One crop of each (bands, columns or frames) input, all `width` wide (at most the narrowest input), each from
    a random start — for the picture models and the networks trained from audio (`mgc.train.audio_network`)."""
    width = min(width, min(picture.shape[1] for picture in pictures))
    crops = []
    for picture in pictures:
        start = rng.integers(0, max(1, picture.shape[1] - width + 1))
        crops.append(picture[:, start : start + width])
    return torch.from_numpy(np.stack(crops)), torch.from_numpy(labels)


class CropRecipe(Recipe):
    """Whole-track inputs (bands × columns or frames) seen as random crops, for the picture models and the networks
    from audio: each epoch, `crops_per_track` random orders of the train tracks in batches of `config.batch_size`,
    each batch cropped (`random_crops`) to one random width in `crop`, from what `example` shows of each track,
    `augment`ed and perhaps mixed up (`mixup`), through `train_step` in `precision`; validated per track through
    `frontend` as `evaluate` reads tracks (`validate_per_track`, in bf16 with `validate_bf16`); Adam (`config.lr`,
    `config.weight_decay`) with a cosine schedule over `config.epochs`. This base shows each track's input as it is,
    once per epoch, unaugmented; `PictureRecipe` adds the picture models' augmentation, mixup and conditions."""

    report = True
    crops_per_track = 1

    def __init__(self, family, model_config, frontend, inputs, labels, config, crop, precision, validate_bf16=False):
        self.family, self.model_config, self.frontend, self.config = family, model_config, frontend, config
        (self.train_inputs, self.valid_inputs), (self.train_labels, self.valid_labels) = inputs, labels
        self.crop, self.precision, self.validate_bf16 = crop, precision, validate_bf16
        self.epochs, self.patience = config.epochs, config.patience
        self.loss_fn = nn.CrossEntropyLoss()
        self.rng = np.random.default_rng(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)

    def build(self) -> nn.Module:
        model = build_model(self.family, self.model_config)
        model.normalise.fit(self.train_inputs)
        return model

    def optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=self.config.lr, weight_decay=self.config.weight_decay)

    def scheduler(self, optimiser: torch.optim.Optimizer):
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=self.config.epochs)

    def example(self, i: int) -> np.ndarray:
        """What the model is shown of train track `i` this time."""
        return self.train_inputs[i]

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def mixup(self, y: torch.Tensor) -> tuple[float, torch.Tensor] | None:
        """(λ, permutation) to mix the batch with (`train_step`), or None."""
        return None

    def train_epoch(self, model: nn.Module, optimiser: torch.optim.Optimizer, epoch: int) -> tuple[float, float]:
        device, rng = next(model.parameters()).device, self.rng
        order = np.concatenate([rng.permutation(len(self.train_inputs)) for _ in range(self.crops_per_track)])
        batches = [order[i : i + self.config.batch_size] for i in range(0, len(order), self.config.batch_size)]
        scores = RunningScores()
        bar = tqdm(batches, desc=f"epoch {epoch}/{self.epochs}", unit="batch", leave=False)
        for batch in bar:
            width = int(rng.integers(self.crop[0], self.crop[1] + 1))
            x, y = random_crops([self.example(i) for i in batch], self.train_labels[batch], width, rng)
            x, y = self.augment(x).to(device), y.to(device)
            logits, loss = train_step(model, optimiser, self.loss_fn, x, y, self.precision, self.mixup(y))
            scores.add(logits, y, loss)
            bar.set_postfix(scores.postfix())
        return scores.loss, scores.accuracy

    def validate(self, model: nn.Module, device: str) -> dict[str, float]:
        probabilities = validate_per_track(model, self.frontend, self.valid_inputs, device, bf16=self.validate_bf16)
        return validation_scores(probabilities, self.valid_labels)


class PictureRecipe(CropRecipe):
    """The picture models' crops (`TrainConfig`): `crops_per_track` a track per epoch, each shown as
    `training_example` draws it (its degraded-audio `renders`, picture-domain listening conditions), augmented
    (`augment`) and mixed up; a fine-tuning (`config.start_from`) starts from that run's weights."""

    def __init__(self, family, model_config, inputs, labels, renders, config: TrainConfig, precision: str):
        crop = (config.crop_min_columns, config.crop_max_columns)
        validate_bf16 = precision == "bf16" and native_bf16("cpu")
        super().__init__(family, model_config, PICTURE, inputs, labels, config, crop, precision, validate_bf16)
        self.renders, self.crops_per_track = renders, config.crops_per_track

    def build(self) -> nn.Module:
        if not self.config.start_from:
            return super().build()
        # Fine-tuning: its weights and its input normalisation, as they were trained.
        model, start = build_model(self.family, self.model_config), Path(self.config.start_from)
        model.load_state_dict(load_model(start.parent.name, start.name, root=start.parent.parent)[0].state_dict())
        return model

    def example(self, i: int) -> np.ndarray:
        return training_example(self.train_inputs[i], self.renders[i], self.config, self.rng)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        return augment(x, self.config, self.generator)

    def mixup(self, y: torch.Tensor) -> tuple[float, torch.Tensor] | None:
        if self.config.mixup_alpha <= 0:
            return None
        lam = float(self.rng.beta(self.config.mixup_alpha, self.config.mixup_alpha))
        return lam, torch.randperm(len(y), generator=self.generator).to(y.device)


def train_picture_model(family: str, split: str, config: TrainConfig | None = None, **job) -> Path:
    """Train the picture model `family` (crnn, cnn, lstm) on `split`; returns the run folder it wrote. `job`: data,
    epochs, device, out_dir, model_config (`mgc.train.loop.Job`; default folder `checkpoints/<family>/<split>`)."""
    job = Job(family, split, **job)
    config = job.config(config or TrainConfig())
    seed_everything(config.seed)  # before the pictures are read, as it always was
    dataset = GTZAN(job.data)
    parts = dataset.split(split)
    pictures = PICTURE.from_dataset(dataset, parts.train + parts.valid)
    train_tracks = [t for t in parts.train if t in pictures]
    valid_tracks = [t for t in parts.valid if t in pictures]
    degraded = degraded_pictures(dataset, train_tracks, config.degraded_renders, config.seed)
    precision = training_precision(config.precision, job.device)
    recipe = PictureRecipe(
        family,
        job.model_config,
        ([pictures[t] for t in train_tracks], [pictures[t] for t in valid_tracks]),
        (labels_of(train_tracks), labels_of(valid_tracks)),
        [degraded.get(t, []) for t in train_tracks],
        config,
        precision,
    )
    started_from = fine_tuned_from(config.start_from) if config.start_from else {}
    run_facts = {
        "device": job.device,
        "precision": precision,
        "recipe": f"{config.recipe}: fine-tuned from a {started_from['recipe']} run" if started_from else config.recipe,
        "degraded_render_tracks": len(degraded),
        "fine_tuned_from": started_from or None,
    }
    print(
        f"training {family} on the {split} split: {len(train_tracks)} train / {len(valid_tracks)} valid tracks, "
        f"{parameters(family, job.model_config):,} parameters, device {job.device}, {precision}, {config.recipe} "
        f"recipe ({len(degraded)} tracks with degraded-audio renders)"
    )
    fitted = fit(recipe, job.device)
    seconds = fitted.seconds + (started_from.get("train_seconds") or 0.0)  # both stages
    train_valid = {"train_tracks": len(train_tracks), "valid_tracks": len(valid_tracks)}
    return job.save(family, fitted, asdict(config), **run_facts, train_seconds=seconds, **train_valid)


def fine_tuned_from(start_from: str) -> dict:
    """What training.json says of the run a fine-tuning starts from: its epochs, best epoch and validation, recipe
    and training seconds."""
    record = read_json(Path(start_from) / TRAINING_FILE)
    started_from = {key: record.get(key) for key in ("epochs_run", "best_epoch", "best_valid_accuracy")}
    started_from["recipe"] = record.get("recipe", "clean")  # runs from before the recipes were recorded: clean
    started_from["train_seconds"] = record.get("train_seconds", 0.0)
    return started_from
