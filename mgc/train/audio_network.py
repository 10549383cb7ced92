"""Training a whole network from audio (`crnn-seed`: the CRNN on the seeds' 12-kHz, 96-band log-mel).

Reads top to bottom: the split's train and valid tracks that have audio in the data folder (Kaggle's download ships
the audio of few clips; with the full audio, all of them) → the family's front end draws each track's input once →
the network's per-band normalisation fitted on the train inputs → epochs of random crops (≈ 10 to 29 s, one per
train track) through Adam with a cosine learning rate, each epoch validated as it is evaluated (a track's answer
is the mean over its windows), early-stopped, the best epoch kept → saved with the usual run files
(`mgc.train.common.save_run`); training.json counts the clips of each part that have audio. The test part is
never read (only counted).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..data.gtzan import GTZAN, labels_of
from ..frontends.seed_input import WINDOW_FRAMES
from ..models import build_model, family, parameter_count
from ..runs.checkpoints import run_dir
from .common import (
    BestEpoch,
    RunningScores,
    refuse_unheard_genres,
    save_run,
    seed_everything,
    track_epoch_row,
    tracks_with_audio,
    training_precision,
    validate_per_track,
)
from .pictures import random_crops, train_step


@dataclass
class AudioNetworkTrainConfig:
    """Adam (lr 1e-3) as the picture models, in batches of 8 and fewer epochs: ~100 clips with audio train in
    minutes."""

    epochs: int = 60
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 1e-4
    crop_min_frames: int = 469  # ≈ 10 s at the seed front end's 21.3 ms a frame
    crop_max_frames: int = WINDOW_FRAMES  # ≈ 29 s: the window the front end reads
    patience: int = 20  # epochs without validation improvement before stopping
    precision: str = "auto"  # of the training steps: auto | bf16 | fp32 (see `training_precision`)
    seed: int = 0


def train_audio_network(
    name: str,
    split: str,
    data: str | Path | None = None,
    epochs: int | None = None,
    device: str = "cpu",
    out_dir: Path | None = None,
    config: AudioNetworkTrainConfig | None = None,
    model_config: dict | None = None,
) -> Path:
    """Train the family `name` (whose front end reads audio) on `split` of the GTZAN folder `data`, from the clips
    that have audio; returns its run folder (default `checkpoints/<name>/<split>`)."""
    config = config or AudioNetworkTrainConfig()
    if epochs is not None:
        config.epochs = epochs
    seed_everything(config.seed)
    frontend = family(name).frontend
    dataset = GTZAN(data)
    parts = dataset.split(split)
    refuse_unheard_genres(dataset, split, parts.train)
    train_tracks, train_inputs = map(
        list, zip(*tracks_with_audio(dataset, frontend, parts.train, "reading audio, train"))
    )
    valid_tracks, valid_inputs = map(
        list, zip(*tracks_with_audio(dataset, frontend, parts.valid, "reading audio, valid"))
    )
    train_labels, valid_labels = labels_of(train_tracks), labels_of(valid_tracks)

    model = build_model(name, model_config)
    model.normalise.fit(train_inputs)
    model.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=config.epochs)
    loss_fn = nn.CrossEntropyLoss()
    precision = training_precision(config.precision, device)
    rng = np.random.default_rng(config.seed)
    out_dir = Path(out_dir or run_dir(name, split))
    out_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"training {name} on the {split} split from audio: {len(train_tracks)} train / {len(valid_tracks)} valid "
        f"clips with audio (of {len(parts.train)} / {len(parts.valid)}), {parameter_count(model):,} parameters, "
        f"device {device}, {precision}"
    )

    history, best = [], BestEpoch(config.patience)
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        model.train()
        lr = optimiser.param_groups[0]["lr"]
        order = rng.permutation(len(train_tracks))
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        scores = RunningScores()
        bar = tqdm(batches, desc=f"epoch {epoch}/{config.epochs}", unit="batch", leave=False)
        for batch in bar:
            width = int(rng.integers(config.crop_min_frames, config.crop_max_frames + 1))
            x, y = random_crops([train_inputs[i] for i in batch], train_labels[batch], width, rng)
            y = y.to(device)
            logits, loss = train_step(model, optimiser, loss_fn, x.to(device), y, precision)
            scores.add(logits, y, loss)
            bar.set_postfix(scores.postfix())
        probabilities = validate_per_track(model, frontend, valid_inputs, device)
        scheduler.step()
        row = track_epoch_row(epoch, scores.loss, scores.accuracy, probabilities, valid_labels, lr)
        if best.end_epoch(model, history, row, started, report=True):
            break

    save_run(
        out_dir,
        name,
        name,
        best.restore(model),
        split,
        history,
        asdict(config),
        device=device,
        precision=precision,
        train_seconds=time.perf_counter() - started,
        train_tracks=len(train_tracks),
        valid_tracks=len(valid_tracks),
        clips_with_audio={
            part: sum(t in dataset.audio for t in parts.part(part)) for part in ("train", "valid", "test")
        },
        clips_in_split={part: len(parts.part(part)) for part in ("train", "valid", "test")},
    )
    return out_dir
