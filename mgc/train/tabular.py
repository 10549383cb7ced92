"""Training the feature models on Kaggle's 57 features (`features_30_sec.csv`), one split at a time.

Reads top to bottom: the split's train and valid rows → a model whose standardisation is fitted on
the train rows only → mini-batch epochs with validation after each, early stopping, the best
epoch's weights kept (or, for `logreg`, one scikit-learn fit) → the same run files as a picture
model (`mgc.train.common.save_run`: model.pt, history.csv, training.json). `python -m mgc evaluate`
then adds predictions.csv and metrics.json.

Run names: `mlp-256`, `mlp-512-adam`, `mlp-512-sgd`, `mlp-1024-rmsprop` are the tabular seed's four
MLP recipes (`MLP_VARIANTS`); `mlp` trains all four and ships the one with the best validation
accuracy under that name; `logreg` is the scikit-learn baseline.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.gtzan import GTZAN, labels_of
from ..frontends.features import FEATURES, table_features
from ..models import build_model, family
from ..models.logreg import SoftmaxRegression
from ..runs.checkpoints import (
    HISTORY_FILE,
    METRICS_FILE,
    MODEL_FILE,
    PREDICTIONS_FILE,
    TRAINING_FILE,
    read_json,
    run_dir,
    write_json,
)
from ..runs.outputs import window_outputs
from ..runs.table import RUNS, TABLE, Row
from .common import save_run, seed_everything
from .loop import Job, MinibatchRecipe, fit


@dataclass
class TabularTrainConfig:
    """One MLP recipe: batch 128, at most 600 epochs, early stopping on the valid part."""

    optimiser: str = "adam"  # adam | sgd | rmsprop
    lr: float = 1e-3  # Keras's defaults: 1e-3 for Adam and RMSprop, 1e-2 for SGD
    momentum: float = 0.0  # SGD only
    epochs: int = 600
    batch_size: int = 128
    patience: int = 50  # epochs without validation improvement before stopping
    seed: int = 0


TABULAR_RUNS: tuple[str, ...] = tuple(r.name for r in RUNS if r.frontend is FEATURES)
"""The runs of the feature families (`mgc.runs.table`), in the table's order."""
MLP_VARIANTS: dict[str, tuple[dict, TabularTrainConfig]] = {
    r.name: (dict(r.overrides), replace(TabularTrainConfig(), **dict(r.training)))
    for r in RUNS
    if r.frontend is FEATURES and r.overrides
}
"""Run name → (MLP config, training recipe): the four MLPs of the tabular seed, from their rows of the table."""
LOGREG: Row = next(
    r for r in RUNS if r.frontend is FEATURES and issubclass(family(r.family).network, SoftmaxRegression)
)
"""The scikit-learn baseline's row: the feature run whose network is `SoftmaxRegression` (fitted, not trained)."""
LOGREG_C = 1.0  # scikit-learn's default regularisation
LOGREG_MAX_ITER = 5000


@dataclass
class FeatureParts:
    """The train and valid rows of one split: track ids, raw features (tracks, 57), genre indices."""

    train_tracks: list[str]
    train_rows: np.ndarray
    valid_tracks: list[str]
    valid_rows: np.ndarray

    @property
    def train_labels(self) -> np.ndarray:
        return labels_of(self.train_tracks)

    @property
    def valid_labels(self) -> np.ndarray:
        return labels_of(self.valid_tracks)


def feature_parts(dataset: GTZAN, split: str) -> FeatureParts:
    """The train and valid parts of `split` as rows of the feature table (tracks without a row are left out)."""
    parts, table = dataset.split(split), dataset.features
    train = [t for t in parts.train if t in table.index]
    valid = [t for t in parts.valid if t in table.index]
    return FeatureParts(train, table_features(table, train), valid, table_features(table, valid))


