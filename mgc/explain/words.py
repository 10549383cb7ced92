"""Words for students: a glossary, one plain line per model, what each model reads, and the models a class sees first.

Plain data and small functions, so the pages show the same words everywhere (as `help=` tooltips and captions)
and a test can read them. The model lines say what a model *does*, not how well: the numbers are on the pages.
"""

from __future__ import annotations

import re

from ..frontends import FEATURES, MUSICNN_INPUT, PICTURE, SEED_INPUT
from ..models import family
from ..runs import is_ensemble, load_ensemble, load_model

GLOSSARY: dict[str, str] = {
    "split": (
        "How the 1000 GTZAN clips were divided: most to learn from (training), a few to decide when to stop "
        "(validation), and the rest to test on — music the model never heard. The random split shares artists "
        "between the sides and flatters every model; the fault-filtered split keeps each artist on one side, "
        "so it is the honest number."
    ),
    "accuracy": "The share of test tracks whose top genre is the right one. Guessing gives 10 %.",
    "interval": (
        "The 95 % interval of an accuracy (Wilson's): the range the model's true accuracy most likely lies in, "
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

_MODELS: dict[str, str] = {
    "crnn": "Looks at a picture of the sound (a spectrogram) and follows it through time with a memory layer "
    "(a CRNN). The app's default.",
    "cnn": "Looks at a picture of the sound (a spectrogram) with layers of small pattern detectors (a CNN), "
    "then averages over time.",
    "cnn-lstm": "The CRNN with a different memory layer (LSTM cells instead of GRU cells).",
    "lstm": "Reads the spectrogram slice by slice with a memory layer (an LSTM), without pattern detectors.",
    "mlp": "A small neural network on 57 numbers that sum up the whole clip: tempo, loudness, brightness, timbre.",
    "logreg": "The simplest model: one weighted sum of the 57 numbers per genre (logistic regression).",
    "hybrid": "Combines the CRNN's summary of the spectrogram with the 57 numbers that sum up the clip.",
    "musicnn": "A network pretrained on ~200,000 songs (musicnn) listens 3 seconds at a time; only a small genre "
    "head on its summary was trained here, on the few clips whose audio we have.",
    "crnn-seed": "The CRNN trained here on its own spectrogram of the sound (96 bands at 12 kHz, as the seed "
    "projects drew it) instead of Kaggle's picture, from the few clips whose audio we have.",
    "ensemble-sum": "Several models answer together: their probabilities are averaged.",
    "ensemble-product": "Several models answer together: their probabilities are multiplied, so a genre wins "
    "only if no model rules it out.",
    "ensemble-vote": "Several models vote: each gives its top genre a vote as strong as its confidence.",
    "ensemble-best": "The group of models that did best together on the validation tracks, averaged.",
}
_OPTIMISERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}
_MLP_VARIANT = re.compile(r"^mlp-(?P<width>\d+)(?:-(?P<optimiser>[a-z]+))?$")
STUDENT_FEATURE_MODEL = "mlp"
STUDENT_PICTURE_MODEL = "crnn"


def describe_model(name: str) -> str:
    """One plain line on what the model `name` is, for a student; a generic line for a name it does not know."""
    if name in _MODELS:
        return _MODELS[name]
    if match := _MLP_VARIANT.match(name):
        optimiser = _OPTIMISERS.get(match["optimiser"] or "adam", match["optimiser"])
        return (
            f"A neural network on the 57 numbers, {match['width']} units wide at the start, trained with "
            f"{optimiser}: one of the four recipes mlp was chosen from."
        )
    if name.startswith("ensemble-"):
        return "Several models answer together."
    return "A trained model (no description yet)."


READS: dict[str, str] = {
    "picture": (
        "a picture of the sound: the mel spectrogram below, 128 pitch bands (low at the bottom) over time, "
        "about 10 seconds at a time in steps of 2.5 s — so it can change its mind over time"
    ),
    "features": (
        "57 numbers that sum up the whole clip — the tempo, and the average and the spread of its loudness, "
        "brightness (spectral centroid, bandwidth, roll-off), noisiness (zero crossings), harmony, percussion, "
        "pitch classes (chroma) and 20 timbre coefficients (MFCCs). It never sees the spectrogram, and it "
        "answers once for the whole clip"
    ),
    "both": (
        "both: the CRNN's summary of the spectrogram, about 10 seconds at a time, and the 57 numbers that sum "
        "up the whole clip"
    ),
    "audio": (
        "the sound itself, 3 seconds at a time, as musicnn hears it (its own 96-band spectrogram at 16 kHz): a "
        "network pretrained on ~200,000 songs sums up each 3 s in 200 numbers, and a small head trained here "
        "turns them into genres — so it can change its mind every 3 s"
    ),
    "seed": (
        "the sound itself, about 29 seconds at a time, as its own spectrogram (96 bands at 12 kHz, as the seed "
        "projects drew it) — so a 30-s clip gets one answer"
    ),
}
"""What a model reads, by its front end: "picture", "features", "both", "audio" or "seed"."""
READS_SHORT: dict[str, str] = {
    "picture": "the spectrogram, about 10 seconds at a time",
    "features": "the 57 numbers that sum up the whole clip",
    "both": "the CRNN's summary of the spectrogram and the 57 numbers",
    "audio": "musicnn's summary of each 3 seconds of the sound",
    "seed": "its own spectrogram of the sound, about 29 seconds at a time",
}


def input_kind(family_name: str) -> str:
    """ "picture", "features", "both", "audio" (musicnn's patches) or "seed" (the seeds' log-mel): what a model
    family reads (from its front end in the registry)."""
    frontend = family(family_name).frontend
    if frontend is PICTURE:
        return "picture"
    if frontend is FEATURES:
        return "features"
    if frontend is MUSICNN_INPUT:
        return "audio"
    if frontend is SEED_INPUT:
        return "seed"
    return "both"


def run_inputs(model: str, split: str) -> dict[str, str]:
    """Each single model of a run (an ensemble's members, else the run itself) → what it reads (`input_kind`)."""
    members = load_ensemble(model, split).members if is_ensemble(model, split) else (model,)
    return {member: input_kind(load_model(member, split)[1]["family"]) for member in members}


def what_it_reads(model: str, split: str) -> str:
    """A sentence for a student: what the run `model` of `split` reads of the audio."""
    inputs = run_inputs(model, split)
    if len(inputs) == 1:
        return f"{model} reads {READS[next(iter(inputs.values()))]}."
    parts = "; ".join(f"{member} reads {READS_SHORT[kind]}" for member, kind in inputs.items())
    return f"{model} combines {len(inputs)} models: {parts}."


def student_models(metrics: dict[tuple[str, str], dict], split: str) -> list[str]:
    """The three models a class sees first: the CRNN, the ensemble with the best test accuracy on `split`, and
    one feature model (mlp) — those of them that are trained. `metrics` is (model, split) → metrics.json."""
    ensembles = {
        m: record["accuracy"]
        for (m, s), record in metrics.items()
        if s == split and m.startswith("ensemble-") and "accuracy" in record
    }
    best_ensemble = [max(sorted(ensembles), key=ensembles.get)] if ensembles else []
    trained = {m for m, _ in metrics}
    return [m for m in (STUDENT_PICTURE_MODEL, *best_ensemble, STUDENT_FEATURE_MODEL) if m in trained]
