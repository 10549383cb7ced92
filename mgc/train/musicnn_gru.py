"""Training the CNN + GRU with pretrained ears (`mgc.models.musicnn_gru`): a GRU over musicnn's frozen patch embeddings.

Reads top to bottom: the split's train and valid tracks that have audio in the data folder (all of them with Kaggle's
full download) → for each, musicnn's pass over the clean clip and over degraded versions of it (`renders`: a train
clip through `random_renders` random listening chains and `recording_renders` random recordings in a room, then the
`extra_renders` groups (`EXTRA_RENDERS`: a second draw of both kinds, classroom-like chains), all with the sounds
folder's training rooms and noise beds; a valid clip through `valid_renders` recordings of other seeds), the
embeddings of every 3-s patch cached once per recipe and group in `$MGC_CACHE` (musicnn is ~all of the cost) → for each
candidate GRU, the one training loop (`mgc.train.loop.fit`) over `SequenceRecipe`: Adam on batches of random
stretches (1 to all patches, so a 3-s recording is as familiar as a 30-s clip) of the train sequences, every patch
labelled with its track's genre, validated as a track is answered (the mean of its patches' probabilities) on the
valid sequences, clean and recorded; early-stopped, the best epoch kept → the best candidate on validation saved
with the usual run files (`mgc.train.common.save_run`). The test part is never read (only counted); the benchmark's
held-out rooms and beds (`mgc.conditions.HELD_OUT_SOURCES`) and its fixed noise seeds are never heard.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..conditions import CHAINS, degraded_versions, real_sounds
from ..data.audio import load_audio
from ..data.gtzan import GTZAN, genre_of, labels_of
from ..errors import AudioError, DatasetError
from ..frontends.musicnn_input import PATCH_SECONDS
from ..frontends.picture import _folder_key, default_cache_dir
from ..models import build_model
from ..models.musicnn import weights_file_digest
from ..models.musicnn_pass import MUSICNN_PASS, PASS_MODEL
from ..runs.table import row
from .common import RunningScores, refuse_unheard_genres, save_run, validation_scores
from .loop import Job, Recipe, fit

RENDERS_VERSION = "gru-renders-v1"
"""Changes when the chains (`mgc.conditions.random_chain`, `recording_chain`) change, so cached passes are redone."""

EXTRA_RENDERS = {"second_draw": 4, "classroom_like": 13}
"""The extra render groups a train clip can have (`MusicnnGRUTrainConfig.extra_renders`), each cached in its own file,
with its stream of excerpt draws (the numbers are those of the trial that chose them, docs/experiments): "second_draw"
is 1 more random chain and 3 more recordings in a room (chain seeds 1, 103–105 past the recipe's); "classroom_like" is
3 versions through `mgc.conditions.classroom_like_chain`."""


@dataclass
class MusicnnGRUTrainConfig:
    """The renders, the candidate GRUs and their recipe: Adam, batches of 32 stretches, early stopping."""

    random_renders: int = 1
    """Per train clip: versions through random listening chains (`mgc.conditions.random_chain`, as the musicnn head)."""
    recording_renders: int = 3
    """Per train clip: versions recorded in a random room (`mgc.conditions.recording_chain`)."""
    extra_renders: tuple[str, ...] = ("second_draw", "classroom_like")
    """Per train clip: groups of `EXTRA_RENDERS` beside the renders above. Both were chosen on the validation clips
    under every listening condition over 3–5 seeds of the GRU each (docs/experiments: "more renders per clip")."""
    valid_renders: int = 2
    """Per valid clip: recordings in a random room of other seeds, validated beside the clean clip."""
    render_patches: int = 3
    """Each degraded version is of a random stretch of the clip this many patches long (≈ 3 s each), not the whole
    clip: musicnn's pass is ~all of the cost, and the GRU learns from stretches anyway."""
    workers: int = 2
    """Processes computing the passes (one thread each)."""
    real_sounds: bool = True
    """Measured rooms and real noise beds of the sounds folder's training sources in the chains (where it exists)."""
    candidates: tuple[tuple[int, float, float], ...] = ((64, 0.3, 1e-3),)
    """(hidden units per direction, dropout, weight decay) of each candidate GRU; the best on validation is kept. One
    by default: with eight people's work on 2 cores an epoch took ~5 s, and three candidates did not finish in time."""
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 40
    patience: int = 15
    seed: int = 0


@dataclass
class Sequences:
    """Sequences of musicnn patch embeddings (each (patches, 200)) with their genre indices, and the track of each."""

    embeddings: list[np.ndarray]
    labels: np.ndarray
    tracks: list[str]


class SequenceRecipe(Recipe):
    """A GRU over sequences of patch embeddings: each step a batch of random stretches of the train sequences (one
    length per batch, 1 to all patches), every patch's logits against its track's genre; validated per sequence."""

    def __init__(
        self,
        family: str,
        model_config: dict,
        train: Sequences,
        valid: Sequences,
        config: MusicnnGRUTrainConfig,
        weight_decay: float,
    ):
        self.family, self.model_config, self.train, self.valid = family, model_config, train, valid
        self.config, self.weight_decay = config, weight_decay
        self.epochs, self.patience = config.epochs, config.patience
        self.rng = np.random.default_rng(config.seed)
        self.loss_fn = nn.CrossEntropyLoss()

    def build(self) -> nn.Module:
        model = build_model(self.family, self.model_config)
        model.normalise.fit(np.concatenate(self.train.embeddings))
        return model

    def optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(model.parameters(), lr=self.config.lr, weight_decay=self.weight_decay)

    def train_epoch(self, model: nn.Module, optimiser: torch.optim.Optimizer, epoch: int) -> tuple[float, float]:
        scores = RunningScores()
        for chosen in self._batches():
            shortest = min(len(self.train.embeddings[i]) for i in chosen)
            length = int(self.rng.integers(1, shortest + 1))
            stretches = []
            for i in chosen:
                sequence = self.train.embeddings[i]
                start = int(self.rng.integers(0, len(sequence) - length + 1))
                stretches.append(sequence[start : start + length])
            x = torch.from_numpy(np.stack(stretches))
            y = torch.from_numpy(self.train.labels[chosen]).repeat_interleave(length)
            logits = model.sequences(x)["logits"].reshape(-1, model.config.classes)
            loss = self.loss_fn(logits, y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            scores.add(logits, y, loss)
        return scores.loss, scores.accuracy

    def _batches(self) -> list[np.ndarray]:
        """The epoch's batches of train sequences, each of sequences of one length (whole clips, stretches), in a
        random order: a batch is cut to its shortest sequence, so a clip's long stretches are not lost to a render's."""
        lengths = np.array([len(e) for e in self.train.embeddings])
        batches = []
        for length in np.unique(lengths):
            same = self.rng.permutation(np.flatnonzero(lengths == length))
            batches += [same[i : i + self.config.batch_size] for i in range(0, len(same), self.config.batch_size)]
        return [batches[i] for i in self.rng.permutation(len(batches))]

    def validate(self, model: nn.Module, device: str) -> dict[str, float]:
        return validation_scores(sequence_probabilities(model, self.valid), self.valid.labels)


def sequence_probabilities(model: nn.Module, sequences: Sequences) -> np.ndarray:
    """(sequences, classes): each whole sequence through the model, the mean of its patches' probabilities."""
    model.eval()
    with torch.inference_mode():
        rows = [torch.softmax(model(torch.from_numpy(e))["logits"], dim=1).mean(dim=0) for e in sequences.embeddings]
    return torch.stack(rows).numpy().astype(np.float64)


def _cache_file(dataset: GTZAN, part: str, config: MusicnnGRUTrainConfig, sounds_key: str) -> Path:
    renders = (config.random_renders, config.recording_renders) if part == "train" else (0, config.valid_renders)
    return _cache_named(dataset, f"{part}|{renders}|{config.render_patches}|{config.seed}|{sounds_key}")


def _extra_cache_file(dataset: GTZAN, group: str, config: MusicnnGRUTrainConfig, sounds_key: str) -> Path:
    """The cache of extra render group `group`'s passes (`EXTRA_RENDERS`), one file per group."""
    return _cache_named(dataset, f"extra|{group}|{config.render_patches}|{config.seed}|{sounds_key}")


def _cache_named(dataset: GTZAN, recipe: str) -> Path:
    """The cache file of the passes made by `recipe` (with musicnn's and the renders' versions) on `dataset`."""
    key = hashlib.sha1(f"{MUSICNN_PASS.version}|{RENDERS_VERSION}|{recipe}".encode()).hexdigest()[:12]
    return default_cache_dir() / f"musicnn-gru-{key}-{_folder_key(dataset.root)}.npz"


def _pool(workers: int):
    """Processes for the passes, one torch thread each (the 2 cores are shared); in-process for one worker."""
    if workers <= 1:
        from contextlib import nullcontext
        from types import SimpleNamespace

        return nullcontext(SimpleNamespace(map=map))
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_one_thread)


@contextmanager
def _threads(count: int):
    """torch's intra-op threads set to `count` for a while, then as they were."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _one_thread() -> None:
    torch.set_num_threads(1)


def _track_passes(job: tuple[str, str, str, MusicnnGRUTrainConfig]) -> dict[str, np.ndarray]:
    """musicnn's patch embeddings of one track's audio: "<track>/clean" of the whole clip, and of each degraded
    version of a random stretch (`render_patches` long): "<track>/random<k>", "<track>/recording<k>"."""
    path, track, part, config = job
    try:
        audio = load_audio(path)
    except AudioError:
        return {}
    sounds = real_sounds("train") if config.real_sounds else None
    rng = np.random.default_rng([config.seed, 7, *map(ord, track)])
    stretch = round((config.render_patches * PATCH_SECONDS + 0.05) * audio.sample_rate)

    def excerpt() -> np.ndarray:
        start = int(rng.integers(0, max(1, len(audio.samples) - stretch + 1)))
        return audio.samples[start : start + stretch]

    versions = {"clean": audio.samples}
    if part == "train":
        kinds = [("random", "random", config.seed)] * config.random_renders
        kinds += [("recording", "recording", config.seed + 100)] * config.recording_renders
    else:
        kinds = [("recording", "recording", config.seed + 1000)] * config.valid_renders
    counts: dict[str, int] = {}
    for kind, chain, seed in kinds:
        k = counts.get(kind, 0)
        counts[kind] = k + 1
        (samples,) = degraded_versions(excerpt(), track, 1, seed + k, sounds, chain=chain)
        versions[f"{kind}{k}"] = samples
    return {
        f"{track}/{kind}": MUSICNN_PASS.from_audio(replace(audio, samples=samples)).embedding
        for kind, samples in versions.items()
    }


def _extra_track_passes(job: tuple[str, str, str, MusicnnGRUTrainConfig]) -> dict[str, np.ndarray]:
    """musicnn's patch embeddings of one train track's versions of extra render group `group` (`EXTRA_RENDERS`),
    each of its own random stretch: "<track>/random1", "<track>/recording3" … or "<track>/classroom_like<k>"."""
    path, track, group, config = job
    try:
        audio = load_audio(path)
    except AudioError:
        return {}
    sounds = real_sounds("train") if config.real_sounds else None
    rng = np.random.default_rng([config.seed, 8, EXTRA_RENDERS[group], *map(ord, track)])
    stretch = round((config.render_patches * PATCH_SECONDS + 0.05) * audio.sample_rate)

    def excerpt() -> np.ndarray:
        start = int(rng.integers(0, max(1, len(audio.samples) - stretch + 1)))
        return audio.samples[start : start + stretch]

    versions = {}
    if group == "second_draw":
        (versions["random1"],) = degraded_versions(excerpt(), track, 1, config.seed + 1, sounds, chain="random")
        for k in (3, 4, 5):
            (versions[f"recording{k}"],) = degraded_versions(
                excerpt(), track, 1, config.seed + 100 + k, sounds, chain="recording"
            )
    else:
        chain = np.random.default_rng([config.seed + 500, *map(ord, track)])
        for k in range(3):
            versions[f"{group}{k}"] = CHAINS[group](excerpt(), chain, sounds)
    return {
        f"{track}/{kind}": MUSICNN_PASS.from_audio(replace(audio, samples=samples)).embedding
        for kind, samples in versions.items()
    }


def _cached_passes(cache: Path, tracks: list[str], dataset: GTZAN, work, job, desc: str, workers: int) -> dict:
    """The passes of `tracks` in `cache` (an .npz of "<track>/<kind>"), `work((path, track, *job))` computing the
    missing ones on `workers` processes, the file kept up to date as they come (a long first run keeps its work)."""
    stored: dict[str, np.ndarray] = {}
    if cache.is_file():
        with np.load(cache) as saved:
            stored = {name: saved[name] for name in saved.files}
    done_tracks = {n.split("/")[0] for n in stored}
    jobs = [(str(dataset.audio[t]), t, *job) for t in tracks if t not in done_tracks]
    with _pool(workers if len(jobs) > 1 else 1) as pool:
        done = tqdm(pool.map(work, jobs), total=len(jobs), desc=desc, unit="clip")
        for count, passes in enumerate(done):
            stored |= passes
            if (count + 1) % 20 == 0 or count + 1 == len(jobs):
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cache, **stored)
    return stored


def embedded_sequences(
    dataset: GTZAN, tracks, part: str, config: MusicnnGRUTrainConfig
) -> tuple[Sequences, dict[str, int]]:
    """musicnn's patch embeddings of each of `tracks` with audio, clean and through the part's renders (see the
    module's docstring), cached in `$MGC_CACHE` per recipe; and how many sequences of each kind there are."""
    sounds = real_sounds("train") if config.real_sounds else None
    sounds_key = hashlib.sha1("|".join(sounds.names).encode()).hexdigest()[:8] if sounds else "none"
    with_audio = [t for t in tracks if t in dataset.audio]
    cache = _cache_file(dataset, part, config, sounds_key)
    stored = _cached_passes(
        cache, with_audio, dataset, _track_passes, (part, config), f"musicnn passes, {part}", config.workers
    )
    audio_tracks = set(with_audio)
    names = sorted(n for n in stored if n.split("/")[0] in audio_tracks)
    decoded = sorted({n.split("/")[0] for n in names})  # the extra groups follow the recipe's decoded tracks
    extra: dict[str, np.ndarray] = {}
    for group in config.extra_renders if part == "train" else ():
        if group not in EXTRA_RENDERS:
            raise ValueError(f"unknown extra renders {group!r}; known: {', '.join(EXTRA_RENDERS)}")
        file = _extra_cache_file(dataset, group, config, sounds_key)
        extra |= _cached_passes(
            file, decoded, dataset, _extra_track_passes, (group, config), f"musicnn passes, {group}", config.workers
        )
    names_extra = sorted(n for n in extra if n.split("/")[0] in audio_tracks)
    stored = {**stored, **extra}
    names += names_extra  # after the recipe's own, in this order: the batches' draws depend on it
    if not names:
        raise DatasetError(f"none of the {len(with_audio)} {part} tracks with audio decodes in {dataset.root}")
    kinds: dict[str, int] = {}
    for n in names:
        kind = n.split("/")[1].rstrip("0123456789")
        kinds[kind] = kinds.get(kind, 0) + 1
    tracks_of = [n.split("/")[0] for n in names]
    return Sequences([stored[n] for n in names], labels_of(tracks_of), tracks_of), kinds


def train_musicnn_gru(name: str, split: str, config: MusicnnGRUTrainConfig | None = None, **job) -> Path:
    """Train run `name` (a row of `mgc.runs.table` of the family `musicnn-gru`) on `split`, from the clips that
    have audio; returns its run folder. `job`: data, epochs, device, out_dir (`mgc.train.loop.Job`). The GRU is
    small: it trains on the CPU whatever `device`."""
    job = Job(name, split, **{**job, "device": "cpu"})
    family = row(name).family
    config = job.config(config or MusicnnGRUTrainConfig())
    dataset = GTZAN(job.data)
    parts = dataset.split(split)
    out_dir = job.folder()
    print(
        f"training {name} on the {split} split: {len(parts.train)} train / {len(parts.valid)} valid tracks, of which "
        f"{sum(t in dataset.audio for t in parts.train)} / {sum(t in dataset.audio for t in parts.valid)} have audio"
    )
    refuse_unheard_genres(dataset, split, parts.train)
    if config.real_sounds and real_sounds("train") is None:
        print("no sounds folder (ir/, noise/): the chains use simulated rooms and noise only")

    started = time.perf_counter()
    train, train_kinds = embedded_sequences(dataset, parts.train, "train", config)
    valid, valid_kinds = embedded_sequences(dataset, parts.valid, "valid", config)
    embedding_seconds = time.perf_counter() - started

    candidates = []
    for hidden, dropout, weight_decay in config.candidates:
        # The config's fields by keyword: the pretrained network's weights, their digest, the GRU's size.
        model_config = dict(
            musicnn=PASS_MODEL, musicnn_digest=weights_file_digest(PASS_MODEL), hidden=hidden, dropout=dropout
        )
        with _threads(1):  # steps this small wait on a second thread more than they gain from it (2 shared cores)
            fitted = fit(SequenceRecipe(family, model_config, train, valid, config, weight_decay), seed=config.seed)
        best = fitted.best
        candidates.append(
            {
                "hidden": hidden,
                "dropout": dropout,
                "weight_decay": weight_decay,
                "best_epoch": best["epoch"],
                "valid_accuracy": best["valid_accuracy"],
                "valid_loss": best["valid_loss"],
                "fitted": fitted,
            }
        )
        print(
            f"  GRU of {hidden}×2, dropout {dropout}, weight decay {weight_decay}: valid accuracy "
            f"{best['valid_accuracy']:.3f}, loss {best['valid_loss']:.3f} (epoch {best['epoch']})"
        )
    chosen = max(candidates, key=lambda c: (c["valid_accuracy"], -c["valid_loss"]))
    save_run(
        out_dir,
        name,
        family,
        chosen["fitted"].model,
        split,
        chosen["fitted"].history,
        {**asdict(config), "chosen": {k: chosen[k] for k in ("hidden", "dropout", "weight_decay")}},
        device="cpu",
        recipe="robust",
        train_seconds=time.perf_counter() - started,
        embedding_seconds=round(embedding_seconds, 1),
        musicnn_weights=f"{PASS_MODEL} of musicnn 0.1.0 (Pons & Serra 2019), mgc/models/musicnn_weights",
        real_sounds=real_sounds("train").names if config.real_sounds and real_sounds("train") else [],
        train_tracks=len(set(train.tracks)),
        valid_tracks=len(set(valid.tracks)),
        train_sequences=train_kinds,
        valid_sequences=valid_kinds,
        clips_with_audio={
            part: sum(t in dataset.audio for t in parts.part(part)) for part in ("train", "valid", "test")
        },
        clips_in_split={part: len(parts.part(part)) for part in ("train", "valid", "test")},
        genres_heard=sorted({genre_of(t) for t in train.tracks}),
        candidates=[{k: v for k, v in c.items() if k != "fitted"} for c in candidates],
    )
    return out_dir
