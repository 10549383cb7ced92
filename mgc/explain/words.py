"""Words for students: a glossary, one plain line per model, what each model reads, and the models a class sees first.

Plain data and small functions, so the pages show the same words everywhere (as `help=` tooltips and captions)
and a test can read them. The model lines say what a model *does*, not how well: the numbers are on the pages.
"""

from __future__ import annotations

import re

from ..frontends import FrontEnd
from ..models import FAMILIES, family
from ..runs.run import locate
from ..runs.table import RUNS, TABLE

GLOSSARY: dict[str, str] = {
    "split": (
        "How the 1000 GTZAN clips were divided: most to learn from (training), a few to decide when to stop "
        "(validation), and the rest to test on — music the model never heard. The random split shares artists "
        "between the sides and flatters every model; the fault-filtered split keeps each artist on one side, "
        "so it is the honest number."
    ),
    "accuracy": "The share of test tracks whose top genre is the right one. Guessing gives 10 %.",
    "interval": (
        "The 95 % interval of an accuracy: the range the model's true accuracy most likely lies in, "
        "given how many test tracks it was measured on. 33 clips leave it wide; 200 narrow it."
    ),
    "f1": (
        "F1 of a genre: the balance of precision (when it says jazz, how often it is jazz) and recall (of the jazz "
        "tracks, how many it finds). Macro F1 is the mean over the ten genres; 1 is perfect."
    ),
    "auc": (
        "ROC AUC: pick a track of a genre and one of another genre; AUC is how often the model gives the first "
        "the higher score for that genre. 0.5 is guessing, 1 is perfect. Macro: the mean over the ten genres."
    ),
    "ap": (
        "Average precision (AP): how precise the model stays as it finds more and more tracks of a genre — the "
        "area under the precision-recall curve. Guessing gives about 0.1 here, 1 is perfect."
    ),
    "saliency": (
        "Gradient × input: for each point of the spectrogram, how much it raised (red) or lowered (blue) the "
        "model's score for the genre. It shows where the model listened, not why the genre is right."
    ),
    "test track": "This run never heard it in training: its answer shows how the model does on new music.",
    "training track": "This run learnt from it: a right answer here says little about how good the model is.",
    "validation track": "This run did not learn from it, but it was used to decide when to stop training.",
    "not in split": "The fault-filtered split leaves this clip out (GTZAN repeats or mislabels it).",
    "not sure": (
        "The top two genres are so close that, on the tracks the model was checked on, its first choice was right "
        "less than half the time: the answer is one of the two, and the model cannot tell which."
    ),
    "calibration": (
        "A model is calibrated when its confidence means what it says: of the answers given with 80 % "
        "confidence, about 80 % are right. Each model's probabilities are adjusted once (temperature scaling, "
        "fitted on the validation tracks) so that they do; its answers stay the same."
    ),
    "ece": (
        "Expected calibration error: the average gap between how confident the model is and how often it is "
        "right, over its test tracks. 0 is perfectly honest; 0.05 means confidence is off by 5 points on average."
    ),
    "not music": (
        "Before any model answers, a separate check (a voice detector and measurements of beat, pauses and "
        "noise, fitted on music, speech and other sounds) decides whether the sound is music at all."
    ),
}
"""Term → one or two plain sentences; the pages use them as tooltips."""

_OPTIMISERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
_MLP_VARIANT = re.compile(r"^mlp-(?P<width>\d+)(?:-(?P<optimiser>[a-z]+))?$")


def describe_model(name: str) -> str:
    """One plain line on what the model `name` is, for a student (its row in `mgc.runs.table`); a generic line for
    a name the table does not know."""
    if name in TABLE:
        return TABLE[name].description
    if match := _MLP_VARIANT.match(name):  # an MLP recipe trained by hand, beside the table's four
        optimiser = _OPTIMISERS.get(match["optimiser"] or "adam", match["optimiser"])
        return (
            f"A neural network on the 57 numbers, {match['width']} units wide at the start, trained with "
            f"{optimiser}: one of the four recipes mlp was chosen from."
        )
    return "A trained model (no description yet)."


def _front_ends() -> dict[str, FrontEnd]:
    """Each kind of input → the front end of the first family (in registry order) that reads it."""
    found: dict[str, FrontEnd] = {}
    for f in FAMILIES.values():
        found.setdefault(getattr(f.frontend, "kind", None), f.frontend)
    found.pop(None, None)
    return found


READS: dict[str, str] = {kind: frontend.reads for kind, frontend in _front_ends().items()}
"""What a model reads, by its front end's `kind`: "picture", "features", "both", "audio" or "seed" (the words of
the first front end of that kind, `mgc.frontends.FrontEnd.reads`; a run's own are its front end's: `run_reads`)."""
READS_SHORT: dict[str, str] = {kind: frontend.reads_short for kind, frontend in _front_ends().items()}


def input_kind(family_name: str) -> str:
    """What a model family reads, by its front end's `kind`: "picture", "features", "both", "audio" (musicnn's
    patches) or "seed" (the seeds' log-mel); `TypeError` for a front end that does not say what it reads."""
    frontend = family(family_name).frontend
    kind = getattr(frontend, "kind", None)
    if not isinstance(kind, str) or not isinstance(getattr(frontend, "reads", None), str):
        raise TypeError(f"the front end {frontend!r} of {family_name!r} does not say what it reads (kind, reads)")
    return kind


def run_frontends(model: str, split: str) -> dict[str, FrontEnd]:
    """Each single model of a run (an ensemble's members, else the run itself) → its front end, checked to say
    what it reads (`input_kind`)."""
    run = locate(model, split)
    families = {single.name: single.load()[1]["family"] for single in run.members or (run,)}
    for name in families.values():
        input_kind(name)
    return {member: family(name).frontend for member, name in families.items()}


def run_inputs(model: str, split: str) -> dict[str, str]:
    """Each single model of a run (an ensemble's members, else the run itself) → what it reads (`input_kind`)."""
    return {member: frontend.kind for member, frontend in run_frontends(model, split).items()}


def run_reads_short(model: str, split: str) -> str:
    """What the run's models read, in a few words ("the spectrogram, about 10 seconds at a time and …")."""
    return " and ".join(sorted({frontend.reads_short for frontend in run_frontends(model, split).values()}))


def what_it_reads(model: str, split: str) -> str:
    """A sentence for a student: what the run `model` of `split` reads of the audio (its front ends' words)."""
    frontends = run_frontends(model, split)
    if len(frontends) == 1:
        return f"{model} reads {next(iter(frontends.values())).reads}."
    parts = "; ".join(f"{member} reads {frontend.reads_short}" for member, frontend in frontends.items())
    return f"{model} combines {len(frontends)} models: {parts}."


def student_models(metrics: dict[tuple[str, str], dict], split: str) -> list[str]:
    """The models a class sees first, in the order of their `picker` place in `mgc.runs.table` (the CRNN, the
    ensemble with the best test accuracy on `split`, one feature model) — those of them that are trained. Several
    rows share a place (the ensembles): the one with the best test accuracy on `split` fills it. `metrics` is
    (model, split) → metrics.json."""
    chosen = []
    for place in sorted({r.picker for r in RUNS if r.picker}):
        scores = {
            r.name: record["accuracy"]
            for r in RUNS
            if r.picker == place and "accuracy" in (record := metrics.get((r.name, split), {}))
        }
        sharing = [r.name for r in RUNS if r.picker == place]
        if len(sharing) > 1:
            if scores:
                chosen.append(max(sorted(scores), key=scores.get))
        elif any(m == sharing[0] for m, _ in metrics):
            chosen.append(sharing[0])
    return chosen
