"""The real-world benchmark: every run on its split's test clips that have audio, clean and under each
listening condition (`mgc.conditions`), cached as `robustness.json` in the run folder.

The clips are the test part's tracks with audio in the data folder (here 33 of the random split's 200,
all 200 for a user with Kaggle's full download), so every figure carries its clip count and a Wilson 95 %
interval. Each clip is degraded once per condition and its front-end inputs (mel picture, 57 features)
are computed once; every run of the split then reads the same inputs, so the runs are compared on the
very same sounds. A run that reads musicnn's pass (`mgc.models.musicnn_pass.MUSICNN_PASS`, the GRU with pretrained
ears) answers from that pass alone, and each degraded clip's pass is kept on disk (`PassCache`): on two shared cores
degrading a clip 19 ways and running musicnn on each takes most of an hour, and a retrained GRU reads the very same
passes, so it is measured again in seconds.
"""

from __future__ import annotations

import hashlib
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import conditions as listening
from ..data.audio import Audio, load_audio
from ..data.gtzan import GENRES, GTZAN, genre_of
from ..errors import CheckpointError, DatasetError
from ..frontends import InputsOf
from ..frontends.picture import default_cache_dir
from ..models import family
from ..models.musicnn_pass import MUSICNN_PASS, MusicnnPass
from ..runs.checkpoints import ROBUSTNESS_FILE, TRAINING_FILE, read_json, run_digest, run_dir, write_json
from ..runs.outputs import audio_outputs, window_outputs
from ..runs.run import locate
from ..runs.table import default_run, names
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
    runs, never written), clean and under each condition in `names` (default: every one of `mgc.conditions.CONDITIONS`
    that can be measured here: `available_conditions`); returns {model: record} and, with `out`, writes each test
    record to the run's robustness.json (see `record`), keeping the conditions it held for the same weights and
    clips that were not measured again (a new condition is measured alone)."""
    if out and part != "test":
        raise ValueError("robustness.json holds the test part; measure another part with out=False")
    available = listening.available_conditions()
    names = list(names or available)
    unknown = [n for n in names if n not in listening.CONDITIONS]
    if unknown:
        raise DatasetError(f"unknown condition {unknown[0]!r}; known: {', '.join(listening.CONDITIONS)}")
    skipped = [n for n in names if n not in available]
    if skipped:
        print(f"left out (they need the sounds folder, ir/ and noise/; set MGC_SOUNDS): {', '.join(skipped)}")
        names = [n for n in names if n in available]
    if "clean" not in names:
        names.insert(0, "clean")
    dataset = GTZAN(data)
    clips = clips_with_audio(dataset, split, part)
    if not clips:
        raise DatasetError(f"no track of the {split} split's {part} part has audio in {dataset.root}")
    answers = {model: {name: [] for name in names} for model in models}
    on_pass = [m for m in models if reads_the_pass(m, split)]
    others = [m for m in models if m not in on_pass]
    cache = PassCache()
    for clip in tqdm(clips, desc=f"robustness, {split} split, {part} part", unit="clip"):
        path = dataset.audio[clip]
        clean = None
        for name in names:
            the_pass = cache.get(path, name) if on_pass else None
            inputs = None
            if others or the_pass is None:  # the condition is rendered only for a run that needs the sound
                clean = clean if clean is not None else load_audio(path)
                samples = listening.apply(name, clean.samples)
                audio = Audio(samples, clean.sample_rate, len(samples) / clean.sample_rate, clean.sample_rate, 1)
                inputs = InputsOf(audio)
                if the_pass is not None:
                    inputs.provide(MUSICNN_PASS, the_pass)
                elif on_pass:
                    the_pass = inputs(MUSICNN_PASS)
                    cache.put(path, name, the_pass)
            for model in models:
                if model in on_pass:
                    probabilities = pass_probabilities(model, split, the_pass)
                else:
                    probabilities = audio_outputs(model, split, inputs).probabilities
                answers[model][name].append(GENRES[int(np.argmax(probabilities))])
    records = {model: record(model, split, clips, answers[model]) for model in models}
    if out:
        for model, rec in records.items():
            write_json(run_dir(model, split) / ROBUSTNESS_FILE, merged(load(model, split), rec))
    return records


def reads_the_pass(model: str, split: str) -> bool:
    """Whether run `model` of `split` is a single model whose family reads musicnn's pass (no picture, no features)."""
    run = locate(model, split)
    if run.ensemble is not None:
        return False
    _, saved = run.load()
    return family(saved["family"]).frontend is MUSICNN_PASS


