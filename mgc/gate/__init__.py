"""The not-music gate: is this music at all, and if not, does it sound like speech or like something else?

A genre classifier always answers with one of its ten genres, even for a reading or a vacuum cleaner. The gate
reads two things of the sound: musicnn's embedding of a few 3-s patches (`mgc.gate.embedding`: the pretrained
network heard ~200,000 songs, so its penultimate layer tells a song from a reading or a dog) and a few
measurements (`measure`: Silero VAD's share of speech, pauses, flatness, beat, …). A small model fitted on a
labelled set of real and synthesised sound (`labelled_set`, split by source) weighs them: a multinomial logistic
regression over each patch's embedding beside the measurements, three classes (music, speech, other), the
input's logits the mean of its patches'. The input is music when P(music) reaches the gate's threshold. Which
features, the weights, the threshold and how they were chosen are in `checkpoints/gate/gate.json`, written by
`python -m mgc check-gate --fit`; `python -m mgc check-gate` reports how often each kind is flagged, per held-out
source and listening condition (`fit`).

Every model goes through the same gate: it reads the audio, not a model's answer. A caller that ran musicnn on
the audio already passes its embeddings (`check(…, embeddings=…)`), so a request needs one musicnn pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..data.gtzan import REPO_ROOT
from ..runs.checkpoints import checkpoints_root, read_json
from .measurements import NAMES, Measurements, measure

CLASSES = ("music", "speech", "other")
GATE_FILE = Path("gate") / "gate.json"


def gate_file() -> Path:
    """`gate/gate.json` of the checkpoints folder (`$MGC_CHECKPOINTS`) when it has one, else the repository's."""
    own = checkpoints_root() / GATE_FILE
    return own if own.is_file() else REPO_ROOT / "checkpoints" / GATE_FILE


def transformed(vectors: np.ndarray) -> np.ndarray:
    """Measurements (rows in `NAMES` order, any further columns after them) on the scales the gate weighs them:
    flatness and centroid as logarithms (they span decades), the rest as they are."""
    x = np.array(vectors, dtype=np.float64, ndmin=2)
    x[:, NAMES.index("flatness")] = np.log10(x[:, NAMES.index("flatness")] + 1e-6)
    x[:, NAMES.index("centroid_hz")] = np.log10(x[:, NAMES.index("centroid_hz")] + 10.0)
    return x


def expanded(standardised: np.ndarray) -> np.ndarray:
    """The standardised measurements followed by every pairwise product (squares included)."""
    n = standardised.shape[1]
    pairs = [standardised[:, i] * standardised[:, j] for i in range(n) for j in range(i, n)]
    return np.column_stack([standardised, *pairs])


