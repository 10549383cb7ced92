"""One pass of the frozen musicnn over a piece of audio: each 3-s patch's 200-d embedding and 50 tags, as a front end.

musicnn (`mgc.models.musicnn`) is frozen wherever mgc uses it, so what it makes of an input is an input in its own
right: `MUSICNN_PASS` draws musicnn's patches (`mgc.frontends.MUSICNN_INPUT`: levelled, 16 kHz, 3 s each), runs
the shipped network over them once and keeps both outputs (`MusicnnPass`). A model that reads it (the GRU of
`mgc.models.musicnn_gru`) trains on these outputs cached once per clip, and at serving time the very same pass
feeds that model, the not-music gate (its `embeddings=`) and the taggram — one musicnn pass per request
(`mgc.serve.prediction.classify(…, musicnn=)`).

It lives among the models, not in `mgc.frontends`, because it runs a network: the front ends below the models
draw spectrograms only. Its `version` names the log-mel's version and the network's weights (their file digest),
so a checkpoint trained on another musicnn is refused when it loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..frontends.audio_mel import AudioFrontEnd
from ..frontends.musicnn_input import MUSICNN_INPUT
from ..frontends.musicnn_input import VERSION as LOG_MEL_VERSION
from .musicnn import load_musicnn, weights_file_digest
from .workers import each, submit

WORKER_PATCHES = 1
"""Patches a worker puts through the network at a time. One (not `PATCH_BATCH`'s two) so that a 30-s clip's ten
patches share out evenly over two workers while one of them also measures for the gate."""
PASS_MODEL = "MSD_musicnn"
"""The Million Song Dataset's network: the one the musicnn head, the gate and the taggram read."""


@dataclass(frozen=True)
class MusicnnPass:
    """musicnn's outputs for each 3-s patch of one input."""

    embedding: np.ndarray
    """(patches, 200) float32: the penultimate layer (what the musicnn head, the GRU and the gate read)."""
    taggram: np.ndarray
    """(patches, 50) float32: each tag's probability (`tags` names them)."""
    tags: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.embedding)


def musicnn_pass(patches: np.ndarray, model: str = PASS_MODEL) -> MusicnnPass:
    """musicnn `model` over log-mel patches (n, 187, 96) from `MUSICNN_INPUT`: `WORKER_PATCHES` patches at a time,
    shared among the one-thread workers (`mgc.models.workers`)."""
    import torch

    network = load_musicnn(model)

    def through_network(first: int) -> dict:
        with torch.inference_mode():
            return network(torch.from_numpy(patches[first : first + WORKER_PATCHES]))

    outputs = each(through_network, range(0, len(patches), WORKER_PATCHES))
    embedding = torch.cat([o["embedding"] for o in outputs]).numpy().astype(np.float32, copy=False)
    taggram = torch.cat([o["taggram"] for o in outputs]).numpy().astype(np.float32, copy=False)
    return MusicnnPass(embedding, taggram, tuple(network.tags))


class MusicnnPassInput(AudioFrontEnd):
    """Audio → `MusicnnPass` (the frozen network's outputs per patch); a model reads the whole sequence at once."""

    kind = "audio"
    reads = (
        "the sound itself, 3 seconds at a time, as musicnn hears it: a network pretrained on ~200,000 songs sums up "
        "each 3 s in 200 numbers, and a memory layer trained here (a GRU) follows those summaries through the piece "
        "— so it can change its mind every 3 s"
    )
    reads_short = "musicnn's summary of each 3 seconds, followed through time"

    @cached_property
    def version(self) -> str:
        """The log-mel's version and the weights' digest (computed on first need: it reads the weights file)."""
        return f"{LOG_MEL_VERSION}+{PASS_MODEL}:{weights_file_digest(PASS_MODEL)[7:23]}"

    def from_audio(self, audio) -> MusicnnPass:
        # the log-mel on a worker too: there torch runs on one thread, without waiting for a second
        return musicnn_pass(submit(MUSICNN_INPUT.from_audio, audio).result())

    def batches(self, model_input: MusicnnPass):
        """The whole sequence in one batch: a recurrent model reads the patches in order, each in its context."""
        import torch

        yield (torch.from_numpy(model_input.embedding),)

    def window_times(self, model_input: MusicnnPass, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        return MUSICNN_INPUT.window_times(model_input.embedding, seconds)


MUSICNN_PASS = MusicnnPassInput()
