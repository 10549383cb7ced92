"""Where trained models and their cached results live, and how they are saved and loaded.

Layout: `checkpoints/<model>/<split>/` holds `model.pt` (weights + config + representation
front end version + genre list), `history.csv`, `training.json`, `predictions.csv` and `metrics.json` (and the
other files below: their names are written here and nowhere else; `mgc.runs.run.Run` reads them).
Weights are loaded with `torch.load(weights_only=True)`: a checkpoint cannot run code. A checkpoint
whose front end version (recorded under "representation") is not the one its family's front end
computes now is refused. A hybrid's `model.pt` holds only its head; `load_model` attaches the picture
run it names, after checking that run's weights are the ones the head was trained on (`weights_digest`).
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

from ..data.gtzan import GENRES, REPO_ROOT
from ..errors import CheckpointError
from .table import reads_picture, reads_run

MODEL_FILE = "model.pt"
"""The weights, with the config, front end version and genre list they were trained with."""
ENSEMBLE_FILE = "ensemble.json"
"""An ensemble's rule and members, in place of weights (`mgc.runs.ensembles`)."""
HISTORY_FILE = "history.csv"
"""Loss and accuracy per epoch."""
TRAINING_FILE = "training.json"
"""How the run was trained: its recipe, the best epoch, the seconds it took."""
PREDICTIONS_FILE = "predictions.csv"
"""The test tracks' calibrated probabilities, written by `evaluate`."""
METRICS_FILE = "metrics.json"
"""The test scores, written by `evaluate`: a run with one is listed by `available_runs`."""
CALIBRATION_FILE = "calibration.json"
"""A run's temperature and unsure margin (`mgc.runs.calibration`), fitted by `evaluate` for the weights beside it."""
ROBUSTNESS_FILE = "robustness.json"
"""Accuracy under listening conditions (`python -m mgc robustness`)."""
EMBEDDING_MAP_FILE = "embedding_map.csv"
EMBEDDING_PROJECTION_FILE = "embedding_projection.json"
"""The test tracks' embeddings on two axes, and the projection that puts new audio there (`mgc.evaluate`)."""


def checkpoints_root() -> Path:
    """`$MGC_CHECKPOINTS`, else the repository's `checkpoints/`."""
    return Path(os.environ.get("MGC_CHECKPOINTS", REPO_ROOT / "checkpoints"))


def run_dir(model: str, split: str, root: Path | None = None) -> Path:
    """The folder of one model trained on one split."""
    return Path(root or checkpoints_root()) / model / split


def available_runs(root: Path | None = None) -> list[tuple[str, str]]:
    """(model, split) pairs that have cached metrics, sorted."""
    root = Path(root or checkpoints_root())
    return sorted((p.parent.parent.name, p.parent.name) for p in root.glob(f"*/*/{METRICS_FILE}"))


def trained_models(split: str, root: Path | None = None) -> list[str]:
    """Models trained on `split`: run folders with weights (model.pt) or an ensemble recipe (ensemble.json)."""
    root = Path(root or checkpoints_root())
    return sorted(p.parent.parent.name for p in root.glob(f"*/{split}/*") if p.name in (MODEL_FILE, ENSEMBLE_FILE))


def forget_calibration(folder: Path) -> None:
    """New weights (or a new ensemble recipe) in `folder`: the calibration fitted for the old ones no longer
    applies, so it goes — the run is shown uncalibrated until `evaluate` fits it again."""
    (Path(folder) / CALIBRATION_FILE).unlink(missing_ok=True)


def save_model(path: Path, family: str, model, split: str, extra: dict | None = None) -> None:
    """Save weights with everything needed to rebuild and trust them (and forget the old weights' calibration)."""
    import torch

    from ..models import family as family_of
    from ..models import model_config

    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "family": family,
            "config": json.loads(json.dumps(model_config(model))),
            "state_dict": model.state_dict(),
            "representation": family_of(family).frontend.version,
            "genres": list(GENRES),
            "split": split,
            **(extra or {}),
        },
        path,
    )
    forget_calibration(path.parent)


def models_kept(default: int = 8) -> int:
    """How many loaded models a process keeps (`$MGC_MODELS_KEPT`, at least 1; 8 when unset or not a number):
    enough for the largest ensemble's six members and the picture run its hybrid reads, shared by every caller
    (the app's sessions included). Evicted models load again in ~10–50 ms; a model is 0.01–3 MB of weights."""
    try:
        return max(1, int(os.environ.get("MGC_MODELS_KEPT", default)))
    except ValueError:
        return default


