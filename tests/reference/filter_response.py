"""A listening condition's filter measured the way one measures a loudspeaker: white noise through it.

The reference the picture-domain conditions (`mgc.train.picture_conditions`) are checked against in
`tests/test_conditions.py`: the per-mel-band gain of an audio condition (`mgc.conditions`), from Welch power spectra
of 20 s of white noise before and after it. Not part of the installed package.
"""

from __future__ import annotations

import numpy as np

from mgc.frontends.picture import SAMPLE_RATE
from mgc.train.picture_conditions import band_gain_db


def measured_gain_db(condition) -> np.ndarray:
    """The per-band gain (dB) of an audio condition, from 20 s of white noise through it (Welch power spectra)."""
    from scipy.signal import welch

    noise = (0.05 * np.random.default_rng(1).standard_normal(20 * SAMPLE_RATE)).astype(np.float32)
    _, before = welch(noise, SAMPLE_RATE, nperseg=2048)
    _, after = welch(condition(noise), SAMPLE_RATE, nperseg=2048)
    return band_gain_db(after / np.maximum(before, 1e-20))
