"""Applying a trained run to its input: any model through its family's front end, window by window.

* `window_outputs` — one input's per-window probabilities and embeddings (a feature model has one
  window covering the whole input);
* `track_outputs` / `dataset_outputs` — track-level answers, the mean over each track's windows (what
  training validates on and `evaluate` caches); `member_outputs` / `ensemble_outputs` — the same for the
  members of an ensemble, and their combination;
* `audio_outputs` — a run (single model or ensemble) on decoded audio: what `mgc.classify` shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import DatasetError
from ..frontends import FEATURES, PICTURE, FrontEnd, InputsOf
from ..models import family
from . import ensembles
from .calibration import calibrate
from .checkpoints import load_model
from .run import Run, locate
from .table import reads_run


@torch.inference_mode()
def window_outputs(model: nn.Module, frontend: FrontEnd, model_input) -> tuple[np.ndarray, np.ndarray]:
    """Per-window class probabilities (windows, classes) and embeddings (windows, dim) of one input."""
    model.eval()
    outputs = [model(*batch) for batch in frontend.batches(model_input)]
    logits = _at_least_float32(torch.cat([out["logits"] for out in outputs]))  # float32 also under a bf16 autocast
    embeddings = _at_least_float32(torch.cat([out["embedding"] for out in outputs]))
    return torch.softmax(logits, dim=1).numpy(), embeddings.numpy()


def _at_least_float32(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


def track_outputs(model: nn.Module, frontend: FrontEnd, inputs: list) -> tuple[np.ndarray, np.ndarray]:
    """Track-level probabilities (tracks, classes) and embeddings: the mean over each track's windows."""
    probabilities, embeddings = [], []
    for model_input in inputs:
        p, e = window_outputs(model, frontend, model_input)
        probabilities.append(p.mean(axis=0))
        embeddings.append(e.mean(axis=0))
    return np.stack(probabilities), np.stack(embeddings)


def dataset_outputs(network: nn.Module, family_name: str, dataset, tracks) -> tuple[list, list, np.ndarray, np.ndarray]:
    """A trained model on dataset tracks: (tracks found, tracks missing, probabilities, embeddings).

    Each track's input comes from the family's front end (`from_dataset`: a picture model reads the
    track's PNG, else its rendered audio; a feature model its row of Kaggle's `features_30_sec.csv`;
    the hybrid both); a track's answer is the mean over its windows.
    """
    frontend = family(family_name).frontend
    inputs = frontend.from_dataset(dataset, tracks)
    present = [t for t in tracks if t in inputs]
    missing = [t for t in tracks if t not in inputs]
    if not present:
        raise DatasetError(f"none of the {len(tracks)} tracks asked for has {frontend.describes} in {dataset.root}")
    probabilities, embeddings = track_outputs(network, frontend, [inputs[t] for t in present])
    return present, missing, probabilities, embeddings


def each_member_outputs(members, split: str, dataset, tracks, readable_only: bool = False) -> dict[str, dict]:
    """Each member on the tracks it can read: member → {track: (probabilities, embedding)}.

    With `readable_only` a member that can read none of `tracks` (a model of audio over a folder of pictures
    alone) gets an empty table instead of stopping the others."""
    results = {}
    for member in members:
        network, saved = load_model(member, split)
        try:
            present, _, probabilities, embeddings = dataset_outputs(network, saved["family"], dataset, tracks)
        except DatasetError:
            if not readable_only:
                raise
            present, probabilities, embeddings = [], [], []
        results[member] = dict(zip(present, zip(probabilities, embeddings)))
    return results


def common_outputs(results: dict[str, dict], split: str, tracks) -> tuple[list, np.ndarray, list[np.ndarray]]:
    """`each_member_outputs`' tables on the tracks every member read: (tracks, probabilities (members, tracks,
    genres), embeddings), members in the tables' order."""
    common = [t for t in tracks if all(t in by_track for by_track in results.values())]
    if not common:
        raise DatasetError(f"no track of the {split} split can be read by every member ({', '.join(results)})")
    probabilities = np.stack([[by_track[t][0] for t in common] for by_track in results.values()])
    embeddings = [np.stack([by_track[t][1] for t in common]) for by_track in results.values()]
    return common, probabilities, embeddings


def member_outputs(members, split: str, dataset, tracks) -> tuple[list, np.ndarray, list[np.ndarray]]:
    """Each member on the tracks they can all read: (tracks, probabilities (members, tracks, genres), embeddings)."""
    return common_outputs(each_member_outputs(members, split, dataset, tracks), split, tracks)


def ensemble_outputs(
    ensemble: ensembles.Ensemble, split: str, dataset, tracks
) -> tuple[list, list, np.ndarray, np.ndarray]:
    """Like `dataset_outputs`, for an ensemble: (tracks found, missing, probabilities, embeddings).

    A track counts as found when every member can read it; the embedding is the members'
    embeddings side by side.
    """
    found, probabilities, embeddings = member_outputs(ensemble.members, split, dataset, tracks)
    missing = [t for t in tracks if t not in set(found)]
    return found, missing, ensembles.combine(probabilities, ensemble.rule), np.concatenate(embeddings, axis=1)


