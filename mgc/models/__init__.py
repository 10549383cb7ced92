"""The networks and their registry: one family name → one class with a `Config` dataclass, and its front end.

Every model returns `{"logits", "embedding"}` and normalises its own input inside the module. What a
family reads is its front end (`mgc.frontends`), named here and nowhere else: picture models read the
Kaggle mel picture (uint8 windows (batch, 128, columns)), feature models Kaggle's 57 features (raw rows
(batch, 57)), the hybrid both, reading the pictures through a trained picture run it is attached to
(`Hybrid`); the musicnn head reads musicnn's 3-s log-mel patches from audio, through the frozen pretrained
network (`MusicnnHead`); `crnn-seed` is the CRNN on the seeds' own 12-kHz, 96-band log-mel, trained from audio.
`trainer` names the recipe `mgc.train` trains a family with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from torch import nn

from ..frontends import FEATURES, MUSICNN_INPUT, PICTURE, PICTURE_AND_FEATURES, SEED_INPUT, FrontEnd
from .cnn import CNN
from .crnn import CRNN
from .hybrid import Hybrid
from .logreg import SoftmaxRegression
from .lstm import LSTM
from .mlp import MLP
from .musicnn_gru import MusicnnGRU
from .musicnn_head import MusicnnHead
from .musicnn_pass import MUSICNN_PASS


@dataclass(frozen=True)
class Family:
    """A kind of model: its network class, the front end it reads and the training recipe it needs."""

    name: str
    network: type[nn.Module]
    frontend: FrontEnd
    trainer: str
    """Which of `mgc.train.TRAINERS` trains it: "pictures", "tabular", "run-embedding" (a head on another trained
    run's embedding and the features: the hybrid), "audio" (a head on a frozen pretrained network, from audio),
    "audio-network" (a whole network on its front end's input of audio) or "audio-sequence" (a GRU over a frozen
    pretrained network's patch embeddings of audio: `musicnn-gru`)."""
    defaults: tuple[tuple[str, object], ...] = ()
    """Config values that make this family out of a shared network class (the CNN-LSTM is the CRNN with LSTMs)."""
    reads_run: bool = False
    """Its model reads the embedding of another trained run of the split (named `picture_model` in its config),
    attached when it is loaded (`attach_picture`) and not saved with it: the hybrid."""


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("crnn", CRNN, PICTURE, "pictures"),
        Family("cnn-lstm", CRNN, PICTURE, "pictures", defaults=(("cell", "lstm"),)),
        Family("cnn", CNN, PICTURE, "pictures"),
        Family("lstm", LSTM, PICTURE, "pictures"),
        Family("mlp", MLP, FEATURES, "tabular"),
        Family("logreg", SoftmaxRegression, FEATURES, "tabular"),
        Family(
            "hybrid",
            Hybrid,
            PICTURE_AND_FEATURES,
            "run-embedding",
            defaults=(("picture_model", "cnn"),),
            reads_run=True,
        ),
        Family("musicnn", MusicnnHead, MUSICNN_INPUT, "audio"),
        Family("crnn-seed", CRNN, SEED_INPUT, "audio-network", defaults=(("bands", 96),)),
        Family("musicnn-gru", MusicnnGRU, MUSICNN_PASS, "audio-sequence"),
    )
}


PRETRAINED = "musicnn"
"""The pretrained network's name (Pons & Serra's tagger, `mgc.models.musicnn`), which the musicnn head's family
shares: what is named after the network itself — bench's part that times it, the gate's embedding feature — reads it
here."""


def family(name: str) -> Family:
    """The registered family `name`; KeyError naming the known ones otherwise."""
    if name not in FAMILIES:
        raise KeyError(f"unknown model family {name!r}; known: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def families_reading(frontend: FrontEnd) -> tuple[str, ...]:
    """The families whose front end is `frontend`, in registry order."""
    return tuple(name for name, f in FAMILIES.items() if f.frontend is frontend)


def build_model(name: str, config: dict | None = None) -> nn.Module:
    """A fresh model of family `name`, with `config` overriding its defaults (as saved in a checkpoint)."""
    chosen = family(name)
    cls = chosen.network
    config = {**dict(chosen.defaults), **(config or {})}
    values = {}
    for field in fields(cls.Config):
        if field.name in config:
            value = config[field.name]
            values[field.name] = (
                tuple(tuple(v) if isinstance(v, list) else v for v in value) if isinstance(value, list) else value
            )
    return cls(cls.Config(**values))


def model_config(model: nn.Module) -> dict:
    """The model's config as plain data, for a checkpoint."""
    return asdict(model.config)


def parameter_count(model: nn.Module) -> int:
    """Every weight the model computes with: a frozen pretrained network it reads but does not save (the musicnn
    head's `pretrained`) included."""
    pretrained = getattr(model, "pretrained", None)
    return sum(p.numel() for p in model.parameters()) + (parameter_count(pretrained) if pretrained is not None else 0)
