"""mgc — music genre classification on GTZAN, with models you can inspect.

    >>> import mgc
    >>> prediction = mgc.classify("song.mp3")          # the CRNN, trained on the random split
    >>> prediction.genre, prediction.confidence
    >>> prediction.headline                           # "metal", "not sure: metal or rock", or "closest to metal"
    >>> prediction.timeline                           # per-window probabilities over the track
    >>> mgc.classify("song.mp3", model="mlp")         # or a model on Kaggle's 57 features (mlp, logreg, …)
    >>> mgc.taggram("song.mp3").top_tags()            # what musicnn, trained on ~200,000 songs, hears: its own tags

Errors from bad input are `mgc.AudioError`, with a message a person can act on.

The package's layers, each importing only those below it (`lint-imports` checks this): `data` (audio
files, the GTZAN folder) → `frontends` (what a model reads) → `models` (networks and their registry) →
`runs` (trained runs: checkpoints, ensembles, calibration, applying them) → `train` | `evaluate` → `gate`
(is it music at all?) → `serve` | `explain` | `charts` → `bench` → `cli`.
"""

from .data.audio import Audio, load_audio
from .data.gtzan import GENRES, GTZAN
from .errors import AudioError, CheckpointError, DatasetError, MgcError

__all__ = [
    "GENRES",
    "GTZAN",
    "Audio",
    "AudioError",
    "CheckpointError",
    "DatasetError",
    "MgcError",
    "Prediction",
    "classify",
    "load_audio",
    "taggram",
]


def __getattr__(name):
    # The prediction API pulls in torch; import it only when asked for, so `import mgc` stays light.
    if name in ("classify", "Prediction"):
        from . import serve

        return getattr(serve, name)
    if name == "taggram":
        from .explain import taggram

        return taggram
    raise AttributeError(f"module 'mgc' has no attribute {name!r}")