@lru_cache(maxsize=models_kept())
def _load_model(path: str, mtime: float):
    import torch

    from ..models import FAMILIES, build_model

    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"cannot load {path}: {error}") from None
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path} is damaged (not a saved mgc model): retrain it")
    family = saved.get("family")
    if family not in FAMILIES:
        raise CheckpointError(
            f"{path} holds a model of family {family!r}, which this code does not know (known: {', '.join(FAMILIES)})"
        )
    version = FAMILIES[family].frontend.version
    if saved.get("representation") != version:
        raise CheckpointError(
            f"{path} was trained on representation {saved.get('representation')!r}, "
            f"this code computes {version!r}: retrain it"
        )
    if tuple(saved.get("genres", ())) != GENRES:
        raise CheckpointError(f"{path} has genres {saved.get('genres')}, expected {list(GENRES)}")
    try:
        model = build_model(family, saved["config"])
        model.load_state_dict(saved["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:  # fields or weights that do not fit
        raise CheckpointError(f"{path} is damaged ({type(error).__name__}: {error}): retrain it") from None
    model.eval()
    return model, saved


def load_model(model: str, split: str = "random", root: Path | None = None):
    """The trained model of run `model` (any family) and its saved record (cached per file), ready for inference.

    `saved["family"]` names its family in `mgc.models.FAMILIES`, whose front end says what it reads. A model
    that reads another run's embedding (the hybrid: `attach_picture`) gets that run attached here, or
    refused when it has changed.
    """
    path = run_dir(model, split, root) / MODEL_FILE
    if not path.is_file():
        raise CheckpointError(
            f"no trained '{model}' for the {split} split at {path}: "
            f"train it with `python -m mgc train --model {model} --split {split}`"
        )
    network, saved = _load_model(str(path), path.stat().st_mtime)
    if reads_run(saved["family"]):
        network.attach_picture(_hybrid_picture(model, network.config, split, root))
    return network, saved


def weights_digest(state_dict) -> str:
    """sha256 of a state dict's names, dtypes, shapes and values: the same weights give the same digest,
    whenever and wherever they were saved."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state_dict.items()):
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return "sha256:" + digest.hexdigest()


def run_digest(model: str, split: str, root: Path | None = None) -> str:
    """`weights_digest` of the saved weights of run `model` (cached per file and modification time)."""
    path = run_dir(model, split, root) / MODEL_FILE
    if not path.is_file():
        raise CheckpointError(f"no trained '{model}' for the {split} split at {path}")
    return _weights_digest(str(path), path.stat().st_mtime)


@lru_cache(maxsize=16)
def _weights_digest(path: str, mtime: float) -> str:
    import torch

    return weights_digest(torch.load(path, map_location="cpu", weights_only=True)["state_dict"])


def _hybrid_picture(model: str, config, split: str, root: Path | None):
    """The picture run a hybrid reads, checked against the digest the hybrid was trained with."""
    path = run_dir(config.picture_model, split, root) / MODEL_FILE
    if not path.is_file():
        raise CheckpointError(
            f"'{model}' reads the embedding of the '{config.picture_model}' run of the {split} "
            f"split, which is missing at {path}: train that run, then retrain '{model}'"
        )
    if run_digest(config.picture_model, split, root) != config.picture_digest:
        raise CheckpointError(
            f"the '{config.picture_model}' run of the {split} split has changed since '{model}' "
            f"was trained on its embedding: retrain it with "
            f"`python -m mgc train --model {model} --split {split}`"
        )
    return load_picture_model(config.picture_model, split, root)[0]


def load_picture_model(model: str, split: str = "random", root: Path | None = None):
    """`load_model` for a run that must be a picture model (for what needs the picture, e.g. saliency)."""
    network, saved = load_model(model, split, root)
    if reads_run(saved["family"]):
        raise CheckpointError(
            f"'{model}' is a {saved['family']} model: it reads the mel picture through its "
            f"'{network.config.picture_model}' run, and the 57 tabular features"
        )
    if not reads_picture(saved["family"]):
        raise CheckpointError(
            f"'{model}' is a {saved['family']} model: it reads the 57 tabular features, not a mel picture"
        )
    return network, saved


def read_json(path: Path) -> dict:
    """A run's JSON file (metrics, ensemble, training record …) as a dict; `CheckpointError` naming the
    file when it cannot be read or is damaged (cut short, not JSON, not an object)."""
    try:
        saved = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as error:  # ValueError: JSONDecodeError and UnicodeDecodeError
        raise CheckpointError(f"{path} is damaged or unreadable ({error}): train or evaluate that run again") from None
    if not isinstance(saved, dict):
        raise CheckpointError(f"{path} is damaged (not a JSON object): train or evaluate that run again")
    return saved


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
