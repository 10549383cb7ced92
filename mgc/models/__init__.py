"""The registry of model families: one name → one class with a `Config` dataclass.

Every model returns `{"logits", "embedding"}` and normalises its own input inside the module.
Picture models take a uint8 mel picture batch (batch, 128, columns) (`mgc.representation`);
feature models take raw rows of Kaggle's 57 features (batch, 57) (`mgc.features`); the hybrid
takes both, reading the pictures through a trained picture run it is attached to (`Hybrid`).
"""
from __future__ import annotations

from dataclasses import asdict, fields

from torch import nn

from .cnn import CNN
from .crnn import CRNN
from .hybrid import Hybrid
from .logreg import SoftmaxRegression
from .lstm import LSTM
from .mlp import MLP

PICTURE_MODELS: dict[str, type[nn.Module]] = {"crnn": CRNN, "cnn": CNN, "lstm": LSTM}
FEATURE_MODELS: dict[str, type[nn.Module]] = {"mlp": MLP, "logreg": SoftmaxRegression}
HYBRID_MODELS: dict[str, type[nn.Module]] = {"hybrid": Hybrid}
MODELS: dict[str, type[nn.Module]] = {**PICTURE_MODELS, **FEATURE_MODELS, **HYBRID_MODELS}


def input_version(family: str) -> str:
    """The version of the front end `family` reads, recorded in and checked against its checkpoints."""
    if family in PICTURE_MODELS:
        from ..representation import VERSION
    elif family in FEATURE_MODELS:
        from ..features import VERSION
    elif family in HYBRID_MODELS:
        from ..features import VERSION as FEATURES_VERSION
        from ..representation import VERSION as PICTURES_VERSION

        return f"{PICTURES_VERSION}+{FEATURES_VERSION}"  # it reads both
    else:
        raise KeyError(f"unknown model family {family!r}; known: {', '.join(MODELS)}")
    return VERSION


def build_model(family: str, config: dict | None = None) -> nn.Module:
    """A fresh model of `family`, with `config` overriding its defaults (as saved in a checkpoint)."""
    if family not in MODELS:
        raise KeyError(f"unknown model family {family!r}; known: {', '.join(MODELS)}")
    cls = MODELS[family]
    values = {}
    for field in fields(cls.Config):
        if config and field.name in config:
            value = config[field.name]
            values[field.name] = tuple(tuple(v) if isinstance(v, list) else v for v in value) if isinstance(value, list) else value
    return cls(cls.Config(**values))


def model_config(model: nn.Module) -> dict:
    """The model's config as plain data, for a checkpoint."""
    return asdict(model.config)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
