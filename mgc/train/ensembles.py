"""Building an ensemble (`mgc.runs.ensembles`): its members chosen from their **validation** predictions.

The test part is never looked at. `ensemble-best` tries every subset of two or more candidates; the
other rules take every candidate trained on the split.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from ..data.gtzan import GTZAN, labels_of
from ..errors import CheckpointError
from ..runs.checkpoints import forget_calibration, run_dir, trained_models, write_json
from ..runs.ensembles import DEFAULT_MEMBERS, ENSEMBLE_FILE, ENSEMBLES, combine, log_loss
from ..runs.outputs import member_outputs


def build_ensemble(
    name: str, split: str, data: str | Path | None = None, members=None, out_dir: Path | None = None
) -> Path:
    """Choose and save ensemble `name` (ensemble-sum, -product, -vote or -best) from its members' validation
    predictions."""
    if name not in ENSEMBLES:
        raise KeyError(f"unknown ensemble {name!r}; known: {', '.join(ENSEMBLES)}")
    rule = ENSEMBLES[name]
    trained = set(trained_models(split))
    members = tuple(m for m in (members or DEFAULT_MEMBERS) if m in trained)
    if len(members) < 2:
        raise CheckpointError(
            f"an ensemble needs two or more trained members on the {split} split; "
            f"found {', '.join(members) or 'none'} of {', '.join(DEFAULT_MEMBERS)}"
        )
    started = time.perf_counter()
    dataset = GTZAN(data)
    valid, probabilities, _ = member_outputs(members, split, dataset, dataset.split(split).valid)
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
        out_dir / "training.json",
        {
            "model": name,
            "family": "ensemble",
            "split": split,
            "rule": rule,
            "members": chosen["members"],
            "candidates": list(members),
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
