"""The registry of model families: one name → one class with a `Config` dataclass.

Every picture model takes a uint8 mel picture batch (batch, 128, columns) and returns
`{"logits", "embedding"}`; its input normalisation is inside the module.
"""
from __future__ import annotations

from dataclasses import asdict, fields

from torch import nn

from .crnn import CRNN

PICTURE_MODELS: dict[str, type[nn.Module]] = {"crnn": CRNN}


def build_model(family: str, config: dict | None = None) -> nn.Module:
    """A fresh model of `family`, with `config` overriding its defaults (as saved in a checkpoint)."""
    if family not in PICTURE_MODELS:
        raise KeyError(f"unknown model family {family!r}; known: {', '.join(PICTURE_MODELS)}")
    cls = PICTURE_MODELS[family]
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