def pass_probabilities(model: str, split: str, the_pass: MusicnnPass) -> np.ndarray:
    """Run `model`'s track-level probabilities from musicnn's pass of the audio: the mean over its patches, as
    `mgc.runs.outputs.audio_outputs` gives them (its calibration's temperature keeps the order of the genres, so the
    answer is the same and is left out)."""
    network, _ = locate(model, split).load()
    probabilities, _ = window_outputs(network, MUSICNN_PASS, the_pass)
    return probabilities.mean(axis=0)


class PassCache:
    """musicnn's pass of each test clip under each condition, on disk in `$MGC_CACHE/robustness-passes/`. A pass is
    found again only for the same clip file (name, size, modification time), the same conditions (`mgc.conditions.
    VERSION`, the sounds folder's held-out files, pedalboard's and pyroomacoustics' versions) and the same pass
    (`MUSICNN_PASS.version`: the log-mel and the weights). Not the conditions' source text: a docstring edited while
    a long measurement runs would orphan every pass it kept."""

    def __init__(self, folder: Path | None = None):
        import pedalboard
        import pyroomacoustics

        self.folder = Path(folder or default_cache_dir() / "robustness-passes")
        held_out = listening.real_sounds("held_out")
        self.recipe = "|".join(
            (
                listening.VERSION,
                ",".join(held_out.names) if held_out else "",
                pedalboard.__version__,
                pyroomacoustics.__version__,
                MUSICNN_PASS.version,
            )
        )

    def _file(self, path: Path, condition: str) -> Path:
        stat = Path(path).stat()
        key = f"{self.recipe}|{Path(path).resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{condition}"
        return self.folder / f"{Path(path).stem}-{condition}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.npz"

    def get(self, path: Path, condition: str) -> MusicnnPass | None:
        """The pass of clip `path` under `condition` kept before, or None."""
        file = self._file(path, condition)
        if not file.is_file():
            return None
        try:
            with np.load(file) as saved:
                return MusicnnPass(saved["embedding"], saved["taggram"], tuple(str(t) for t in saved["tags"]))
        except (OSError, ValueError, KeyError):  # a damaged file is measured again
            return None

    def put(self, path: Path, condition: str, the_pass: MusicnnPass) -> None:
        file = self._file(path, condition)
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_suffix(".partial.npz")
        np.savez(partial, embedding=the_pass.embedding, taggram=the_pass.taggram, tags=np.array(the_pass.tags))
        partial.replace(file)  # whole or not at all: two measurements may run at once


def merged(before: dict | None, new: dict) -> dict:
    """`new` with the conditions of `before` (the run's robustness.json) it did not measure, when both are of the
    same weights (`weights`) on the same clips; `new` alone otherwise. Order: clean first, then as `CONDITIONS`."""
    if not before or before.get("weights") != new.get("weights") or before.get("tracks") != new.get("tracks"):
        return new
    conditions = {**before["conditions"], **new["conditions"]}
    order = [n for n in listening.CONDITIONS if n in conditions] + [
        n for n in conditions if n not in listening.CONDITIONS
    ]
    return {**new, "conditions": {n: conditions[n] for n in order}}


def record(model: str, split: str, clips: list[str], answers: dict[str, list[str]]) -> dict:
    """robustness.json: per condition the clips right, the accuracy and its Wilson 95 % interval, and each
    clip's answer (so two runs can be compared clip by clip); `weights`, the digest of the weights measured."""
    truth = [genre_of(t) for t in clips]
    result = {"model": model, "split": split, "clips": len(clips), "tracks": clips, "conditions": {}}
    with suppress(CheckpointError):  # an ensemble has no weights of its own
        result["weights"] = run_digest(model, split)
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


LISTENING_CONDITIONS = ("classroom", "laptop_microphone")
"""What the default for uploads and recordings must hear better than the picture CRNN: the whole classroom chain and a
laptop's microphone."""
SIGNIFICANCE = 0.05


def _right(record: dict, condition: str) -> np.ndarray:
    truth = [genre_of(t) for t in record["tracks"]]
    return np.array([a == t for a, t in zip(record["conditions"][condition]["answers"], truth)])


@dataclass(frozen=True)
class Comparison:
    """Two runs under one condition on the same clips: each one's clips right, and McNemar's exact p."""

    condition: str
    correct: int
    reference_correct: int
    p_value: float

    @property
    def better(self) -> bool:
        return self.correct > self.reference_correct and self.p_value < SIGNIFICANCE

    @property
    def worse(self) -> bool:
        return self.correct < self.reference_correct and self.p_value < SIGNIFICANCE


