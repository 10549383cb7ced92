"""Fitting a run's calibration on its valid part, and measuring how honest its probabilities are.

* `fit_temperature` — the temperature that minimises the valid part's log-loss (Guo et al. 2017, "On
  calibration of modern neural networks"): one number, so 100 valid tracks are enough, and accuracy cannot change.
* `fit_unsure_margin` — the top-two margin under which the top genre is right less than half the time: a logistic
  regression of "the top genre was right" on the margin, over the valid tracks, solved for 50 %.
* `expected_calibration_error` and `reliability` — the test part's gap between confidence and accuracy, in
  equal-width confidence bins (what the Evaluation page's reliability diagram draws); `honest_model_ece` — what
  a perfectly calibrated model would score on as many tracks (the estimate's own noise floor).
"""

from __future__ import annotations

import numpy as np

from ..runs.calibration import calibrate

RELIABILITY_BINS = 10


def log_loss(labels: np.ndarray, probabilities: np.ndarray) -> float:
    p = np.clip(np.asarray(probabilities, dtype=np.float64)[np.arange(len(labels)), labels], 1e-12, 1.0)
    return float(-np.log(p).mean())


def fit_temperature(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the log-loss of `calibrate(probabilities, T)`; 1 (left as it
    is) when every valid track's top genre is right: the log-loss then only falls as the probabilities sharpen, so
    the fit would run to the bound and call every answer certain (the musicnn head's 16 valid clips, all right)."""
    from scipy.optimize import minimize_scalar

    if (np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)).all():
        return 1.0
    result = minimize_scalar(
        lambda log_t: log_loss(labels, calibrate(probabilities, float(np.exp(log_t)))),
        bounds=(np.log(0.05), np.log(20.0)),
        method="bounded",
    )
    return float(np.exp(result.x))


def top_two_margin(probabilities: np.ndarray) -> np.ndarray:
    ordered = np.sort(np.asarray(probabilities), axis=-1)
    return ordered[..., -1] - ordered[..., -2]


def fit_unsure_margin(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The margin at which a logistic fit of P(top genre right | margin) crosses 50 %; 0 when the top genre is
    right more often than not at every margin (never unsure), and at most 0.5."""
    from sklearn.linear_model import LogisticRegression

    margin = top_two_margin(probabilities)
    right = np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)
    if right.all() or not right.any():
        return 0.0
    fit = LogisticRegression(C=1e6).fit(margin[:, None], right)
    slope, intercept = float(fit.coef_[0, 0]), float(fit.intercept_[0])
    if slope <= 0 or intercept >= 0:
        return 0.0
    return float(min(-intercept / slope, 0.5))


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = RELIABILITY_BINS) -> list[dict]:
    """Per confidence bin (equal widths over [0, 1]) with any tracks: its range, the tracks in it, their mean
    confidence (the top probability) and how many of them the top genre got right."""
    confidence = np.asarray(probabilities).max(axis=1)
    right = np.asarray(probabilities).argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "tracks": int(inside.sum()),
                    "confidence": float(confidence[inside].mean()),
                    "accuracy": float(right[inside].mean()),
                }
            )
    return rows


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """ECE: the tracks-weighted mean gap between confidence and accuracy over the reliability bins."""
    rows = reliability(labels, probabilities, bins)
    total = sum(row["tracks"] for row in rows)
    return float(sum(row["tracks"] * abs(row["confidence"] - row["accuracy"]) for row in rows) / total)


def honest_model_eces(probabilities: np.ndarray, draws: int = 1000, seed: int = 0) -> np.ndarray:
    """The ECEs that a perfectly calibrated model with these very confidences shows on this many tracks, `draws` of
    them: each draw's labels are drawn from the probabilities themselves. On a few hundred tracks the ECE is never
    0 — this is its floor, the yardstick for the measured one."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(p, axis=1)
    eces = []
    for _ in range(draws):
        u = rng.random((len(p), 1))
        labels = np.minimum((cumulative < u).sum(axis=1), p.shape[1] - 1)
        eces.append(expected_calibration_error(labels, p))
    return np.array(eces)


def honest_model_ece(probabilities: np.ndarray, draws: int = 1000, seed: int = 0) -> dict:
    """The median and the 95th percentile of `honest_model_eces`."""
    eces = honest_model_eces(probabilities, draws, seed)
    return {"median": float(np.median(eces)), "p95": float(np.percentile(eces, 95))}


def fit_calibration(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Everything `calibration.json` holds, fitted on valid-part labels and (uncalibrated) probabilities."""
    temperature = fit_temperature(labels, probabilities)
    calibrated = calibrate(probabilities, temperature)
    return {
        "temperature": temperature,
        "unsure_margin": fit_unsure_margin(labels, calibrated),
        "valid_tracks": len(labels),
        "valid_log_loss_uncalibrated": log_loss(labels, probabilities),
        "valid_log_loss": log_loss(labels, calibrated),
        "valid_ece_uncalibrated": expected_calibration_error(labels, probabilities),
        "valid_ece": expected_calibration_error(labels, calibrated),
    }


def calibration_metrics(labels: np.ndarray, uncalibrated: np.ndarray, calibrated: np.ndarray, fitted: dict) -> dict:
    """The test part's calibration, before and after, for `metrics.json`."""
    return {
        "temperature": fitted["temperature"],
        "unsure_margin": fitted["unsure_margin"],
        "ece_uncalibrated": expected_calibration_error(labels, uncalibrated),
        "ece": expected_calibration_error(labels, calibrated),
        "log_loss_uncalibrated": log_loss(labels, uncalibrated),
        "log_loss": log_loss(labels, calibrated),
        "reliability_uncalibrated": reliability(labels, uncalibrated),
        "reliability": reliability(labels, calibrated),
        "unsure_tracks": int((top_two_margin(calibrated) < fitted["unsure_margin"]).sum()),
        "ece_of_an_honest_model": honest_model_ece(calibrated),
    }
