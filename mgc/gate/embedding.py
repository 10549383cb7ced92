"""What the gate reads of musicnn: the pretrained network's 200-d embedding of a few 3-s patches.

musicnn (`mgc.models.musicnn`) learnt music from ~200,000 songs; its penultimate layer tells a song from a reading
or a dog far better than hand-made measurements do on real recordings (issue 30). The gate reads the *same*
embedding the musicnn genre head reads: the input levelled to one RMS level and cut into musicnn's 3-s patches as
`mgc.frontends.MUSICNN_INPUT` draws them, each patch through the shipped network.

The contract with callers that already ran musicnn on the input (`mgc.gate.check(…, embeddings=…)`): a float
array (patches, `EMBEDDING_SIZE`) — `load_musicnn()(torch.from_numpy(MUSICNN_INPUT.from_audio(audio)))
["embedding"]` for any subset of the patches (all of them is best; at least one). The gate classifies each patch
and averages, so any number of patches is read the same way. Without them, the gate draws its own: at most
`GATE_PATCHES` patches spread evenly over the input (`patch_embeddings`), rows of that same array.
"""

from __future__ import annotations

import numpy as np

EMBEDDING_SIZE = 200
"""musicnn's embedding width (`mgc.models.musicnn.EMBEDDING_SIZE`; a test checks they agree): named here so that
importing the gate does not import torch."""

GATE_PATCHES = 2
"""Patches the gate reads when no embeddings are given: musicnn costs ≈ 20–35 ms a patch on this machine's CPU."""


def spread(count: int, most: int) -> np.ndarray:
    """Indices of at most `most` of `count` items, spread evenly (first and last included)."""
    if count <= most:
        return np.arange(count)
    return np.linspace(0, count - 1, most).round().astype(int)


def patch_embeddings(samples: np.ndarray, sample_rate: int = 22050, most: int | None = GATE_PATCHES) -> np.ndarray:
    """musicnn's embedding (patches, 200) of at most `most` of the input's patches (all of them for None), spread
    evenly: the rows `MUSICNN_INPUT.from_audio` + `load_musicnn()` give for those patches."""
    import torch

    from ..frontends.musicnn_input import audio_patches, levelled
    from ..models.musicnn import load_musicnn

    patches = audio_patches(levelled(samples), sample_rate)
    if most is not None:
        patches = patches[spread(len(patches), most)]
    network = load_musicnn()
    with torch.inference_mode():
        return network(torch.from_numpy(np.ascontiguousarray(patches)))["embedding"].numpy().astype(np.float32)


def checked_embeddings(embeddings) -> np.ndarray:
    """`embeddings` as a float64 (patches, 200) array, or a ValueError that says what was wrong."""
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != EMBEDDING_SIZE or len(array) == 0:
        raise ValueError(
            f"the gate reads musicnn embeddings of shape (patches, {EMBEDDING_SIZE}); got {np.shape(embeddings)}"
        )
    if not np.isfinite(array).all():
        raise ValueError("the musicnn embeddings given to the gate are not all finite")
    return array
