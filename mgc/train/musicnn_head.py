"""Training the musicnn head (`mgc.models.musicnn_head`): musicnn's frozen 200-d embedding → a small genre head.

Reads top to bottom: the split's train and valid tracks that have audio in the data folder (Kaggle's download
ships the audio of few clips; with the full audio, all of them) → musicnn's embedding of every 3-s patch of
each, computed once → for each candidate head (softmax regression with three strengths of weight decay, one
hidden layer of 64 with dropout: a head on a frozen embedding, `mgc.train.heads.HeadRecipe`, as the hybrid's),
Adam on the train patches, validated after every epoch as it is evaluated
(a track's answer is the mean of its patches' probabilities), early-stopped, the best epoch kept → the
candidate with the best validation accuracy (then loss) is saved with the usual run files
(`mgc.train.common.save_run`); training.json lists every candidate and the clips of each part that have audio.
The robust recipe (the default) adds to the train patches those of each train clip's audio through random listening
chains (`MusicnnHeadTrainConfig.degraded_renders`).
The test part is never read (only counted).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from ..conditions import degraded_versions
from ..data.audio import load_audio
from ..data.gtzan import GTZAN, labels_of
from ..frontends import MUSICNN_INPUT
from ..models.musicnn import load_musicnn, weights_file_digest
from ..runs.table import RUNS, Row
from .common import audio_counts, refuse_unheard_genres, tracks_with_audio
from .heads import Candidate, Embedded, HeadRecipe, best_head, train_heads
from .loop import Job


@dataclass
class MusicnnHeadTrainConfig:
    """The candidate heads and their recipe: Adam, batch 64, early stopping on the valid part."""

    musicnn: str = "MSD_musicnn"
    candidates: tuple[tuple[tuple[int, ...], float, float], ...] = (
        ((), 0.0, 1e-3),
        ((), 0.0, 1e-2),
        ((), 0.0, 1e-1),
        ((64,), 0.5, 1e-3),
    )
    """(hidden, dropout, weight_decay) of each candidate: a softmax regression with weak, medium and strong
    weight decay, and one hidden layer of 64 with dropout 0.5."""
    lr: float = 1e-3
    batch_size: int = 64
    epochs: int = 200
    patience: int = 30  # epochs without validation improvement before stopping
    degraded_renders: int = 4
    """Per train clip: its audio through this many random listening chains (`mgc.conditions.degraded_versions`, the
    versions the picture models' renders hear), whose patches join the train patches; the valid part stays clean."""
    seed: int = 0


Patches = Embedded
"""musicnn's embedding of every 3-s patch of some tracks (patches, 200), the track each comes from, and the tracks'
genre indices (tracks,)."""


def embedded_patches(
    dataset: GTZAN, tracks, musicnn: str = "MSD_musicnn", desc: str = "", degraded_renders: int = 0, seed: int = 0
) -> tuple[list[str], Patches]:
    """The tracks that have audio, and musicnn's embedding of each of their patches (a tqdm bar per part); with
    `degraded_renders`, also of each patch of that many degraded versions of each track (`degraded_versions`)."""
    network = load_musicnn(musicnn)

    @torch.inference_mode()
    def embed(patches: np.ndarray) -> np.ndarray:
        return torch.cat([network(*batch)["embedding"] for batch in MUSICNN_INPUT.batches(patches)]).numpy()

    found, embeddings, track_index = [], [], []
    for track, patches in tracks_with_audio(dataset, MUSICNN_INPUT, tracks, desc or "musicnn embeddings"):
        pieces = [embed(patches)]
        if degraded_renders:
            audio = load_audio(dataset.audio[track])
            for samples in degraded_versions(audio.samples, track, degraded_renders, seed):
                pieces.append(embed(MUSICNN_INPUT.from_audio(replace(audio, samples=samples))))
        patch_embeddings = np.concatenate(pieces)
        embeddings.append(patch_embeddings)
        track_index.append(np.full(len(patch_embeddings), len(found)))
        found.append(track)
    return found, Embedded(np.concatenate(embeddings), np.concatenate(track_index), labels_of(found))


HEAD: Row = next(r for r in RUNS if r.frontend is MUSICNN_INPUT)
"""The musicnn head's row of `mgc.runs.table`: the run that reads musicnn's input patches."""


def train_musicnn_head(split: str, config: MusicnnHeadTrainConfig | None = None, **job) -> Path:
    """Train the musicnn head on `split`, from the clips that have audio; returns its run folder. `job`: data, epochs,
    out_dir (`mgc.train.loop.Job`; default folder `checkpoints/musicnn/<split>`). The head is tiny: it trains on the
    CPU whatever `device`."""
    job = Job(HEAD.name, split, **job)
    config = job.config(config or MusicnnHeadTrainConfig())
    dataset = GTZAN(job.data)
    parts = dataset.split(split)
    print(
        f"training the musicnn head on the {split} split: {len(parts.train)} train / {len(parts.valid)} valid "
        f"tracks, of which {sum(t in dataset.audio for t in parts.train)} / "
        f"{sum(t in dataset.audio for t in parts.valid)} have audio"
    )

    refuse_unheard_genres(dataset, split, parts.train)

    started = time.perf_counter()
    tracks, patches = {}, {}
    for part in ("train", "valid"):
        tracks[part], patches[part] = embedded_patches(
            dataset,
            parts.part(part),
            config.musicnn,
            desc=f"musicnn embeddings, {part}"
            + (f" (and {config.degraded_renders} degraded versions)" * (part == "train")),
            degraded_renders=config.degraded_renders if part == "train" else 0,
            seed=config.seed,
        )
    embedding_seconds = time.perf_counter() - started

    candidates = train_heads(
        Candidate(
            HeadRecipe(
                HEAD.family,
                dict(  # the config's fields by keyword: the pretrained network's weights, their digest, the head
                    musicnn=config.musicnn,
                    musicnn_digest=weights_file_digest(config.musicnn),
                    embedding_size=patches["train"].embeddings.shape[1],
                    hidden=hidden,
                    dropout=dropout,
                ),
                patches["train"],
                patches["valid"],
                config,
                weight_decay,
            ),
            {"hidden": list(hidden), "dropout": dropout, "weight_decay": weight_decay},
            f"hidden {list(hidden)}, dropout {dropout}, weight decay {weight_decay}",
        )
        for hidden, dropout, weight_decay in config.candidates
    )
    chosen = best_head(candidates)
    seconds = time.perf_counter() - started
    return job.save(
        HEAD.family,
        chosen.fitted,
        {**asdict(config), "chosen": {k: chosen.facts[k] for k in ("hidden", "dropout", "weight_decay")}},
        device="cpu",
        recipe="robust" if config.degraded_renders else "clean",
        train_seconds=seconds,
        embedding_seconds=round(embedding_seconds, 1),
        musicnn_weights=f"{config.musicnn} of musicnn 0.1.0 (Pons & Serra 2019), mgc/models/musicnn_weights",
        train_tracks=len(tracks["train"]),
        valid_tracks=len(tracks["valid"]),
        **audio_counts(dataset, parts),
        train_patches=len(patches["train"].embeddings),
        candidates=[c.listed for c in candidates],
    )
