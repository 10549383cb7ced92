"""The not-music gate: is this music at all, and if not, does it sound like speech or like something else?

A genre classifier always answers with one of its ten genres, even for a reading or a vacuum cleaner. The gate
measures the sound (`measure`: Silero VAD's share of speech, pauses, flatness, beat, …) and weighs the
measurements with a small model fitted on a labelled set that the project builds by a recipe (`labelled_set`):
a multinomial logistic regression over the standardised measurements and their pairwise products, three
classes (music, speech, other). The input is music when P(music) reaches the gate's threshold. Weights,
threshold and how they were chosen are in `checkpoints/gate/gate.json`, written by
`python -m mgc check-gate --fit`; `python -m mgc check-gate` reports how often each kind is flagged (`fit`).

Every model goes through the same gate: it reads the audio, not a model's answer.
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
    """A fitted gate: standardisation, the logistic regression's weights, and the music threshold."""

    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    """(classes, expanded features)."""
    intercepts: np.ndarray
    threshold: float
    """The input is music when P(music) ≥ this."""

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """(inputs, classes) probabilities of music, speech and other for measurement rows in `NAMES` order."""
        z = expanded((transformed(vectors) - self.mean) / self.scale)
        logits = z @ self.coefficients.T + self.intercepts
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict:
        return {
            "measurements": list(NAMES),
            "classes": list(CLASSES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coefficients": self.coefficients.tolist(),
            "intercepts": self.intercepts.tolist(),
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, saved: dict) -> Gate:
        if saved.get("measurements") != list(NAMES):
            from ..errors import CheckpointError

            raise CheckpointError(
                "the gate in checkpoints/gate/gate.json was fitted on other measurements: "
                "fit it again with python -m mgc check-gate --fit"
            )
        return cls(
            np.asarray(saved["mean"]),
            np.asarray(saved["scale"]),
            np.asarray(saved["coefficients"]),
            np.asarray(saved["intercepts"]),
            float(saved["threshold"]),
        )


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


def check(samples: np.ndarray, sample_rate: int = 22050, gate: Gate | None = None) -> GateResult:
    """Measure a sound and weigh the measurements with the shipped gate (or `gate`)."""
    gate = gate or load_gate()
    measured = measure(samples, sample_rate)
    p = gate.probabilities(measured.vector()[None])[0]
    probabilities = dict(zip(CLASSES, map(float, p)))
    is_music = probabilities["music"] >= gate.threshold
    kind = "music" if is_music else max(CLASSES[1:], key=probabilities.get)
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