def compare(record: dict, reference: dict, condition: str) -> Comparison:
    """`record` against `reference` (robustness.json records of the same clips) under `condition`."""
    ours, theirs = _right(record, condition), _right(reference, condition)
    return Comparison(condition, int(ours.sum()), int(theirs.sum()), mcnemar(ours, theirs)["p_value"])


@dataclass(frozen=True)
class ListeningDefault:
    """The run Classify uses by default for uploads, examples and recordings, and the measurements that chose it."""

    model: str
    reference: str
    """The picture CRNN: the app's model otherwise (`mgc.runs.table.default_run`)."""
    clips: int
    comparisons: tuple[Comparison, ...] = ()
    """Clean first, then `LISTENING_CONDITIONS`; empty when no candidate qualified (`model` is the reference)."""
    best_other: tuple[str, int] | None = None
    """A run of the split right on more clips under the classroom chain than `model` (name, clips right), if any."""

    @property
    def measured(self) -> bool:
        return self.model != self.reference

    def reason(self) -> str:
        """One plain line: why this run hears recordings best (or why the picture CRNN stays)."""
        if not self.measured:
            return (
                f"{self.model} is the default: no other run was measured to hear a classroom and a laptop microphone "
                f"better without being worse on the clean clips."
            )
        clean, *heard = self.comparisons
        parts = [
            f"{c.correct} of {self.clips} clips through {_words(c.condition)} ({self.reference}: {c.reference_correct})"
            for c in heard
        ]
        line = (
            f"{self.model} hears recordings best: it gets {' and '.join(parts)}, and {clean.correct} clean "
            f"({self.reference}: {clean.reference_correct}) of the same test clips; the first two differences are "
            f"beyond chance (McNemar p < {SIGNIFICANCE})."
        )
        if self.best_other is not None:
            other, correct = self.best_other
            line += f" ({other} gets {correct} through a classroom: more, but within chance.)"
        return line


def _words(condition: str) -> str:
    return {"classroom": "a classroom", "laptop_microphone": "a laptop microphone"}.get(
        condition, listening.CONDITIONS[condition].label
    )


def listening_default(
    records: dict[tuple[str, str], dict], split: str, candidates: tuple[str, ...], reference: str
) -> ListeningDefault:
    """The default run for uploads, examples and recordings of `split`, by measurement: the first of `candidates` (in
    order of preference) whose robustness.json (`records`: (model, split) → record) covers the same clips as
    `reference`'s and that is (a) not measurably worse than `reference` on them clean and (b) measurably better under
    each of `LISTENING_CONDITIONS` (McNemar's exact test, p < 0.05); `reference` when none is."""
    base = records.get((reference, split))
    needed = ("clean", *LISTENING_CONDITIONS)
    if base is None or any(n not in base["conditions"] for n in needed):
        return ListeningDefault(reference, reference, 0)
    for model in candidates:
        record = records.get((model, split))
        if model == reference or record is None or record["tracks"] != base["tracks"]:
            continue
        if any(n not in record["conditions"] for n in needed):
            continue
        comparisons = tuple(compare(record, base, n) for n in needed)
        clean, *heard = comparisons
        if clean.worse or not all(c.better for c in heard):
            continue
        rivals = [
            (other, r)
            for (other, other_split), r in records.items()
            if other_split == split
            and other not in (model, reference)
            and r["tracks"] == base["tracks"]
            and RECORDING_CONDITION in r["conditions"]
        ]
        best_other = None
        if rivals:
            other, rival = max(rivals, key=lambda o: (int(_right(o[1], RECORDING_CONDITION).sum()), o[0]))
            against = compare(record, rival, RECORDING_CONDITION)
            if against.worse:  # a run measurably better in a classroom: the next candidate, if any, gets its chance
                continue
            if against.reference_correct > against.correct:
                best_other = (other, against.reference_correct)
        return ListeningDefault(model, reference, len(base["tracks"]), comparisons, best_other)
    return ListeningDefault(reference, reference, len(base["tracks"]))


def classify_default(records: dict[tuple[str, str], dict], split: str) -> ListeningDefault:
    """`listening_default` over the run table: the reference is its default run (`default_run`, the picture CRNN), the
    candidates the other runs it marks for uploads and recordings, in the table's order."""
    reference = default_run("uploads")
    candidates = tuple(n for n in names(for_uploads=True, for_recordings=True) if n != reference)
    return listening_default(records, split, candidates, reference)


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
