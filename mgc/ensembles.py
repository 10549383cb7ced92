"""Ensembles: several trained models of one split answering together.

An ensemble is a run folder like any other (`checkpoints/ensemble-sum/<split>/`), holding
`ensemble.json` (its rule and members) instead of weights. It classifies new audio
(`mgc.classify(..., model="ensemble-sum")`), is evaluated and cached like a single model, and is
built from the members' **validation** predictions only — the test part is never looked at.

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

import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checkpoints import read_json, run_dir, write_json
from .dataset import GTZAN, labels_of
from .errors import CheckpointError, DatasetError

RULES = ("sum", "product", "vote", "best")
ENSEMBLES = {f"ensemble-{rule}": rule for rule in RULES}
"""Run name → rule."""
DEFAULT_MEMBERS = ("crnn", "cnn", "lstm", "mlp", "logreg", "hybrid")
"""Members when none are named: the zoo's single models that are trained on the split (the four
seed MLPs are represented by `mlp`, the best of them by validation). The hybrid reads a picture
run's embedding, so it is not independent of that run: the choice on validation decides whether
it adds anything."""
ENSEMBLE_FILE = "ensemble.json"
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
        from .checkpoints import load_model
        from .models import parameter_count

        counted = {}
        for member in self.members:
            network, saved = load_model(member, split)
            counted[member] = parameter_count(network)
            if saved["family"] == "hybrid":
                counted[network.config.picture_model] = parameter_count(network.picture)
                counted[member] -= counted[network.config.picture_model]
        return sum(counted.values())

    def outputs(self, split: str, dataset: GTZAN, tracks) -> tuple[list, list, np.ndarray, np.ndarray]:
        """Like `mgc.evaluation.run_outputs`: (tracks found, missing, probabilities, embeddings).

        A track counts as found when every member can read it; the embedding is the members'
        embeddings side by side.
        """
        found, probabilities, embeddings = member_outputs(self.members, split, dataset, tracks)
        missing = [t for t in tracks if t not in set(found)]
        return found, missing, combine(probabilities, self.rule), np.concatenate(embeddings, axis=1)


def member_outputs(members, split: str, dataset: GTZAN, tracks) -> tuple[list, np.ndarray, list[np.ndarray]]:
    """Each member on the tracks they can all read: (tracks, probabilities (members, tracks, genres), embeddings)."""
    from .checkpoints import load_model
    from .evaluation import run_outputs

    results = {}
    for member in members:
        network, saved = load_model(member, split)
        present, _, probabilities, embeddings = run_outputs(network, saved["family"], dataset, tracks)
        results[member] = dict(zip(present, zip(probabilities, embeddings)))
    common = [t for t in tracks if all(t in by_track for by_track in results.values())]
    if not common:
        raise DatasetError(f"no track of the {split} split can be read by every member ({', '.join(members)})")
    probabilities = np.stack([[results[m][t][0] for t in common] for m in members])
    embeddings = [np.stack([results[m][t][1] for t in common]) for m in members]
    return common, probabilities, embeddings


def is_ensemble(model: str, split: str) -> bool:
    return (run_dir(model, split) / ENSEMBLE_FILE).is_file()


def load_ensemble(model: str, split: str) -> Ensemble:
    path = run_dir(model, split) / ENSEMBLE_FILE
    if not path.is_file():
        raise CheckpointError(f"no ensemble '{model}' for the {split} split at {path}: build it with "
                              f"`python -m mgc train --model {model} --split {split}`")
    saved = read_json(path)
    return Ensemble(model, saved["rule"], tuple(saved["members"]))


def build_ensemble(name: str, split: str, data: str | Path | None = None, members=None,
                   out_dir: Path | None = None) -> Path:
    """Choose and save ensemble `name` (ensemble-sum, -product, -vote or -best) from the members' validation predictions."""
    from .checkpoints import trained_models

    if name not in ENSEMBLES:
        raise KeyError(f"unknown ensemble {name!r}; known: {', '.join(ENSEMBLES)}")
    rule = ENSEMBLES[name]
    trained = set(trained_models(split))
    members = tuple(m for m in (members or DEFAULT_MEMBERS) if m in trained)
    if len(members) < 2:
        raise CheckpointError(f"an ensemble needs two or more trained members on the {split} split; "
                              f"found {', '.join(members) or 'none'} of {', '.join(DEFAULT_MEMBERS)}")
    started = time.perf_counter()
    dataset = GTZAN(data)
    valid, probabilities, _ = member_outputs(members, split, dataset, dataset.split(split).valid)
    labels = labels_of(valid)
    tried = []
    subsets = [members] if rule != "best" else [s for k in range(2, len(members) + 1)
                                                 for s in itertools.combinations(members, k)]
    for subset in subsets:
        combined = combine(probabilities[[members.index(m) for m in subset]], rule)
        tried.append({"members": list(subset), "valid_accuracy": float((combined.argmax(1) == labels).mean()),
                      "valid_loss": log_loss(labels, combined)})
    chosen = max(tried, key=lambda t: (t["valid_accuracy"], -t["valid_loss"], -len(t["members"])))
    out_dir = Path(out_dir or run_dir(name, split))
    out_dir.mkdir(parents=True, exist_ok=True)
    member_valid = {m: float((probabilities[i].argmax(1) == labels).mean()) for i, m in enumerate(members)}
    write_json(out_dir / ENSEMBLE_FILE, {"rule": rule, "members": chosen["members"]})
    write_json(out_dir / "training.json", {
        "model": name, "family": "ensemble", "split": split, "rule": rule, "members": chosen["members"],
        "candidates": list(members), "member_valid_accuracy": member_valid, "valid_tracks": len(valid),
        "best_valid_accuracy": chosen["valid_accuracy"], "best_valid_loss": chosen["valid_loss"],
        "subsets_tried": len(tried), "train_seconds": round(time.perf_counter() - started, 1),
    })
    print(f"{name} on the {split} split: {rule} of {', '.join(chosen['members'])} "
          f"(valid accuracy {chosen['valid_accuracy']:.3f}); wrote {out_dir}")
    return out_dir