def train_tabular(name: str, split: str, **job) -> Path:
    """Train run `name` (see `TABULAR_RUNS`) on `split`; returns its run folder. `job`: data, epochs, device,
    out_dir (`mgc.train.loop.Job`; default folder `checkpoints/<name>/<split>`); for `mlp`, the four variants are
    written beside it, in `<out_dir>/../../<variant>/<split>`."""
    job = Job(name, split, **job)
    out_dir = Path(job.out_dir or run_dir(name, split))
    if name == LOGREG.name:
        return train_logreg(split, data=job.data, out_dir=out_dir)
    options = dict(data=job.data, epochs=job.epochs, device=job.device)
    if name in MLP_VARIANTS:
        return train_mlp(name, split, out_dir=out_dir, **options)
    # A feature family's own run (`mlp`) ships the best of its variants.
    variants = [v for v in MLP_VARIANTS if name in TABULAR_RUNS and TABLE[v].family == TABLE[name].family]
    if variants:
        root = out_dir.parent.parent
        runs = {
            variant: train_mlp(variant, split, out_dir=run_dir(variant, split, root), **options) for variant in variants
        }
        return ship_best(runs, out_dir)
    raise KeyError(f"unknown tabular model {name!r}; known: {', '.join(TABULAR_RUNS)}")


def _optimiser(config: TabularTrainConfig, parameters) -> torch.optim.Optimizer:
    if config.optimiser == "adam":
        return torch.optim.Adam(parameters, lr=config.lr)
    if config.optimiser == "sgd":
        return torch.optim.SGD(parameters, lr=config.lr, momentum=config.momentum)
    if config.momentum:
        raise ValueError(f"momentum is for SGD; {config.optimiser} has its own")
    if config.optimiser == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=config.lr, alpha=0.9)  # Keras's rho
    raise ValueError(f"unknown optimiser {config.optimiser!r}; use adam, sgd or rmsprop")


