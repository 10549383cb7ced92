#!/usr/bin/env python3
"""How close are the picture-domain listening conditions (training) to the real thing (degraded audio)?

    python tools/validate_picture_conditions.py [--data DIR] [--clips N] [--model crnn] [--split random]

For clips with audio and each listening condition that has a picture-domain counterpart: the truth is the
picture rendered from the degraded audio (`mgc.conditions`), the imitation is the clean clip's picture put
through the matching `PictureCondition` (`mgc.train.picture_conditions`), the baseline is the clean picture
itself. Printed per condition: the mean absolute difference to the truth in colour indices (imitation and
baseline), and how often a trained model's answer on the imitation equals its answer on the truth (and on
the baseline). The filter responses are measured by passing noise through the audio condition; the rooms'
decay from their impulse responses; the noises' spectra are those the audio conditions add.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mgc import conditions
from mgc.data.audio import load_audio
from mgc.data.gtzan import GTZAN
from mgc.frontends.picture import PICTURE, SAMPLE_RATE, render_audio
from mgc.runs import load_picture_model
from mgc.runs.outputs import window_outputs
from mgc.train.picture_conditions import (
    PictureCondition,
    apply_condition,
    band_gain_db,
    band_power,
    pink_spectrum,
    room_kernel,
    speech_spectrum,
)


def measured_gain_db(condition) -> np.ndarray:
    """The per-band gain of an audio condition, from 20 s of white noise through it (Welch power spectra)."""
    from scipy.signal import welch

    noise = (0.05 * np.random.default_rng(1).standard_normal(20 * SAMPLE_RATE)).astype(np.float32)
    _, before = welch(noise, SAMPLE_RATE, nperseg=2048)
    _, after = welch(condition(noise), SAMPLE_RATE, nperseg=2048)
    return band_gain_db(after / np.maximum(before, 1e-20))


def room(rt60: float, dimensions) -> np.ndarray:
    """The picture-domain kernel of the room the audio condition simulates (its impulse response)."""
    return room_kernel(conditions.room_impulse_response(rt60, tuple(dimensions)))


def matching() -> dict[str, PictureCondition]:
    """The picture-domain counterpart of each listening condition that has one."""
    pink, speech = band_power(pink_spectrum()), band_power(speech_spectrum())
    phone = measured_gain_db(conditions.phone_speaker)
    laptop = measured_gain_db(conditions.laptop_microphone)
    return {
        "mp3_64k": PictureCondition(gain_db=measured_gain_db(lambda x: conditions.mp3(x, 64))),
        "phone_speaker": PictureCondition(gain_db=phone),
        "laptop_microphone": PictureCondition(gain_db=laptop, compression=2.0),
        "small_room": PictureCondition(reverb=room(0.3, (4.0, 3.5, 2.6))),
        "large_room": PictureCondition(reverb=room(0.9, (10.0, 8.0, 3.5))),
        "pink_noise_20db": PictureCondition(noise_power=pink, snr_db=20.0),
        "pink_noise_10db": PictureCondition(noise_power=pink, snr_db=10.0),
        "babble_20db": PictureCondition(noise_power=speech, snr_db=20.0),
        "babble_10db": PictureCondition(noise_power=speech, snr_db=10.0),
        "classroom": PictureCondition(
            gain_db=phone + laptop + measured_gain_db(lambda x: conditions.mp3(x, 32)),
            noise_power=0.5 * pink + 0.5 * speech,
            snr_db=15.0,
            reverb=room(0.6, (8.0, 7.0, 3.0)),
            compression=2.0,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--model", default="crnn")
    parser.add_argument("--split", default="random")
    args = parser.parse_args()
    dataset = GTZAN(args.data)
    clips = sorted(dataset.audio)[:: max(1, len(dataset.audio) // args.clips)][: args.clips]
    network, _ = load_picture_model(args.model, args.split)
    imitations = matching()

    def answer(picture) -> int:
        return int(window_outputs(network, PICTURE, np.asarray(picture, dtype=np.float32))[0].mean(axis=0).argmax())

    rows = {name: {"imitation": [], "baseline": [], "same_answer": 0, "baseline_same": 0} for name in imitations}
    for clip in clips:
        samples = load_audio(dataset.audio[clip]).samples
        clean = render_audio(samples)
        for name, imitation in imitations.items():
            truth = render_audio(conditions.apply(name, samples))
            imitated = apply_condition(clean, imitation).numpy()
            width = min(truth.shape[1], clean.shape[1])
            rows[name]["imitation"].append(np.abs(imitated[:, :width] - truth[:, :width]).mean())
            rows[name]["baseline"].append(np.abs(clean[:, :width].astype(float) - truth[:, :width]).mean())
            rows[name]["same_answer"] += answer(imitated) == answer(truth)
            rows[name]["baseline_same"] += answer(clean) == answer(truth)
    print(f"{len(clips)} clips; mean absolute difference to the rendered degraded audio, in colour indices (0..255)")
    print(f"{'condition':20} {'imitation':>10} {'clean':>8}   same {args.model} answer: imitation / clean")
    for name, row in rows.items():
        print(
            f"{name:20} {np.mean(row['imitation']):10.1f} {np.mean(row['baseline']):8.1f}   "
            f"{row['same_answer']:3d} / {row['baseline_same']:3d} of {len(clips)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
