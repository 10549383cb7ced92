"""What a front end is: the one object that turns audio, or a dataset track, into what a model reads.

A model family names its front end (`mgc.models.FAMILIES`); everything that feeds a model — classifying
audio, evaluating on the test part, training, saliency — reaches the input only through it:

* `version` — recorded in every checkpoint and checked when one is loaded: weights trained on one
  drawing of the input are refused by code that draws another.
* `from_audio(audio)` — the model input of a whole piece of decoded audio (`mgc.data.audio.Audio`).
* `from_dataset(dataset, tracks)` — the inputs of GTZAN tracks as the dataset holds them (training and
  evaluation examples); tracks it cannot give are left out.
* `batches(input)` — the input cut into the windows a model classifies, as argument tuples for the
  model's `forward`, a bounded number of windows at a time; `window_times(input, seconds)` — where each
  window starts and ends, in seconds.

A front end made of others (`Joined`, the hybrid's picture and features) lists them in `parts`; an input
computed for one part is shared with every model that reads it (`InputsOf`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import numpy as np


class FrontEnd(ABC):
    """One representation of audio that models read (see the module's docstring)."""

    version: str
    """Checkpoints record it; a checkpoint of another version is refused."""
    describes: str
    """What a dataset track needs for this input, for messages ("a picture or audio")."""
    kind: str
    """What it reads, in a word ("picture", "features", "both", "audio", "seed"): the pages choose charts by it."""
    reads: str
    """What a model of this front end reads, in plain words for a student (completes "crnn reads …")."""
    reads_short: str
    """The same in a few words, for a list of an ensemble's members."""
    parts: tuple[FrontEnd, ...] = ()

    @abstractmethod
    def from_audio(self, audio) -> Any:
        """The model input of decoded audio (`mgc.data.audio.Audio`: mono float32 at 22050 Hz)."""

    @abstractmethod
    def from_dataset(self, dataset, tracks) -> dict[str, Any]:
        """Track id → model input, for the `tracks` of the GTZAN folder `dataset` that have one."""

    @abstractmethod
    def batches(self, model_input) -> Iterator[tuple]:
        """The input's windows as argument tuples for a model's forward, a bounded number at a time."""

    @abstractmethod
    def window_times(self, model_input, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """Start and end (seconds) of each window of `model_input`, drawn from `seconds` of audio."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.version!r})"


class Joined(FrontEnd):
    """Several front ends read together: the input is the tuple of the parts' inputs, and the windows
    are those of the first part, each with the whole input of the others (the hybrid: a window of the mel
    picture with the 57 features of the whole input)."""

    def __init__(self, *parts: FrontEnd, kind: str, reads: str, reads_short: str):
        self.parts = parts
        self.version = "+".join(part.version for part in parts)
        self.describes = " and ".join(part.describes for part in parts)
        self.kind, self.reads, self.reads_short = kind, reads, reads_short

    def from_audio(self, audio) -> tuple:
        return tuple(part.from_audio(audio) for part in self.parts)

    def from_dataset(self, dataset, tracks) -> dict[str, tuple]:
        inputs = [part.from_dataset(dataset, tracks) for part in self.parts]
        return {t: tuple(by_track[t] for by_track in inputs) for t in tracks if all(t in i for i in inputs)}

    def batches(self, model_input: tuple) -> Iterator[tuple]:
        first, *others = self.parts
        whole = tuple(
            arg
            for part, part_input in zip(others, model_input[1:])
            for batch in part.batches(part_input)
            for arg in batch
        )
        for batch in first.batches(model_input[0]):
            yield (*batch, *whole)

    def window_times(self, model_input: tuple, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        return self.parts[0].window_times(model_input[0], seconds)


class InputsOf:
    """Each front end's input of one piece of audio, computed on first need and then shared: in an
    ensemble, every member that reads the same front end (or a part of it) shares one computation.
    `remember` keeps other results of the same audio the same way (a run's outputs, which a hybrid reuses)."""

    def __init__(self, audio):
        self.audio = audio
        self._inputs: dict[str, Any] = {}
        self._results: dict[Hashable, Any] = {}

    def remember(self, key: Hashable, compute: Callable[[], Any]):
        """`compute()` the first time `key` is asked for on this audio; the same result afterwards."""
        if key not in self._results:
            self._results[key] = compute()
        return self._results[key]

    def provide(self, frontend: FrontEnd, model_input) -> None:
        """Give `frontend`'s input of this audio, computed elsewhere from the same audio (a page that ran musicnn once
        for the gate, the taggram and the model: `mgc.serve.prediction.classify(…, musicnn=)`)."""
        self._inputs[frontend.version] = model_input

    def computed(self, frontend: FrontEnd):
        """`frontend`'s input of this audio if it was computed or provided already, else None (nothing is computed)."""
        return self._inputs.get(frontend.version)

    def __call__(self, frontend: FrontEnd):
        if frontend.parts:
            return tuple(self(part) for part in frontend.parts)
        if frontend.version not in self._inputs:
            self._inputs[frontend.version] = frontend.from_audio(self.audio)
        return self._inputs[frontend.version]
