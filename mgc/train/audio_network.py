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

from dataclasses import asdict, dataclass
from pathlib import Path

from ..data.gtzan import GTZAN, labels_of
from ..frontends.seed_input import WINDOW_FRAMES
from ..models import family
from .common import (
    audio_counts,
    parameters,
    refuse_unheard_genres,
    seed_everything,
    tracks_with_audio,
    training_precision,
)
from .loop import Job, fit
from .pictures import CropRecipe


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


def train_audio_network(name: str, split: str, config: AudioNetworkTrainConfig | None = None, **job) -> Path:
    """Train the family `name` (whose front end reads audio) on `split`, from the clips that have audio (`CropRecipe`:
    one crop of each train clip an epoch); returns its run folder. `job`: data, epochs, device, out_dir, model_config
    (`mgc.train.loop.Job`; default folder `checkpoints/<name>/<split>`)."""
    job = Job(name, split, **job)
    config = job.config(config or AudioNetworkTrainConfig())
    seed_everything(config.seed)  # before the audio is read, as it always was
    frontend = family(name).frontend
    dataset = GTZAN(job.data)
    parts = dataset.split(split)
    refuse_unheard_genres(dataset, split, parts.train)
    tracks, inputs = {}, {}
    for part in ("train", "valid"):
        found = tracks_with_audio(dataset, frontend, parts.part(part), f"reading audio, {part}")
        tracks[part], inputs[part] = map(list, zip(*found))
    precision = training_precision(config.precision, job.device)
    recipe = CropRecipe(
        name,
        job.model_config,
        frontend,
        (inputs["train"], inputs["valid"]),
        (labels_of(tracks["train"]), labels_of(tracks["valid"])),
        config,
        (config.crop_min_frames, config.crop_max_frames),
        precision,
    )
    print(
        f"training {name} on the {split} split from audio: {len(tracks['train'])} train / {len(tracks['valid'])} "
        f"valid clips with audio (of {len(parts.train)} / {len(parts.valid)}), "
        f"{parameters(name, job.model_config):,} parameters, device {job.device}, {precision}"
    )
    fitted = fit(recipe, job.device)
    return job.save(
        name,
        fitted,
        asdict(config),
        device=job.device,
        precision=precision,
        train_seconds=fitted.seconds,
        train_tracks=len(tracks["train"]),
        valid_tracks=len(tracks["valid"]),
        **audio_counts(dataset, parts),
    )