@dataclass
class AudioOutputs:
    """What a run says about one piece of audio, before it is dressed as a `mgc.serve.Prediction`."""

    probabilities: np.ndarray
    """(classes,): over the whole input, the mean of the windows (an ensemble combines its members' means), calibrated
    with the run's temperature (`mgc.runs.calibration`), as are the windows'."""
    window_probabilities: np.ndarray
    """(windows, classes)."""
    starts: np.ndarray
    ends: np.ndarray
    """Each window's start and end, in seconds."""
    embedding: np.ndarray
    """The mean embedding over the windows (an ensemble: its members' side by side)."""
    picture: np.ndarray
    """The input's mel picture: what a picture model saw, drawn for every model so it can be shown."""
    unsure_margin: float = 0.0
    """The run's top-two margin under which its answer is "not sure" (`mgc.runs.calibration`)."""


def audio_outputs(model: str, split: str, audio) -> AudioOutputs:
    """Run `model` of `split` (a single model or an ensemble) on decoded audio: `run_outputs` of the run found by
    its name."""
    return run_outputs(locate(model, split), audio)


def run_outputs(run: Run, audio) -> AudioOutputs:
    """A run (a single model or an ensemble, `mgc.runs.run.resolve`) on decoded audio (`mgc.data.audio.Audio`), or
    on the `InputsOf` some audio that other runs read too.

    Each front end's input is computed once (`InputsOf`): an ensemble's members that read the same front
    end share it, and the mel picture is drawn once for whoever needs it.
    """
    inputs = audio if isinstance(audio, InputsOf) else InputsOf(audio)
    picture = inputs(PICTURE)
    if run.ensemble is None:
        window_probabilities, embedding, starts, ends = _model_outputs(run, inputs)
        probabilities = window_probabilities.mean(axis=0)
    else:
        rule = run.ensemble.rule
        outputs = [_model_outputs(member, inputs) for member in run.members]
        # Picture members share one grid of windows; a feature member's single row holds for every window.
        _, _, starts, ends = max(outputs, key=lambda output: len(output[2]))
        windows = np.stack([np.broadcast_to(p, (len(starts), p.shape[1])) for p, _, _, _ in outputs])
        window_probabilities = ensembles.combine(windows, rule)
        probabilities = ensembles.combine(np.stack([p.mean(axis=0) for p, _, _, _ in outputs])[:, None], rule)[0]
        embedding = np.concatenate([e for _, e, _, _ in outputs])
    calibration = run.calibration()
    return AudioOutputs(
        calibrate(probabilities, calibration.temperature),
        calibrate(window_probabilities, calibration.temperature),
        starts,
        ends,
        embedding,
        picture,
        calibration.unsure_margin,
    )


def _model_outputs(run: Run, inputs: InputsOf):
    """One trained model on the input: per-window probabilities, the mean embedding, window starts and ends (s)."""
    probabilities, embeddings, starts, ends = _window_outputs_of(run, inputs)
    return probabilities, embeddings.mean(axis=0), starts, ends


def _window_outputs_of(run: Run, inputs: InputsOf):
    """One trained model's per-window probabilities and embeddings on the input, with the windows' starts and ends
    (s); computed once per input. A hybrid's picture half is a trained picture run: its per-window embeddings come
    from that run's own forward pass, which an ensemble holding both runs therefore makes once."""

    def compute():
        network, saved = run.load()
        if reads_run(saved["family"]):
            _, picture_embeddings, starts, ends = _window_outputs_of(run.other(network.config.picture_model), inputs)
            probabilities, embeddings = _hybrid_head_outputs(network, picture_embeddings, inputs(FEATURES))
            return probabilities, embeddings, starts, ends
        frontend = family(saved["family"]).frontend
        model_input = inputs(frontend)
        probabilities, embeddings = window_outputs(network, frontend, model_input)
        starts, ends = frontend.window_times(model_input, inputs.audio.seconds)
        return probabilities, embeddings, starts, ends

    return inputs.remember(("window outputs", str(run.folder)), compute)


@torch.inference_mode()
def _hybrid_head_outputs(network: nn.Module, picture_embeddings: np.ndarray, features) -> tuple[np.ndarray, np.ndarray]:
    """The hybrid's head on its picture run's per-window embeddings and the input's features: what its forward
    gives, without running the picture model again."""
    network.eval()
    (rows,) = next(FEATURES.batches(features))
    outputs = network.classify_embeddings(torch.from_numpy(picture_embeddings), rows)
    return torch.softmax(outputs["logits"].float(), dim=1).numpy(), outputs["embedding"].float().numpy()
