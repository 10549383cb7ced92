"""What a network trained on ~200,000 songs hears: musicnn's taggram of a piece of audio.

musicnn (Pons & Serra 2019, `mgc.models.musicnn`) was trained on the Million Song Dataset's 50 most frequent
Last.fm tags — genres, moods, instruments, eras ("rock", "chill", "female vocalists", "80s"). Its taggram is
the probability of each tag in each 3-s patch of the audio (tags are not exclusive: each is its own sigmoid),
and its top tags are the tags of highest mean probability over the patches, as musicnn's own `top_tags`
ranks them. These are the network's tags, not our ten genres: a second, independent ear beside them.

    >>> import mgc
    >>> mgc.taggram("examples/sorohanro_-_solo-trumpet-06.ogg").top_tags(3)  # jazz 0.88, blues 0.08, instrumental 0.04
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import torch

from ..data.audio import Audio, load_audio
from ..frontends import MUSICNN_INPUT
from ..models.musicnn import load_musicnn
from ..models.musicnn_pass import PASS_MODEL, MusicnnPass

TAGGRAM_MODEL = "MSD_musicnn"
"""The Million Song Dataset's network: its tags (genres, moods, eras) read more widely than MagnaTagATune's."""


@dataclass(frozen=True)
class Taggram:
    """musicnn's tag probabilities of one piece of audio, patch by patch."""

    model: str
    timeline: pd.DataFrame
    """One row per 3-s patch: `start` and `end` (seconds), then each tag's probability, in the network's order."""

    @property
    def tags(self) -> list[str]:
        return [c for c in self.timeline.columns if c not in ("start", "end")]

    def top_tags(self, count: int = 10) -> pd.Series:
        """The `count` tags of highest mean probability over the patches, highest first (tag → mean)."""
        return self.timeline[self.tags].mean().sort_values(ascending=False, kind="stable").head(count)


def taggram(source, model: str = TAGGRAM_MODEL, musicnn: MusicnnPass | None = None) -> Taggram:
    """musicnn's taggram of audio (an `mgc.Audio`, or a path, bytes or binary file as `mgc.load_audio` reads it).

    `model` is "MSD_musicnn" (the default) or "MTT_musicnn" (MagnaTagATune's 50 tags: instruments, moods).
    The network is loaded on first use and then shared. Raises `AudioError` for input that cannot be decoded.
    `musicnn`: the pass of the default network over this same audio when the caller made one already
    (`mgc.models.musicnn_pass`, a `Prediction`'s `musicnn`): its tags are read instead of running musicnn again.
    """
    audio = source if isinstance(source, Audio) else load_audio(source)
    if musicnn is not None and model == PASS_MODEL:
        probabilities, tags = musicnn.taggram, musicnn.tags
        starts, ends = MUSICNN_INPUT.window_times(musicnn.taggram, audio.seconds)
    else:
        network = load_musicnn(model)
        patches = MUSICNN_INPUT.from_audio(audio)
        with torch.inference_mode():
            probabilities = torch.cat([network(*batch)["taggram"] for batch in MUSICNN_INPUT.batches(patches)]).numpy()
        starts, ends = MUSICNN_INPUT.window_times(patches, audio.seconds)
        tags = network.tags
    timeline = pd.DataFrame(probabilities, columns=list(tags))
    timeline.insert(0, "end", ends)
    timeline.insert(0, "start", starts)
    return Taggram(model=model, timeline=timeline)
