"""Ensembles: several trained models of one split answering together.

An ensemble is a run folder like any other (`checkpoints/ensemble-sum/<split>/`), holding
`ensemble.json` (its rule and members) instead of weights. It classifies new audio
(`mgc.classify(..., model="ensemble-sum")`), is evaluated and cached like a single model, and is
built (`mgc.train.ensembles`) from the members' **validation** predictions only — the test part is never
looked at.

Rules, on the members' probability tables (members, tracks, genres):

* ``sum`` — the mean of the members' probabilities;
* ``product`` — the normalised geometric mean (a member that rules a genre out vetoes it);
* ``vote`` — confidence-weighted voting: each member gives its top genre a vote weighted by its
  confidence; scores are the votes over the summed weights. Ties between genres with equal votes
  are broken by the mean probability (it enters with weight `VOTE_TIE_BREAK`, far below one vote);
* ``best`` — the ``sum`` rule over the subset of members (two or more) with the best validation
  accuracy (then lowest validation log loss, then fewest members).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import CheckpointError
from .checkpoints import ENSEMBLE_FILE, load_model, read_json, run_dir
from .table import CANDIDATES, reads_run
from .table import ENSEMBLES as TABLE_ENSEMBLES

RULES = ("sum", "product", "vote", "best")
ENSEMBLES = TABLE_ENSEMBLES
"""Run name → rule (the ensembles of `mgc.runs.table`)."""
DEFAULT_MEMBERS = CANDIDATES
"""Members when none are named: the table's ensemble candidates that are trained on the split (the four
seed MLPs are represented by `mlp`, the best of them by validation). The hybrid reads a picture
run's embedding, so it is not independent of that run: the choice on validation decides whether
it adds anything. The musicnn head reads audio: it is a candidate where it reads (nearly) every validation track
the others read (a data folder with the full Kaggle audio), and is left out where only some tracks have
audio (`mgc.train.ensembles`)."""
VOTE_TIE_BREAK = 1e-3
EPSILON = 1e-7


def combine(probabilities: np.ndarray, rule: str) -> np.ndarray:
    """(members, rows, genres) probabilities → (rows, genres) by `rule` (sum, product or vote); rows sum to 1."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 3 or len(p) == 0:
        raise ValueError(f"expected (members, rows, genres) probabilities, got shape {p.shape}")
    if rule in ("sum", "best"):
        scores = p.mean(axis=0)
    elif rule == "product":
        scores = np.exp(np.log(p + EPSILON).mean(axis=0))
    elif rule == "vote":
        top = p.argmax(axis=2)  # (members, rows)
        confidence = p.max(axis=2)
        votes = np.zeros(p.shape[1:])
        for member in range(len(p)):
            votes[np.arange(p.shape[1]), top[member]] += confidence[member]
        scores = votes / confidence.sum(axis=0)[:, None] + VOTE_TIE_BREAK * p.mean(axis=0)
    else:
        raise ValueError(f"unknown ensemble rule {rule!r}; known: {', '.join(RULES)}")
    return scores / scores.sum(axis=1, keepdims=True)


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return float(-np.log(probabilities[np.arange(len(labels)), labels] + EPSILON).mean())


@dataclass(frozen=True)
class Ensemble:
    name: str
    rule: str
    members: tuple[str, ...]

    def parameters(self, split: str) -> int:
        """Trainable parameters of all members together; a picture run that a hybrid member reads and
        that is a member too is counted once."""
        from ..models import parameter_count

        counted = {}
        for member in self.members:
            network, saved = load_model(member, split)
            counted[member] = parameter_count(network)
            if reads_run(saved["family"]):  # it reads a picture run, maybe a member too
                counted[network.config.picture_model] = parameter_count(network.picture)
                counted[member] -= counted[network.config.picture_model]
        return sum(counted.values())


def is_ensemble(model: str, split: str, root: Path | None = None) -> bool:
    """Whether the run folder holds an ensemble's recipe (`Run.is_ensemble`, once resolved)."""
    return (run_dir(model, split, root) / ENSEMBLE_FILE).is_file()


def load_ensemble(model: str, split: str, root: Path | None = None) -> Ensemble:
    """The rule and members of ensemble `model` of `split` (`Run.ensemble`, once resolved)."""
    path = run_dir(model, split, root) / ENSEMBLE_FILE
    if not path.is_file():
        raise CheckpointError(
            f"no ensemble '{model}' for the {split} split at {path}: build it with "
            f"`python -m mgc train --model {model} --split {split}`"
        )
    saved = read_json(path)
    try:
        return Ensemble(model, str(saved["rule"]), tuple(saved["members"]))
    except (KeyError, TypeError) as error:
        raise CheckpointError(f"{path} is damaged (no {error}): rebuild it with `python -m mgc train`") from None
