"""The real-world benchmark: every run on its split's test clips that have audio, clean and under each
listening condition (`mgc.conditions`), cached as `robustness.json` in the run folder.

The clips are the test part's tracks with audio in the data folder (here 33 of the random split's 200,
all 200 for a user with Kaggle's full download), so every figure carries its clip count and a Wilson 95 %
interval. Each clip is degraded once per condition and its front-end inputs (mel picture, 57 features)
are computed once; every run of the split then reads the same inputs, so the runs are compared on the
very same sounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import conditions as listening
from ..data.audio import Audio, load_audio
from ..data.gtzan import GENRES, GTZAN, genre_of
from ..errors import DatasetError
from ..frontends import InputsOf
from ..runs.checkpoints import ROBUSTNESS_FILE, TRAINING_FILE, read_json, run_dir, write_json
from ..runs.outputs import audio_outputs
from .metrics import mcnemar, wilson_interval


def clips_with_audio(dataset: GTZAN, split: str, part: str = "test") -> list[str]:
    """The tracks of `split`'s `part` (test or valid) that have audio in the data folder, sorted."""
    return [t for t in getattr(dataset.split(split), part) if t in dataset.audio]


def measure(
    models: list[str],
    split: str,
    data: str | Path | None = None,
    names=None,
    out: bool = True,
    part: str = "test",
) -> dict:
    """Run `models` (of `split`) on every clip with audio of its `part` (the test part; "valid" to choose between
    runs, never written), clean and under each condition in `names` (default: all of `mgc.conditions.CONDITIONS`);
    returns {model: record} and, with `out`, writes each test record to the run's robustness.json (see `record`)."""
    if out and part != "test":
        raise ValueError("robustness.json holds the test part; measure another part with out=False")
    names = list(names or listening.CONDITIONS)
    if "clean" not in names:
        names.insert(0, "clean")
    dataset = GTZAN(data)
    clips = clips_with_audio(dataset, split, part)
    if not clips:
        raise DatasetError(f"no track of the {split} split's {part} part has audio in {dataset.root}")
    answers = {model: {name: [] for name in names} for model in models}
    for clip in tqdm(clips, desc=f"robustness, {split} split, {part} part", unit="clip"):
        clean = load_audio(dataset.audio[clip])
        for name in names:
            samples = listening.apply(name, clean.samples)
            inputs = InputsOf(Audio(samples, clean.sample_rate, len(samples) / clean.sample_rate, clean.sample_rate, 1))
            for model in models:
                genre = GENRES[int(np.argmax(audio_outputs(model, split, inputs).probabilities))]
                answers[model][name].append(genre)
    records = {model: record(model, split, clips, answers[model]) for model in models}
    if out:
        for model, rec in records.items():
            write_json(run_dir(model, split) / ROBUSTNESS_FILE, rec)
    return records


def record(model: str, split: str, clips: list[str], answers: dict[str, list[str]]) -> dict:
    """robustness.json: per condition the clips right, the accuracy and its Wilson 95 % interval, and each
    clip's answer (so two runs can be compared clip by clip)."""
    truth = [genre_of(t) for t in clips]
    result = {"model": model, "split": split, "clips": len(clips), "tracks": clips, "conditions": {}}
    training = run_dir(model, split) / TRAINING_FILE
    if training.is_file():
        result["recipe"] = read_json(training).get("recipe", "clean")
    for name, given in answers.items():
        correct = sum(a == t for a, t in zip(given, truth))
        low, high = wilson_interval(correct, len(clips))
        result["conditions"][name] = {
            "label": listening.CONDITIONS[name].label,
            "correct": correct,
            "accuracy": correct / len(clips),
            "ci_low": low,
            "ci_high": high,
            "answers": given,
        }
    return result


def load(model: str, split: str, root: Path | None = None) -> dict | None:
    """A run's cached robustness.json, or None when it has not been measured."""
    path = run_dir(model, split, root) / ROBUSTNESS_FILE
    return read_json(path) if path.is_file() else None


RECORDING_CONDITION = "classroom"
"""The condition a recording in a room is judged by: a speaker, the room, people, a laptop microphone, a codec."""


@dataclass(frozen=True)
class Suggestion:
    """A run that hears recordings measurably better than the one in use, on the same clips."""

    model: str
    correct: int
    """Clips it gets right under `RECORDING_CONDITION` …"""
    current_correct: int
    """… and the run in use."""
    clips: int
    p_value: float
    """McNemar's exact test on the clips where the two disagree."""


def better_for_recordings(records: dict[tuple[str, str], dict], model: str, split: str) -> Suggestion | None:
    """Among the runs of `split` with a robustness.json (`records`: (model, split) → record), the one right on
    the most clips under the classroom chain — if it beats `model` there on the same clips by McNemar's test
    (p < 0.05) and gets at least half of them right; else None (also when `model` was never measured)."""
    current = records.get((model, split))
    if current is None or RECORDING_CONDITION not in current["conditions"]:
        return None
    truth = [genre_of(t) for t in current["tracks"]]

    def right(record: dict) -> np.ndarray:
        return np.array([a == t for a, t in zip(record["conditions"][RECORDING_CONDITION]["answers"], truth)])

    candidates = [
        (other, record)
        for (other, other_split), record in records.items()
        if other_split == split
        and other != model
        and record["tracks"] == current["tracks"]
        and RECORDING_CONDITION in record["conditions"]
    ]
    if not candidates:
        return None
    best, record = max(candidates, key=lambda c: (int(right(c[1]).sum()), c[0]))
    ours, theirs = right(current), right(record)
    test = mcnemar(theirs, ours)
    if theirs.sum() <= ours.sum() or test["p_value"] >= 0.05 or 2 * theirs.sum() < len(truth):
        return None
    return Suggestion(best, int(theirs.sum()), int(ours.sum()), len(truth), test["p_value"])


def table(records: dict[str, dict]) -> str:
    """A markdown table: one row per condition, one column per model (accuracy and 95 % interval)."""
    models = list(records)
    first = next(iter(records.values()))
    lines = [
        f"{first['clips']} test clips with audio, {first['split']} split; accuracy [Wilson 95 % interval]",
        "",
        "| condition | " + " | ".join(models) + " |",
        "| --- |" + " ---: |" * len(models),
    ]
    for name, condition in first["conditions"].items():
        cells = []
        for model in models:
            c = records[model]["conditions"].get(name)
            cells.append("—" if c is None else f"{c['accuracy']:.0%} [{c['ci_low']:.0%}–{c['ci_high']:.0%}]")
        lines.append(f"| {condition['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
