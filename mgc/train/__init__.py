"""Training: one command trains any run of the zoo on one split.

Each model family names its recipe (`mgc.models.Family.trainer`); `TRAINERS` maps that name to its
trainer here. Picture models (`pictures`): random crops of the mel pictures, augmentation, Adam, early
stopping. Feature models (`tabular`): the tabular seed's MLP recipes and a scikit-learn baseline on the
57 features. The hybrid (`run-embedding`): a head over a trained picture run's embedding and the features. The
musicnn head (`audio`): a head over the pretrained musicnn's embedding of the clips that have audio. A whole
network from audio (`audio-network`, `crnn-seed`): the CRNN on the seeds' own log-mel of the clips that have audio.
Ensembles (`ensembles`) are chosen from their members' validation predictions. Every trainer runs the one
training loop (`loop.fit` over its recipe; `loop` says how to add a recipe); `common` holds what else they
share (the run files, the training step's precision).
"""

from __future__ import annotations

from pathlib import Path

from ..models import family as family_of
from ..runs.checkpoints import run_dir
from ..runs.table import row
from .audio_network import train_audio_network
from .ensembles import build_ensemble
from .hybrid import train_hybrid
from .musicnn_gru import train_musicnn_gru
from .musicnn_head import train_musicnn_head
from .pictures import TrainConfig, robust_fine_tuning, train_picture_model
from .tabular import train_tabular

RECIPES = ("robust", "clean")
"""How picture models are trained: see `train`."""


def _train_pictures(name, split, *, config, model_config, recipe, fine_tune_only, epochs, out_dir, **options) -> Path:
    """A picture model by `recipe` (an explicit `config`: one stage, exactly as given)."""
    out_dir = Path(out_dir or run_dir(name, split))
    options.update(out_dir=out_dir, model_config=model_config)
    if config is not None:
        return train_picture_model(name, split, epochs=epochs, config=config, **options)
    if not fine_tune_only:
        train_picture_model(name, split, epochs=epochs, config=TrainConfig(), **options)
    if recipe == "robust" or fine_tune_only:
        train_picture_model(name, split, config=robust_fine_tuning(out_dir), **options)
    return out_dir


def _train_tabular(name, split, **options) -> Path:
    return train_tabular(name, split, **options)


def _train_hybrid(name, split, **options) -> Path:
    return train_hybrid(split, **options)


def _train_audio(name, split, **options) -> Path:
    return train_musicnn_head(split, **options)


def _train_audio_network(name, split, **options) -> Path:
    return train_audio_network(name, split, **options)


def _train_audio_sequence(name, split, **options) -> Path:
    return train_musicnn_gru(name, split, **options)


TRAINERS = {
    "pictures": _train_pictures,
    "tabular": _train_tabular,
    "run-embedding": _train_hybrid,
    "audio": _train_audio,
    "audio-network": _train_audio_network,
    "audio-sequence": _train_audio_sequence,
}
"""A family's `trainer` name → the function that trains its runs: (name, split, data=, epochs=, device=,
out_dir=), and for pictures also config=, model_config=, recipe=, fine_tune_only=."""


def train(
    name: str,
    split: str,
    data: str | Path | None = None,
    epochs: int | None = None,
    device: str = "cpu",
    out_dir: Path | None = None,
    config: TrainConfig | None = None,
    model_config: dict | None = None,
    recipe: str = "robust",
    fine_tune_only: bool = False,
) -> Path:
    """Train run `name` on `split` of the GTZAN folder `data`; returns the run folder it wrote.

    `name` is a run of `mgc.runs.table` (`KeyError` naming them otherwise): a family (`crnn`, `cnn`, `lstm`, `mlp`,
    `logreg`, `hybrid`, `musicnn`, `crnn-seed`), one of the MLP recipes (`mlp-256` …) or an ensemble
    (`ensemble-sum` …). `config` and `model_config` are for the picture
    models; the feature models, the hybrid, the musicnn head and crnn-seed train with their own recipes
    (`mgc.train.tabular`, `mgc.train.hybrid`, `mgc.train.musicnn_head`, `mgc.train.audio_network`: call their
    trainers to change them).

    A picture model's `recipe`: "clean" trains on Kaggle's pictures as they are; "robust" (the default) then
    fine-tunes that run through simulated listening conditions (`robust_fine_tuning`); `fine_tune_only`
    fine-tunes the run already in the folder. An explicit `config` is one stage, exactly as given.
    """
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; use one of {', '.join(RECIPES)}")
    named = row(name)
    if named.is_ensemble:
        return build_ensemble(name, split, data=data, out_dir=out_dir)
    trainer = family_of(named.family).trainer
    options = dict(data=data, epochs=epochs, device=device, out_dir=out_dir)
    if TRAINERS[trainer] is _train_pictures:
        options.update(config=config, model_config=model_config, recipe=recipe, fine_tune_only=fine_tune_only)
    elif config is not None or model_config is not None:
        raise ValueError(
            f"config and model_config are for picture models; {name!r} trains with "
            f"mgc.train.{trainer}'s recipe (call its trainer to change it)"
        )
    return TRAINERS[trainer](name, split, **options)


__all__ = ["TRAINERS", "TrainConfig", "train"]
