"""Building an ensemble (`mgc.runs.ensembles`): its members chosen from their **validation** predictions.

The test part is never looked at. `ensemble-best` tries every subset of two or more candidates; the
other rules take every candidate trained on the split. The default candidates (`DEFAULT_MEMBERS`) must
read nearly as many of the split's validation tracks as the best-read of them (`FEWEST_READ`): an
ensemble answers only on the tracks all its members read, so a run of audio (the musicnn head) over a
folder where only some tracks have audio is left out — and said so — rather than shrink the ensemble to
those tracks. Named members are taken as named, on the tracks they all read.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from ..data.gtzan import GTZAN, labels_of
from ..errors import CheckpointError
from ..runs.checkpoints import TRAINING_FILE, forget_calibration, run_dir, trained_models, write_json
from ..runs.ensembles import DEFAULT_MEMBERS, ENSEMBLE_FILE, ENSEMBLES, combine, log_loss
from ..runs.outputs import common_outputs, each_member_outputs

FEWEST_READ = 0.9
"""A default candidate must read at least this share of the validation tracks that the best-read candidate reads."""


def build_ensemble(
    name: str, split: str, data: str | Path | None = None, members=None, out_dir: Path | None = None
) -> Path:
    """Choose and save ensemble `name` (ensemble-sum, -product, -vote or -best) from its members' validation
    predictions."""
    if name not in ENSEMBLES:
        raise KeyError(f"unknown ensemble {name!r}; known: {', '.join(ENSEMBLES)}")
    rule = ENSEMBLES[name]
    trained = set(trained_models(split))
    candidates = tuple(m for m in (members or DEFAULT_MEMBERS) if m in trained)
    _check_enough(candidates, split)
    started = time.perf_counter()
    dataset = GTZAN(data)
    tracks = dataset.split(split).valid
    outputs = each_member_outputs(candidates, split, dataset, tracks, readable_only=members is None)
    left_out = partly_read(outputs) if members is None else {}
    members = tuple(m for m in candidates if m not in left_out)
    for member, why in left_out.items():
        print(f"{name} on the {split} split: {member} left out: {why}")
    _check_enough(members, split)
    valid, probabilities, _ = common_outputs({m: outputs[m] for m in members}, split, tracks)
    labels = labels_of(valid)
    tried = []
    subsets = (
        [members]
        if rule != "best"
        else [s for k in range(2, len(members) + 1) for s in itertools.combinations(members, k)]
    )
    for subset in subsets:
        combined = combine(probabilities[[members.index(m) for m in subset]], rule)
        tried.append(
            {
                "members": list(subset),
                "valid_accuracy": float((combined.argmax(1) == labels).mean()),
                "valid_loss": log_loss(labels, combined),
            }
        )
    chosen = max(tried, key=lambda t: (t["valid_accuracy"], -t["valid_loss"], -len(t["members"])))
    out_dir = Path(out_dir or run_dir(name, split))
    out_dir.mkdir(parents=True, exist_ok=True)
    member_valid = {m: float((probabilities[i].argmax(1) == labels).mean()) for i, m in enumerate(members)}
    write_json(out_dir / ENSEMBLE_FILE, {"rule": rule, "members": chosen["members"]})
    forget_calibration(out_dir)
    write_json(
        out_dir / TRAINING_FILE,
        {
            "model": name,
            "family": "ensemble",
            "split": split,
            "rule": rule,
            "members": chosen["members"],
            "candidates": list(members),
            "left_out": left_out,  # candidates that read fewer validation tracks than the others, with why
            "member_valid_accuracy": member_valid,
            "valid_tracks": len(valid),
            "best_valid_accuracy": chosen["valid_accuracy"],
            "best_valid_loss": chosen["valid_loss"],
            "subsets_tried": len(tried),
            "train_seconds": round(time.perf_counter() - started, 1),
        },
    )
    print(
        f"{name} on the {split} split: {rule} of {', '.join(chosen['members'])} "
        f"(valid accuracy {chosen['valid_accuracy']:.3f}); wrote {out_dir}"
    )
    return out_dir


def _check_enough(members: tuple[str, ...], split: str) -> None:
    if len(members) < 2:
        raise CheckpointError(
            f"an ensemble needs two or more trained members on the {split} split; "
            f"found {', '.join(members) or 'none'} of {', '.join(DEFAULT_MEMBERS)}"
        )


def partly_read(outputs: dict[str, dict]) -> dict[str, str]:
    """The candidates that read less than `FEWEST_READ` of the validation tracks the best-read candidate reads, with
    why: candidate → "reads 16 of the 100 validation tracks the others read". (A picture model missing a track or
    two — Kaggle's download lacks one picture — stays: the ensemble then answers on the others, as before.)"""
    widest = max((len(by_track) for by_track in outputs.values()), default=0)
    return {
        member: f"reads {len(by_track)} of the {widest} validation tracks the others read"
        for member, by_track in outputs.items()
        if len(by_track) < FEWEST_READ * widest
    }
