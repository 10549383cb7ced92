"""How far can training on the classroom chain itself take a picture model? An upper bound for the robust recipe.

The robust recipe fine-tunes a clean run with picture-domain conditions and, for the train tracks with audio,
renders of that audio through random listening chains (`mgc.conditions.random_chain`). Here the renders are made
with the benchmark's own classroom chain instead — the same phone speaker, room, laptop microphone and codec as
`mgc.conditions.classroom`, only other babble and hum for each render — so the fine-tuning sees the very chain
it is then tested on. Selection stays on the validation part: the tool prints how many of its clips with audio
the run gets right under each condition (`--validate ROOT` does the same for the runs already in ROOT, e.g. the
shipped `checkpoints`); the test part is `MGC_CHECKPOINTS=OUT python -m mgc robustness --model crnn`.

    python tools/classroom_oracle.py --out /tmp/oracle [--clean RUN_DIR] [--renders 8] [--share 1.0]
    python tools/classroom_oracle.py --validate checkpoints
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from unittest import mock

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc import conditions
from mgc.evaluate import robustness
from mgc.train import picture_conditions
from mgc.train.pictures import TrainConfig, robust_fine_tuning, train_picture_model


def classroom_with_other_noise(samples: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`mgc.conditions.classroom` with babble and hum drawn from `rng` instead of the benchmark's seeds."""
    babble_seed, hum_seed = (int(seed) for seed in rng.integers(10**6, 10**7, 2))
    return conditions.classroom(samples, babble_seed, hum_seed)


def fine_tune_on_the_classroom(family: str, split: str, clean: Path, out: Path, renders: int, share: float) -> Path:
    """The robust recipe's second stage from the clean run `clean`, its audio renders made with the classroom chain."""
    config = robust_fine_tuning(clean)
    config.degraded_renders, config.degraded_share = renders, share
    with (
        mock.patch.object(conditions, "random_chain", classroom_with_other_noise),
        mock.patch.object(picture_conditions, "RENDERS_VERSION", "classroom-oracle-v1"),  # its own render cache
    ):
        return train_picture_model(family, split, config=config, out_dir=out / family / split)


def validation_right(model: str, split: str, root: Path) -> dict[str, int]:
    """How many of `split`'s validation clips with audio the run `model` in `root` gets right, per condition."""
    os.environ["MGC_CHECKPOINTS"] = str(root)
    record = robustness.measure([model], split, out=False, part="valid")[model]
    right = {name: condition["correct"] for name, condition in record["conditions"].items()}
    print(f"{model} ({split}) in {root}: of {record['clips']} validation clips with audio, right under each condition")
    for name, count in right.items():
        print(f"  {name:20s} {count:3d}")
    print(f"  {'all conditions':20s} {sum(right.values()):3d} of {record['clips'] * len(right)}")
    return right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", default="crnn")
    parser.add_argument("--split", default="random", choices=("random", "filtered"))
    parser.add_argument("--out", type=Path, help="a checkpoints folder for the clean and the fine-tuned run")
    parser.add_argument("--clean", type=Path, help="a clean run folder to start from (default: train one in OUT)")
    parser.add_argument("--renders", type=int, default=8, help="classroom renders of each train track with audio")
    parser.add_argument("--share", type=float, default=1.0, help="how often such a track is seen through one")
    parser.add_argument("--validate", type=Path, help="only count the validation clips for the runs in this folder")
    args = parser.parse_args()
    if args.validate:
        validation_right(args.family, args.split, args.validate.resolve())
        return
    if args.out is None:
        parser.error("--out is needed to train")
    out = args.out.resolve()
    clean = args.clean or train_picture_model(
        args.family, args.split, config=TrainConfig(), out_dir=out / "clean" / args.family / args.split
    )
    fine_tune_on_the_classroom(args.family, args.split, clean, out, args.renders, args.share)
    validation_right(args.family, args.split, out)


if __name__ == "__main__":
    main()
