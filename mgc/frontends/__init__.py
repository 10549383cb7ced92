"""Front ends: how audio, or a dataset track, becomes what a model reads (see `mgc.frontends.base`).

* `PICTURE` (`picture.KagglePicture`) — Kaggle's mel-spectrogram picture, read in ≈ 10-s windows;
* `FEATURES` (`features.KaggleFeatures`) — Kaggle's 57 hand-crafted features of the whole input;
* `PICTURE_AND_FEATURES` — both, for the hybrid: each picture window with the whole input's features;
* `MUSICNN_INPUT` (`musicnn_input.MusicnnInput`) — musicnn's 16-kHz, 96-band log-mel in 3-s patches, from audio
  only: what the pretrained musicnn networks read (`mgc.models.musicnn`);
* `SEED_INPUT` (`seed_input.SeedInput`) — the seeds' 12-kHz, 96-band log-mel in ≈ 29-s windows, from audio only:
  what the CRNN trained from audio reads (`crnn-seed`).

A new input is one new `FrontEnd` subclass here and one family naming it in `mgc.models.FAMILIES`.
Importing this package loads neither torch nor librosa.
"""

from .base import FrontEnd, InputsOf, Joined
from .features import FEATURES, KaggleFeatures
from .musicnn_input import MUSICNN_INPUT, MusicnnInput
from .picture import PICTURE, KagglePicture
from .seed_input import SEED_INPUT, SeedInput

PICTURE_AND_FEATURES = Joined(
    PICTURE,
    FEATURES,
    kind="both",
    reads="both: the CRNN's summary of the spectrogram, about 10 seconds at a time, and the 57 numbers that sum "
    "up the whole clip",
    reads_short="the CRNN's summary of the spectrogram and the 57 numbers",
)

__all__ = [
    "FEATURES",
    "MUSICNN_INPUT",
    "PICTURE",
    "PICTURE_AND_FEATURES",
    "SEED_INPUT",
    "FrontEnd",
    "InputsOf",
    "Joined",
    "KaggleFeatures",
    "KagglePicture",
    "MusicnnInput",
    "SeedInput",
]
