"""The table of named runs: every run this project trains, one row each, and the one place that knows them.

A row says what the run is (its family in `mgc.models.FAMILIES`, or the rule of an ensemble), how it differs from
its family's defaults (`overrides` of the model's config, `training` overrides of its recipe), one plain line for
people (`description`), what it reads (`frontend`, whose `reads` says it in words) and where it takes part:

* `zoo` — `python -m mgc train --all` trains it, in the table's order (the hybrid after the picture and feature
  runs it reads, the ensembles last: they are built from the others);
* `candidate` — an ensemble may take it as a member when none are named (`DEFAULT_MEMBERS`);
* `picker` — its place in the app's short picker for a class (0: only under "All models"); the ensembles share
  one place, which the best of them on the split fills;
* `for_uploads` / `for_recordings` — the run a page or a command uses when none is named, for uploaded files and
  for microphone recordings;
* `recurrent_layer` / `recurrent_place` — for the runs that differ in their recurrent layer alone, that layer in
  words and the run's place in Model comparison's table of them (`mgc.charts.recurrent_layer_table`).

The CLI's choices, the ensembles' default members, the words for students, the pickers, the benchmark and the
results report read this table; a test walks it and checks that each of them knows every row, and another fails
on a run's name written as a string anywhere else in `mgc/` or `app_pages/` (the family registry aside). Adding a
run of an existing family is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..frontends import FrontEnd


@dataclass(frozen=True)
class Row:
    """One named run (see the module's docstring)."""

    name: str
    family: str | None
    """Its family in `mgc.models.FAMILIES`; None for an ensemble."""
    description: str
    """One plain line on what the model does (not how well: the numbers are on the pages)."""
    overrides: tuple[tuple[str, object], ...] = ()
    """Model config values on top of the family's defaults (an MLP variant's widths)."""
    training: tuple[tuple[str, object], ...] = ()
    """Training-recipe values on top of the family's recipe (an MLP variant's optimiser and learning rate; the
    hybrid's picture runs)."""
    rule: str | None = None
    """An ensemble's rule (`mgc.runs.ensembles.combine`); None for a single model."""
    zoo: bool = False
    candidate: bool = False
    picker: int = 0
    for_uploads: bool = False
    for_recordings: bool = False
    recurrent_layer: str = ""
    """For the runs that differ in their recurrent layer alone (the CNN's conv blocks, then nothing, LSTMs or GRUs):
    this run's layer in words, as Model comparison's "Recurrent layer" table labels it; "" for the other runs."""
    recurrent_place: int = 0
    """Its place in that table (1: the run without one, which the others are compared with; 0: not in it)."""

    @property
    def is_ensemble(self) -> bool:
        return self.rule is not None

    @property
    def frontend(self) -> FrontEnd | None:
        """What the run reads (its family's front end); None for an ensemble, which reads what its members read."""
        if self.family is None:
            return None
        from ..models import family

        return family(self.family).frontend


def _mlp(name: str, width: int, optimiser: str, lr: float, shown: str, hidden: tuple[int, ...], **training) -> Row:
    return Row(
        name,
        "mlp",
        f"A neural network on the 57 numbers, {width} units wide at the start, trained with {shown}: one of the "
        "four recipes mlp was chosen from.",
        overrides=(("hidden", hidden),),
        training=(("optimiser", optimiser), ("lr", lr), *training.items()),
    )


def _ensemble(rule: str, description: str) -> Row:
    return Row(f"ensemble-{rule}", None, description, rule=rule, zoo=True, picker=2)


RUNS: tuple[Row, ...] = (
    Row(
        "crnn",
        "crnn",
        "Looks at a picture of the sound (a spectrogram) and follows it through time with a memory layer "
        "(a CRNN). The library's default, and the model of Evaluation and Model comparison.",
        zoo=True,
        candidate=True,
        picker=1,
        for_uploads=True,
        for_recordings=True,
        recurrent_layer="GRU (CNN-GRU, the CRNN)",
        recurrent_place=3,
    ),
    Row(
        "cnn-lstm",
        "cnn-lstm",
        "The CRNN with a different memory layer (LSTM cells instead of GRU cells).",
        zoo=True,
        candidate=True,
        recurrent_layer="LSTM (CNN-LSTM)",
        recurrent_place=2,
    ),
    Row(
        "cnn",
        "cnn",
        "Looks at a picture of the sound (a spectrogram) with layers of small pattern detectors (a CNN), "
        "then averages over time.",
        zoo=True,
        candidate=True,
        recurrent_layer="none (CNN)",
        recurrent_place=1,
    ),
    Row(
        "lstm",
        "lstm",
        "Reads the spectrogram slice by slice with a memory layer (an LSTM), without pattern detectors.",
        zoo=True,
        candidate=True,
    ),
    Row(
        "mlp",
        "mlp",
        "A small neural network on 57 numbers that sum up the whole clip: tempo, loudness, brightness, timbre.",
        zoo=True,
        candidate=True,
        picker=3,
    ),
    Row(
        "logreg",
        "logreg",
        "The simplest model: one weighted sum of the 57 numbers per genre (logistic regression).",
        zoo=True,
        candidate=True,
    ),
    Row(
        "hybrid",
        "hybrid",
        "Combines the CRNN's summary of the spectrogram with the 57 numbers that sum up the clip.",
        training=(("picture_models", ("cnn", "crnn")),),  # the picture runs whose embeddings it tries, in order
        zoo=True,
        candidate=True,
    ),
    Row(
        "musicnn",
        "musicnn",
        "A network pretrained on ~200,000 songs (musicnn) listens 3 seconds at a time; only a small genre "
        "head on its summary was trained here, on the few clips whose audio we have.",
        candidate=True,
    ),
    Row(
        "musicnn-gru",
        "musicnn-gru",
        "A network pretrained on ~200,000 songs (musicnn) hears each 3 seconds; a memory layer (a GRU) trained here "
        "follows what it hears through the piece. Trained on recordings through speakers, real rooms, people and "
        "microphones, so it hears a classroom best.",
        picker=4,
        for_uploads=True,
        for_recordings=True,
    ),
    Row(
        "crnn-seed",
        "crnn-seed",
        "The CRNN trained here on its own spectrogram of the sound (96 bands at 12 kHz, as the seed "
        "projects drew it) instead of Kaggle's picture, from the few clips whose audio we have.",
    ),
    _mlp("mlp-256", 256, "adam", 1e-3, "Adam", (256, 128, 64)),
    _mlp("mlp-512-adam", 512, "adam", 1e-3, "Adam", (512, 256, 128, 64)),
    # Keras's plain SGD crawls; momentum 0.9 lets it converge within the epoch budget.
    _mlp("mlp-512-sgd", 512, "sgd", 1e-2, "SGD", (512, 256, 128, 64), momentum=0.9),
    _mlp("mlp-1024-rmsprop", 1024, "rmsprop", 1e-3, "RMSprop", (1024, 512, 256, 128, 64)),
    _ensemble("sum", "Several models answer together: their probabilities are averaged."),
    _ensemble(
        "product",
        "Several models answer together: their probabilities are multiplied, so a genre wins only if no model "
        "rules it out.",
    ),
    _ensemble("vote", "Several models vote: each gives its top genre a vote as strong as its confidence."),
    _ensemble("best", "The group of models that did best together on the validation tracks, averaged."),
)
"""Every named run, in the order `train --all` trains the zoo's."""

TABLE: dict[str, Row] = {row.name: row for row in RUNS}


def row(name: str) -> Row:
    """The row of run `name`; `KeyError` naming the known runs otherwise."""
    if name not in TABLE:
        raise KeyError(f"unknown run {name!r}; known: {', '.join(TABLE)}")
    return TABLE[name]


def names(**flags) -> tuple[str, ...]:
    """The runs, in the table's order, whose row has every given flag: `names(zoo=True)`, `names(candidate=True)`."""
    return tuple(r.name for r in RUNS if all(getattr(r, flag) == wanted for flag, wanted in flags.items()))


def is_ensemble_name(name: str) -> bool:
    """Whether `name` is an ensemble of the table (a run folder says it for itself: `mgc.runs.is_ensemble`)."""
    return name in TABLE and TABLE[name].is_ensemble


def default_run(use: str = "uploads") -> str:
    """The run used when none is named: for "uploads" (files and the CLI) or "recordings" (the microphone) — the
    first row with that flag; the later ones are candidates a measured rule may prefer on the page
    (`mgc.evaluate.robustness.classify_default`)."""
    flag = {"uploads": "for_uploads", "recordings": "for_recordings"}[use]
    return next(r.name for r in RUNS if getattr(r, flag))


def reads_picture(family_name: str) -> bool:
    """Whether family `family_name` reads the mel picture itself (its gradients can be drawn on it: saliency)."""
    from ..frontends import PICTURE
    from ..models import family

    return family(family_name).frontend is PICTURE


def reads_run(family_name: str) -> bool:
    """Whether family `family_name` reads another trained run's embedding (the hybrid: `Family.reads_run`)."""
    from ..models import family

    return family(family_name).reads_run


ZOO: tuple[str, ...] = names(zoo=True)
"""What `python -m mgc train --all` trains, in order."""
ENSEMBLES: dict[str, str] = {r.name: r.rule for r in RUNS if r.is_ensemble}
"""Ensemble run name → rule."""
CANDIDATES: tuple[str, ...] = names(candidate=True)
"""The single runs an ensemble takes as members when none are named."""
RECURRENT_LAYERS: dict[str, str] = {
    r.name: r.recurrent_layer for r in sorted(RUNS, key=lambda r: r.recurrent_place) if r.recurrent_place
}
"""The runs that differ in their recurrent layer alone → that layer in words, in their places (the baseline first)."""