class RowsRecipe(MinibatchRecipe):
    """An MLP on one row of features per track (`parts`), by `config`'s optimiser in shuffled mini-batches, validated
    on the valid rows' cross-entropy and accuracy."""

    def __init__(self, family: str, model_config: dict, parts: FeatureParts, config: TabularTrainConfig):
        super().__init__()
        self.family, self.model_config, self.parts, self.config = family, model_config, parts, config
        self.epochs, self.patience, self.batch_size = config.epochs, config.patience, config.batch_size

    def build(self) -> nn.Module:
        model = build_model(self.family, self.model_config)
        model.normalise.fit(self.parts.train_rows)
        return model

    def optimiser(self, model: nn.Module) -> torch.optim.Optimizer:
        device = next(model.parameters()).device
        self.x = torch.from_numpy(self.parts.train_rows).to(device)
        self.labels = torch.from_numpy(self.parts.train_labels).to(device)
        self.x_valid = torch.from_numpy(self.parts.valid_rows).to(device)
        self.y_valid = torch.from_numpy(self.parts.valid_labels).to(device)
        self.generator = torch.Generator().manual_seed(self.config.seed)
        return _optimiser(self.config, model.parameters())

    def logits(self, model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return model(self.x[batch])["logits"]

    def validate(self, model: nn.Module, device: str) -> dict[str, float]:
        model.eval()
        with torch.no_grad():
            logits = model(self.x_valid)["logits"]
            return {
                "valid_loss": self.loss_fn(logits, self.y_valid).item(),
                "valid_accuracy": (logits.argmax(1) == self.y_valid).double().mean().item(),
            }


def train_mlp(
    name: str, split: str, config: TabularTrainConfig | None = None, model_config: dict | None = None, **job
) -> Path:
    """Train one MLP recipe of `MLP_VARIANTS` (`config` / `model_config` override it); returns the run folder. `job`:
    data, epochs, device, out_dir (`mgc.train.loop.Job`)."""
    recipe_model, recipe_config = MLP_VARIANTS[name]
    job = Job(name, split, **job)
    config = job.config(config or recipe_config)
    seed_everything(config.seed)
    parts = feature_parts(GTZAN(job.data), split)
    mlp = TABLE[name].family
    fitted = fit(RowsRecipe(mlp, {**recipe_model, **(model_config or {})}, parts, config), job.device)
    return job.save(
        mlp,
        fitted,
        asdict(config),
        device=job.device,
        train_seconds=fitted.seconds,
        train_tracks=len(parts.train_tracks),
        valid_tracks=len(parts.valid_tracks),
    )


def ship_best(runs: dict[str, Path], out_dir: Path) -> Path:
    """Copy the run with the best validation accuracy (then loss) to `out_dir`, saying which it was and why.

    training.json of the shipped copy names the `variant` and every candidate's validation accuracy;
    stale predictions.csv / metrics.json there are removed (evaluate the shipped model again).
    """
    records = {name: read_json(folder / TRAINING_FILE) for name, folder in runs.items()}
    chosen = max(records, key=lambda n: (records[n]["best_valid_accuracy"], -records[n]["best_valid_loss"]))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (PREDICTIONS_FILE, METRICS_FILE):
        (out_dir / stale).unlink(missing_ok=True)
    for file in (MODEL_FILE, HISTORY_FILE):
        shutil.copyfile(runs[chosen] / file, out_dir / file)
    write_json(
        out_dir / TRAINING_FILE,
        {
            **records[chosen],
            "model": out_dir.parent.name,
            "variant": chosen,
            "candidates_valid_accuracy": {n: r["best_valid_accuracy"] for n, r in records.items()},
            "candidates_train_seconds": round(sum(r["train_seconds"] for r in records.values()), 1),
        },
    )
    print(
        f"shipped {chosen} as {out_dir.parent.name} (valid accuracy {records[chosen]['best_valid_accuracy']:.3f}) "
        f"in {out_dir}"
    )
    return out_dir


def fit_logreg(train_rows: np.ndarray, train_labels: np.ndarray, C: float = LOGREG_C):
    """scikit-learn's StandardScaler + multinomial LogisticRegression on the train rows.

    Returns the fitted scikit-learn pipeline and the equivalent `SoftmaxRegression` module.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=LOGREG_MAX_ITER))
    pipeline.fit(train_rows, train_labels)
    model = build_model(LOGREG.family)
    model.load_sklearn(pipeline[0], pipeline[-1])
    return pipeline, model.eval()


def train_logreg(split: str, data: str | Path | None = None, out_dir: Path | None = None) -> Path:
    """Fit the scikit-learn baseline on the train part of `split`; returns the run folder.

    history.csv has one row (one fit); training.json records how far the torch module's
    probabilities are from scikit-learn's `predict_proba` on the train and valid rows.
    """
    from sklearn.metrics import log_loss

    parts = feature_parts(GTZAN(data), split)
    out_dir = Path(out_dir or run_dir(LOGREG.name, split))
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pipeline, model = fit_logreg(parts.train_rows, parts.train_labels)
    seconds = time.perf_counter() - started
    labels = list(range(model.config.classes))
    row = {"epoch": 1}
    difference = 0.0
    for part, rows, truth in (
        ("train", parts.train_rows, parts.train_labels),
        ("valid", parts.valid_rows, parts.valid_labels),
    ):
        probabilities, _ = window_outputs(model, FEATURES, rows)  # every row at once, each its own window
        difference = max(difference, float(np.abs(probabilities - pipeline.predict_proba(rows)).max()))
        row[f"{part}_loss"] = float(log_loss(truth, probabilities, labels=labels))
        row[f"{part}_accuracy"] = float((probabilities.argmax(1) == truth).mean())
    row.update({"lr": None, "seconds": seconds})
    config = {
        "C": LOGREG_C,
        "max_iter": LOGREG_MAX_ITER,
        "solver": "lbfgs",
        "iterations": int(pipeline[-1].n_iter_.max()),
    }
    save_run(
        out_dir,
        LOGREG.name,
        LOGREG.family,
        model,
        split,
        [row],
        config,
        device="cpu",
        train_seconds=seconds,
        train_tracks=len(parts.train_tracks),
        valid_tracks=len(parts.valid_tracks),
        sklearn_max_abs_difference=difference,
    )
    return out_dir