@dataclass(frozen=True)
class Gate:
    """A fitted gate: standardisation, the logistic regression's weights, and the music threshold.

    Each of the input's musicnn patches gets one row of features — the standardised measurements of the whole
    input (with their pairwise products when `pairs`), then, when the gate reads musicnn (`embedding_mean` is not
    None), the patch's standardised embedding; the input's logits are the mean of its patches' logits."""

    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    """(classes, features)."""
    intercepts: np.ndarray
    threshold: float
    """The input is music when P(music) ≥ this."""
    embedding_mean: np.ndarray | None = None
    embedding_scale: np.ndarray | None = None
    pairs: bool = True
    least_change: float = 0.0
    """A sound whose spectral change (`Measurements.spectral_change`) is below this is never music: half the least
    of any music the gate was fitted on. A pure tone, DC or a square wave changes ~1e-5 dB a frame, music ≥ 0.1."""

    def music(self, p_music, spectral_change) -> np.ndarray:
        """Whether inputs with these P(music) and spectral changes are music."""
        return (np.asarray(p_music) >= self.threshold) & (np.asarray(spectral_change) >= self.least_change)

    @property
    def reads_embedding(self) -> bool:
        return self.embedding_mean is not None

    def measurement_features(self, vectors: np.ndarray) -> np.ndarray:
        z = (transformed(vectors) - self.mean) / self.scale
        return expanded(z) if self.pairs else z

    def logits(self, vectors: np.ndarray, embeddings: list[np.ndarray] | None = None) -> np.ndarray:
        """(inputs, classes) logits: measurement rows in `NAMES` order and, for a gate that reads musicnn, each
        input's (patches, 200) embeddings."""
        measured = self.measurement_features(vectors)
        if not self.reads_embedding:
            return measured @ self.coefficients.T + self.intercepts
        if embeddings is None or len(embeddings) != len(measured):
            raise ValueError("this gate reads musicnn embeddings: give one (patches, 200) array per input")
        rows = []
        for m, e in zip(measured, embeddings):
            z = (np.asarray(e, dtype=np.float64) - self.embedding_mean) / self.embedding_scale
            features = np.hstack([np.repeat(m[None], len(z), axis=0), z])
            rows.append((features @ self.coefficients.T + self.intercepts).mean(axis=0))
        return np.stack(rows)

    def probabilities(self, vectors: np.ndarray, embeddings: list[np.ndarray] | None = None) -> np.ndarray:
        """(inputs, classes) probabilities of music, speech and other (see `logits`)."""
        logits = self.logits(np.array(vectors, dtype=np.float64, ndmin=2), embeddings)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict:
        saved = {
            "measurements": list(NAMES),
            "classes": list(CLASSES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "pairs": self.pairs,
            "coefficients": self.coefficients.tolist(),
            "intercepts": self.intercepts.tolist(),
            "threshold": self.threshold,
            "least_spectral_change": self.least_change,
        }
        if self.reads_embedding:
            saved["musicnn_embedding"] = {
                "weights_digest": musicnn_digest(),
                "mean": self.embedding_mean.tolist(),
                "scale": self.embedding_scale.tolist(),
            }
        return saved

    @classmethod
    def from_json(cls, saved: dict) -> Gate:
        from ..errors import CheckpointError

        if saved.get("measurements") != list(NAMES):
            raise CheckpointError(
                "the gate in checkpoints/gate/gate.json was fitted on other measurements: "
                "fit it again with python -m mgc check-gate --fit"
            )
        embedding = saved.get("musicnn_embedding")
        if embedding and embedding["weights_digest"] != musicnn_digest():
            raise CheckpointError(
                "the gate in checkpoints/gate/gate.json was fitted on another musicnn's embedding: "
                "fit it again with python -m mgc check-gate --fit"
            )
        return cls(
            np.asarray(saved["mean"]),
            np.asarray(saved["scale"]),
            np.asarray(saved["coefficients"]),
            np.asarray(saved["intercepts"]),
            float(saved["threshold"]),
            np.asarray(embedding["mean"]) if embedding else None,
            np.asarray(embedding["scale"]) if embedding else None,
            bool(saved.get("pairs", True)),
            float(saved.get("least_spectral_change", 0.0)),
        )


def musicnn_digest() -> str:
    """The digest of the musicnn weights the gate reads (`load_musicnn`'s default network)."""
    import inspect

    from ..models.musicnn import load_musicnn, weights_file_digest

    return weights_file_digest(inspect.signature(load_musicnn).parameters["name"].default)


def load_gate(path: Path | None = None) -> Gate:
    path = Path(path or gate_file())
    try:
        mtime = path.stat().st_mtime
    except OSError:
        from ..errors import CheckpointError

        raise CheckpointError(
            f"there is no not-music gate at {path}: fit one with python -m mgc check-gate --fit"
        ) from None
    return _load(str(path), mtime)


@lru_cache(maxsize=2)
def _load(path: str, mtime: float) -> Gate:
    return Gate.from_json(read_json(Path(path)))


@dataclass(frozen=True)
class GateResult:
    """The gate's verdict on one sound."""

    is_music: bool
    kind: str
    """"music", "speech" or "other": what it sounds like most."""
    probabilities: dict[str, float]
    """P(music), P(speech), P(other)."""
    measurements: Measurements
    reasons: tuple[str, ...]
    """Why it is not music, in words for people (empty for music)."""


def check(
    samples: np.ndarray,
    sample_rate: int = 22050,
    gate: Gate | None = None,
    *,
    embeddings: np.ndarray | None = None,
    measured: Measurements | None = None,
) -> GateResult:
    """Measure a sound and weigh the measurements with the shipped gate (or `gate`).

    `samples`: mono float audio at `sample_rate` (as `mgc.data.audio.load_audio` gives it).

    `embeddings`: musicnn's embeddings of this same audio when the caller has them already (one musicnn pass per
    request), a float array of shape (patches, 200): the "embedding" output of `mgc.models.musicnn.load_musicnn()`
    (the default network, the one the musicnn genre head reads) on `mgc.frontends.MUSICNN_INPUT.from_audio(audio)`
    — the input levelled to one RMS level, cut into 3-s patches — for all of the patches or any of them (a 1-d
    array is one patch). The gate classifies each patch and averages their logits, so all of a clip's patches are
    read as well as a few. None (the default): the gate computes its own for at most
    `mgc.gate.embedding.GATE_PATCHES` patches spread over the input. Ignored by a gate that does not read musicnn.
    A wrong shape or a non-finite value raises ValueError.

    `measured`: `measure(samples, sample_rate)` when the caller made it already (on a worker thread, beside musicnn's
    network: `mgc.serve.prediction.listen`); None: measured here.
    """
    from .embedding import checked_embeddings, patch_embeddings

    gate = gate or load_gate()
    measured = measured if measured is not None else measure(samples, sample_rate)
    read = None
    if gate.reads_embedding:
        read = [checked_embeddings(embeddings) if embeddings is not None else patch_embeddings(samples, sample_rate)]
    p = gate.probabilities(measured.vector()[None], read)[0]
    probabilities = dict(zip(CLASSES, map(float, p)))
    is_music = bool(gate.music(probabilities["music"], measured.spectral_change))
    steady = measured.spectral_change < gate.least_change
    kind = "music" if is_music else "other" if steady else max(CLASSES[1:], key=probabilities.get)
    return GateResult(is_music, kind, probabilities, measured, () if is_music else reasons_for(kind, measured))


def reasons_for(kind: str, m: Measurements) -> tuple[str, ...]:
    """The measurements that make the sound unlike music, in words."""
    reasons = []
    if kind == "speech":
        reasons.append(f"it sounds like speech (a voice detector hears speech in {m.speech_share:.0%} of it)")
    else:
        reasons.append("it sounds like something other than music or speech")
    if m.beat_strength < 0.2:
        reasons.append(f"it has no steady beat (beat strength {m.beat_strength:.2f})")
    if m.pause_share > 0.1:
        reasons.append(f"{m.pause_share:.0%} of it is pauses")
    if m.flatness > 0.1:
        reasons.append(f"it is noise-like (spectral flatness {m.flatness:.2f})")
    if m.spectral_change < 0.2:
        reasons.append("its sound barely changes over time")
    if m.level_dbfs < -45:
        reasons.append(f"it is very quiet ({m.level_dbfs:.0f} dBFS)")
    return tuple(reasons)


__all__ = ["CLASSES", "Gate", "GateResult", "check", "gate_file", "load_gate", "measure"]
