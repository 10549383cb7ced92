"""The one training loop: every model this project trains runs `fit` over a `Recipe`.

`fit(recipe, device, seed)` seeds the generators, builds the recipe's model, and runs its epochs: an epoch of
training steps (`Recipe.train_epoch`), the validation (`Recipe.validate`), the learning-rate schedule, a row of
history, and early stopping (`BestEpoch`: the weights of the best validation epoch are kept, by
accuracy then loss). It returns a `Fitted`: the model with the best epoch's weights, on the CPU, and the history.
What a trainer does around it — read a split's examples, choose among candidate recipes, save the run
(`mgc.train.common.save_run`) — is the trainer's; a `Job` is what every trainer is asked.

The recipes (a kind of training each):

* `mgc.train.pictures.CropRecipe`: whole-track inputs (Kaggle's mel pictures; the seeds' log-mel of audio), an
  epoch of random crops through `train_step` (augmentation, mixup and listening conditions for the pictures),
  validated per track through the family's front end; Adam with a cosine schedule. Picture models (`pictures`)
  and networks from audio (`audio_network`).
* `mgc.train.heads.HeadRecipe`: a head on a frozen embedding — rows of embeddings (a picture run's windows with
  Kaggle's features: the hybrid; musicnn's patches: the musicnn head) in shuffled mini-batches, validated as a
  track is answered (the mean of its rows' probabilities); `mgc.train.heads.train_heads` fits several candidates
  and keeps the best on validation.
* `mgc.train.tabular.RowsRecipe`: the feature MLPs — one row per track, shuffled mini-batches, the valid rows'
  cross-entropy.

How to add a recipe (a new kind of training):

1. Subclass `Recipe` (or `MinibatchRecipe` when the train examples are the rows of a tensor, one label each):
   hold the train and valid examples it was given, its `epochs`, `patience` and hyper-parameters.
2. `build()`: the model (`mgc.models.build_model`) with its input normalisation fitted on the train examples.
3. `optimiser(model)` (and `scheduler(optimiser)` if the rate changes over the epochs).
4. `train_epoch(model, optimiser, epoch)` → the epoch's mean training loss and accuracy (`RunningScores` counts
   them batch by batch; `MinibatchRecipe` only asks for `logits(model, batch)`).
5. `validate(model, device)` → {"valid_loss", "valid_accuracy"}: for a model that answers per track, the valid
   tracks' probabilities through `mgc.train.common.validation_scores`.
6. A trainer: read the examples, `fit(recipe, device, seed)` (or `train_heads` over candidates), `save_run`, and
   a line in `mgc.train.TRAINERS` (the family's `trainer`).

For example a GRU head over the sequence of musicnn's patch embeddings of a track is a `Recipe` whose examples
are tracks (one sequence of patch embeddings each, and the sequences of the track's degraded renders:
`mgc.train.musicnn_head.embedded_patches` computes them), whose `train_epoch` runs shuffled batches of padded
sequences through the model's step, and whose `validate` gives each valid track's probabilities.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn

from ..runs.checkpoints import run_dir
from .common import RunningScores, save_run, seed_everything


class BestEpoch:
    """Early stopping for `fit`: keeps a copy of the weights of the best validation epoch (by
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

    def end_epoch(
        self,
        model: nn.Module,
        history: list[dict],
        row: dict,
        started: float,
        report: bool = False,
    ) -> bool:
        """The end of every epoch of `fit`: `row` (epoch, train and valid loss and accuracy, lr) appended to
        `history` with the seconds since `started`, its weights kept when it is the best so far (`update`), and,
        with `report`, its line printed (`*` the best so far). True when training should stop."""
        from tqdm.auto import tqdm

        row = {**row, "seconds": time.perf_counter() - started}
        history.append(row)
        improved = self.update(model, row["valid_accuracy"], row["valid_loss"])
        if report:
            tqdm.write(
                f"epoch {row['epoch']:3d}  train loss {row['train_loss']:.3f} acc {row['train_accuracy']:.3f}  "
                f"valid loss {row['valid_loss']:.3f} acc {row['valid_accuracy']:.3f}{'  *' if improved else ''}"
            )
            if self.stop:
                tqdm.write(f"no validation improvement for {self.patience} epochs: stopping")
        return self.stop

    def restore(self, model: nn.Module) -> nn.Module:
        """`model` with the best epoch's weights, on the CPU, in eval mode."""
        model.load_state_dict(self.state)
        return model.cpu().eval()


def minibatch_epoch(
    logits_of,
    labels: torch.Tensor,
    optimiser: torch.optim.Optimizer,
    loss_fn: nn.Module,
    batch_size: int,
    generator: torch.Generator,
) -> tuple[float, float]:
    """One epoch of a `MinibatchRecipe`: the rows in a random order (from `generator`), in
    mini-batches of `batch_size`; `logits_of(batch)` gives the model's logits for those row indices.
    Returns the epoch's mean training loss and accuracy. The model must be in train mode."""
    scores = RunningScores()
    for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
        batch = batch.to(labels.device)
        logits = logits_of(batch)
        loss = loss_fn(logits, labels[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        scores.add(logits, labels[batch], loss)
    return scores.loss, scores.accuracy


class Recipe:
    """One kind of training, as `fit` runs it: its model, optimiser, schedule, epoch of steps and validation.

    A subclass holds its examples and hyper-parameters; it must set `epochs` and `patience` (epochs without a better
    validation before stopping) and define `build`, `optimiser`, `train_epoch` and `validate`."""

    epochs: int
    patience: int
    report: bool = False
    """Print each epoch's line (the long trainings do; the heads and the MLPs, which fit many candidates, do not)."""

    def build(self) -> nn.Module:
        """The model, its normalisation fitted on the train examples, on the CPU (`fit` moves it to the device)."""
        raise NotImplementedError

    def optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        raise NotImplementedError

    def scheduler(self, optimiser: torch.optim.Optimizer):
        """The learning-rate schedule, stepped after each epoch's validation; None: a constant rate."""
        return None

    def train_epoch(self, model: nn.Module, optimiser: torch.optim.Optimizer, epoch: int) -> tuple[float, float]:
        """One epoch of steps over the train examples (the model is in train mode, on the device); returns the
        epoch's mean training loss and accuracy."""
        raise NotImplementedError

    def validate(self, model: nn.Module, device: str) -> dict[str, float]:
        """{"valid_loss", "valid_accuracy"} of the model (on `device`; leave it there) over the valid examples."""
        raise NotImplementedError


class MinibatchRecipe(Recipe):
    """A recipe whose train examples are rows of tensors with one label each (`labels`, on the device), seen in a
    random order (from `generator`) in mini-batches of `batch_size` (`minibatch_epoch`)."""

    batch_size: int
    labels: torch.Tensor
    generator: torch.Generator

    def __init__(self):
        self.loss_fn = nn.CrossEntropyLoss()

    def logits(self, model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        """The model's logits for the train rows `batch` (their indices)."""
        raise NotImplementedError

    def train_epoch(self, model: nn.Module, optimiser: torch.optim.Optimizer, epoch: int) -> tuple[float, float]:
        return minibatch_epoch(
            lambda batch: self.logits(model, batch),
            self.labels,
            optimiser,
            self.loss_fn,
            self.batch_size,
            self.generator,
        )


@dataclass
class Fitted:
    """What `fit` gives: the model with the best epoch's weights (on the CPU, in eval mode), a history row per epoch
    (epoch, train_loss, train_accuracy, valid_loss, valid_accuracy, lr, seconds), and the seconds the epochs took."""

    model: nn.Module
    history: list[dict]
    seconds: float

    @property
    def best(self) -> dict:
        """The history row of the kept epoch: the best validation accuracy, then loss (as `BestEpoch` keeps it)."""
        return max(self.history, key=lambda r: (r["valid_accuracy"], -r["valid_loss"]))


def fit(recipe: Recipe, device: str = "cpu", seed: int | None = None) -> Fitted:
    """Train `recipe`'s model: `seed` (when given) seeds Python's, NumPy's and torch's generators before the model
    is built; then up to `recipe.epochs` epochs of steps and validation, stopped early after `recipe.patience`
    epochs without a better validation; the best epoch's weights are kept."""
    if seed is not None:
        seed_everything(seed)
    model = recipe.build().to(device)
    optimiser = recipe.optimiser(model)
    scheduler = recipe.scheduler(optimiser)
    history, best = [], BestEpoch(recipe.patience)
    started = time.perf_counter()
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        lr = optimiser.param_groups[0]["lr"]  # this epoch's rate (a schedule steps at its end)
        train_loss, train_accuracy = recipe.train_epoch(model, optimiser, epoch)
        scores = recipe.validate(model, device)
        if scheduler is not None:
            scheduler.step()
        row = {"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_accuracy, **scores, "lr": lr}
        if best.end_epoch(model, history, row, started, report=recipe.report):
            break
    seconds = time.perf_counter() - started
    return Fitted(best.restore(model), history, seconds)


@dataclass
class Job:
    """What every trainer is asked: run `name` on `split` of the GTZAN folder `data` (None: the default folder),
    `epochs` (None: its recipe's), on `device`, written to `out_dir` (None: `checkpoints/<name>/<split>`), with
    `model_config` overriding the family's model configuration where the trainer takes one."""

    name: str
    split: str
    data: str | Path | None = None
    epochs: int | None = None
    device: str = "cpu"
    out_dir: Path | None = None
    model_config: dict | None = None

    def config(self, config):
        """A copy of the trainer's `config` (a dataclass with `epochs`) with this job's epochs where it sets them."""
        return replace(config) if self.epochs is None else replace(config, epochs=self.epochs)

    def folder(self) -> Path:
        """The run folder to write (made if missing)."""
        out_dir = Path(self.out_dir or run_dir(self.name, self.split))
        out_dir.mkdir(parents=True, exist_ok=True)
        return out_dir

    def save(self, family: str, fitted: Fitted, train_config: dict, **record) -> Path:
        """Write the run of `fitted` (a model of `family`) in `folder()` with the usual run files (`save_run`:
        `train_config` and `record` go to training.json); returns the folder."""
        out_dir = self.folder()
        save_run(out_dir, self.name, family, fitted.model, self.split, fitted.history, train_config, **record)
        return out_dir
