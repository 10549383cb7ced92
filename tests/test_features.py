"""mgc.features: Kaggle's 57 GTZAN features from audio.

Known values on synthetic signals, and agreement with features_30_sec.csv on real clips when the data is there.
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest

from mgc.frontends.features import FEATURE_NAMES, MIN_SAMPLES, extract_features

SR = 22050


def feature(values: np.ndarray, name: str) -> float:
    return float(values[FEATURE_NAMES.index(name)])


def sine(freq: float, seconds: float = 3.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def sine_1khz() -> np.ndarray:
    return extract_features(sine(1000.0))


@pytest.fixture(scope="module")
def white_noise() -> np.ndarray:
    rng = np.random.default_rng(0)
    return extract_features((0.3 * rng.standard_normal(3 * SR)).astype(np.float32))


# --- the names -------------------------------------------------------------------------------------


def test_feature_names_are_57_unique_columns():
    assert len(FEATURE_NAMES) == 57
    assert len(set(FEATURE_NAMES)) == 57


def test_feature_names_follow_the_csv_layout():
    assert FEATURE_NAMES[:4] == ("chroma_stft_mean", "chroma_stft_var", "rms_mean", "rms_var")
    assert FEATURE_NAMES[14:19] == ("perceptr_mean", "perceptr_var", "tempo", "mfcc1_mean", "mfcc1_var")
    assert FEATURE_NAMES[-1] == "mfcc20_var"


# --- known values on synthetic signals ----------------------------------------------------------


def test_result_is_a_float64_vector_of_57(sine_1khz):
    assert sine_1khz.shape == (57,)
    assert sine_1khz.dtype == np.float64


def test_sine_1khz_has_spectral_centroid_near_1000_hz(sine_1khz):
    assert feature(sine_1khz, "spectral_centroid_mean") == pytest.approx(1000.0, rel=0.01)


def test_sine_1khz_has_zero_crossing_rate_near_2f_over_sr(sine_1khz):
    assert feature(sine_1khz, "zero_crossing_rate_mean") == pytest.approx(2 * 1000.0 / SR, rel=0.02)


def test_sine_1khz_has_rolloff_within_two_fft_bins_of_1000_hz(sine_1khz):
    assert abs(feature(sine_1khz, "rolloff_mean") - 1000.0) <= 2 * SR / 2048


def test_sine_1khz_has_a_narrow_spectral_bandwidth(sine_1khz):
    assert feature(sine_1khz, "spectral_bandwidth_mean") < 100.0


def test_sine_rms_is_amplitude_over_root_two(sine_1khz):
    assert feature(sine_1khz, "rms_mean") == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_steady_sine_has_steady_frames(sine_1khz):
    # Only the edge frames (which see the reflect padding) differ: a spread of a few % at most.
    centroid_spread = np.sqrt(feature(sine_1khz, "spectral_centroid_var"))
    assert centroid_spread < 0.05 * feature(sine_1khz, "spectral_centroid_mean")
    assert np.sqrt(feature(sine_1khz, "rms_var")) < 0.01 * feature(sine_1khz, "rms_mean")


def test_steady_sine_is_harmonic_not_percussive(sine_1khz):
    assert feature(sine_1khz, "harmony_var") > 100 * feature(sine_1khz, "perceptr_var")


def test_white_noise_has_centroid_near_a_quarter_of_the_sample_rate(white_noise):
    assert feature(white_noise, "spectral_centroid_mean") == pytest.approx(SR / 4, rel=0.05)


def test_white_noise_has_rolloff_near_85_percent_of_nyquist(white_noise):
    assert feature(white_noise, "rolloff_mean") == pytest.approx(0.85 * SR / 2, rel=0.03)


def test_white_noise_crosses_zero_on_half_the_samples(white_noise):
    assert feature(white_noise, "zero_crossing_rate_mean") == pytest.approx(0.5, rel=0.03)


def test_white_noise_has_a_much_wider_bandwidth_than_a_sine(white_noise, sine_1khz):
    assert feature(white_noise, "spectral_bandwidth_mean") > 20 * feature(sine_1khz, "spectral_bandwidth_mean")


def test_click_track_at_120_bpm_has_tempo_near_120():
    assert feature(extract_features(click_track(120.0)), "tempo") == pytest.approx(120.0, rel=0.05)


def test_silence_gives_finite_values_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = extract_features(np.zeros(2 * SR, dtype=np.float32))
    assert np.isfinite(values).all()


def test_silence_has_zero_energy_and_zero_tempo():
    values = extract_features(np.zeros(2 * SR, dtype=np.float32))
    assert feature(values, "rms_mean") == 0.0
    assert feature(values, "tempo") == 0.0


def test_one_second_clip_gives_57_finite_values():
    assert np.isfinite(extract_features(sine(440.0, seconds=1.0))).all()


def test_float64_input_gives_the_same_features_as_float32():
    noise = np.random.default_rng(1).standard_normal(2 * SR).astype(np.float32)
    y = sine(440.0, seconds=2.0) + np.float32(0.01) * noise
    np.testing.assert_array_equal(extract_features(y.astype(np.float64)), extract_features(y))


# --- the same numbers as librosa's own calls (tests/librosa_features.py, the extractor mgc used before) ---

AGREEMENT = 1e-4
"""Relative: float32 rounding in a different order (torch's STFT and sums, not numpy's) — measured ≤ 2e-5."""
MFCC_AGREEMENT = 1e-3
"""Absolute, in the MFCCs' dB units (real clips' coefficients span ±hundreds): a constant log-mel's higher
coefficients are 0 in scipy's DCT and ~1e-5 in a float32 matrix product."""
PROBABILITY_AGREEMENT = 1e-4
"""What a feature-reading run answers with the torch features and with librosa's: the same to float rounding."""
HPSS_MEAN_AGREEMENT = 1e-8
"""Absolute, for the near-zero means of the HPSS waveforms (1e-7 of their RMS): see NEAR_ZERO_ABS below."""


def disagreements(ours: np.ndarray, reference: np.ndarray) -> list[str]:
    found = []
    for name, got, want in zip(FEATURE_NAMES, ours, reference):
        if name == "tempo":
            agrees = got == want  # an argmax over tempi: the same tempo or a different one
        elif name in ("harmony_mean", "perceptr_mean"):
            agrees = abs(got - want) <= HPSS_MEAN_AGREEMENT
        else:
            agrees = abs(got - want) <= AGREEMENT * abs(want) + (MFCC_AGREEMENT if name.startswith("mfcc") else 1e-12)
        if not agrees:
            found.append(f"{name}: {got:.8g} vs librosa {want:.8g}")
    return found


def click_track(bpm: float = 120.0, seconds: float = 10.0) -> np.ndarray:
    y = np.zeros(int(seconds * SR), dtype=np.float32)
    for start in range(0, len(y) - 200, int(SR * 60 / bpm)):
        y[start : start + 200] = np.hanning(200) * np.sign(np.sin(np.arange(200)))
    return y


def with_hiss(y: np.ndarray) -> np.ndarray:
    """y with white noise 60 dB under it: far from a pure tone's peak its spectrum is otherwise float32 FFT
    rounding (~1e-7 of the peak), which differs between FFT libraries and decides its bandwidth to ~3 %."""
    return y + (1e-3 * np.random.default_rng(7).standard_normal(len(y))).astype(np.float32)


SYNTHETIC = {
    "sine 1 kHz": lambda: with_hiss(sine(1000.0)),
    "detuned chord": lambda: with_hiss(sine(452.0) + sine(569.5, amplitude=0.3) + sine(678.0, amplitude=0.2)),
    "white noise": lambda: (0.3 * np.random.default_rng(0).standard_normal(3 * SR)).astype(np.float32),
    "clicks at 120 BPM": click_track,
    "silence": lambda: np.zeros(2 * SR, dtype=np.float32),
    "one second": lambda: with_hiss(sine(440.0, seconds=1.0)),
    "odd length": lambda: with_hiss(sine(220.0, seconds=2.0)[: 2 * SR - 37]),
}


@pytest.mark.parametrize("name", SYNTHETIC)
def test_every_feature_equals_librosas_own_calls_on_synthetic_signals(name):
    from tests.librosa_features import librosa_features

    y = SYNTHETIC[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns on silence (no tuning peaks); ours does not
        reference = librosa_features(y)
    assert not disagreements(extract_features(y), reference)


def test_extracting_features_never_imports_librosa_or_scipy_signal():
    """Their import costs a server ~200 MB (numba, llvmlite, scipy.signal) that the torch extractor does not need."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from mgc.frontends.features import extract_features; "
        "extract_features((0.1 * np.sin(np.arange(44100) / 7)).astype(np.float32)); "
        "print(sorted(m for m in ('librosa', 'numba', 'scipy.signal') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_median_rows_equal_scipys_filter_row_by_row():
    import scipy.ndimage

    from mgc.frontends.features import HPSS_KERNEL, _median_rows

    X = np.abs(np.random.default_rng(3).standard_normal((40, 300))).astype(np.float32)
    X[:, 100:140] = 0.0  # ties
    expected = np.stack([scipy.ndimage.median_filter(row, size=HPSS_KERNEL, mode="reflect") for row in X])
    np.testing.assert_array_equal(_median_rows(X), expected)


def test_hpss_masks_equal_librosas():
    import torch

    from mgc.frontends.features import _hpss_masks

    rng = np.random.default_rng(2)
    y = sine(330.0, seconds=2.0) + (0.05 * rng.standard_normal(2 * SR)).astype(np.float32)
    y[SR : SR + 3000] = 0.0  # a silent stretch: both filtered values 0, masks ½
    D = librosa.stft(y, pad_mode="reflect")
    ours = _hpss_masks(torch.from_numpy(np.abs(D)))
    for got, want in zip(ours, librosa.decompose.hpss(D, mask=True)):
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("tuning", [0.0, -0.5, -0.13, 0.27, 0.49])
def test_chroma_filter_bank_equals_librosas(tuning):
    from mgc.frontends.features import chroma_filter_bank

    np.testing.assert_array_equal(
        chroma_filter_bank(SR, tuning), librosa.filters.chroma(sr=SR, n_fft=2048, tuning=tuning)
    )


@pytest.mark.parametrize("name", ["detuned chord", "sine 1 kHz", "white noise"])
def test_estimated_tuning_equals_librosas(name):
    from mgc.frontends.features import _tuning, _tuning_peaks

    P = np.abs(librosa.stft(SYNTHETIC[name](), pad_mode="reflect")) ** 2
    assert _tuning(*_tuning_peaks(P, SR)) == librosa.estimate_tuning(S=P, sr=SR, bins_per_octave=12)


def test_periodic_hann_equals_scipys():
    import scipy.signal

    from mgc.frontends.features import periodic_hann

    for size in (7, 344, 2048):
        np.testing.assert_array_equal(periodic_hann(size), scipy.signal.get_window("hann", size, fftbins=True))


@pytest.mark.parametrize(
    "bad, reason",
    [
        (np.zeros((2, SR), dtype=np.float32), "mono"),
        (np.zeros(MIN_SAMPLES - 1, dtype=np.float32), "at least"),
        (np.full(SR, np.nan, dtype=np.float32), "NaN"),
    ],
)
def test_rejects_input_it_cannot_analyse(bad, reason):
    with pytest.raises(ValueError, match=reason):
        extract_features(bad)


# --- the real thing: Kaggle's CSV --------------------------------------------------------------

NEAR_ZERO_ABS = {"harmony_mean": 1e-8, "perceptr_mean": 1e-8}
"""Means of zero-centred waveforms (|value| down to ~1e-9, RMS ~0.1): also judged absolutely,
as in tools/validate_features.py (see mgc.frontends.features)."""


@pytest.mark.real_data
def test_feature_names_are_the_csv_columns(real_data):
    columns = list(real_data.features.columns)
    assert tuple(columns[columns.index("length") + 1 : columns.index("label")]) == FEATURE_NAMES


@pytest.mark.real_data
def test_features_match_kaggle_csv_on_one_clip_per_genre(real_data):
    from mgc.data.audio import load_audio
    from mgc.data.gtzan import genre_of

    tracks = {}
    for track in real_data.audio:
        if track in real_data.features.index:
            tracks.setdefault(genre_of(track), track)
    if not tracks:
        pytest.skip("the GTZAN folder has no clip with both audio and a features_30_sec.csv row")
    mismatches = []
    for track in tracks.values():
        ours = extract_features(load_audio(real_data.audio[track]).samples)
        reference = real_data.features.loc[track, list(FEATURE_NAMES)].to_numpy(dtype=float)
        for name, got, want in zip(FEATURE_NAMES, ours, reference):
            if abs(got - want) > 0.01 * abs(want) and not abs(got - want) <= NEAR_ZERO_ABS.get(name, 0.0):
                mismatches.append(f"{track} {name}: {got:.6g} vs CSV {want:.6g}")
    assert not mismatches, "\n".join(mismatches)


def feature_runs() -> list[tuple[str, str]]:
    """Every shipped run that reads the 57 features (the tabular models and the hybrid), on both splits."""
    from mgc.models import family
    from mgc.runs import available_runs, is_ensemble, read_json, run_dir

    return [
        (model, split)
        for model, split in available_runs()
        if not is_ensemble(model, split)
        and "features" in family(read_json(run_dir(model, split) / "training.json")["family"]).frontend.version
    ]


@pytest.mark.real_data
def test_every_feature_equals_librosas_own_calls_on_real_clips(real_data):
    """Two clips per genre (the first two with audio): the torch extractor against librosa's calls, and what
    every shipped run that reads the features answers with either (the largest probability difference)."""
    from mgc.data.audio import load_audio
    from mgc.data.gtzan import genre_of
    from mgc.frontends import PICTURE
    from mgc.models import family
    from mgc.runs import load_model
    from mgc.runs.outputs import window_outputs
    from tests.librosa_features import librosa_features

    chosen: dict[str, list[str]] = {}
    for track in sorted(real_data.audio):
        if len(chosen.setdefault(genre_of(track), [])) < 2:
            chosen[genre_of(track)].append(track)
    runs = feature_runs()
    assert len(runs) >= 2 * 6, f"expected the tabular runs and the hybrid on both splits, found {runs}"
    found, largest = [], 0.0
    for track in [t for tracks in chosen.values() for t in tracks]:
        audio = load_audio(real_data.audio[track])
        ours, reference = extract_features(audio.samples), librosa_features(audio.samples)
        found += [f"{track} {line}" for line in disagreements(ours, reference)]
        picture = PICTURE.from_audio(audio)
        for model, split in runs:
            network, saved = load_model(model, split)
            frontend = family(saved["family"]).frontend
            with_ours, with_reference = (
                window_outputs(network, frontend, (picture, row) if frontend.parts else row)[0]
                for row in (ours, reference)
            )
            largest = max(largest, float(np.abs(with_ours - with_reference).max()))
    assert not found, "\n".join(found)
    assert largest <= PROBABILITY_AGREEMENT, f"a run's probability moved by {largest:.2e}"


# --- long input: pieces, pooled --------------------------------------------------------------------


def test_pooled_statistics_equal_those_of_the_whole():
    from mgc.frontends.features import pooled

    rng = np.random.default_rng(5)
    groups = [rng.normal(mean, 2.0, size) for mean, size in ((0.0, 300), (5.0, 1000), (-3.0, 17))]
    mean, variance = pooled([(len(g), float(np.mean(g)), float(np.var(g))) for g in groups])
    whole = np.concatenate(groups)
    assert mean == pytest.approx(np.mean(whole), rel=1e-12) and variance == pytest.approx(np.var(whole), rel=1e-12)
    assert pooled([(10, 1.5, 0.25)]) == (1.5, 0.25)


def test_ten_minutes_take_about_the_memory_of_a_thirty_second_clip():
    """Pieces of at most 31 s, one after another: the whole 10 minutes at once took ~1.4 GB more."""
    import subprocess
    import sys

    code = """
import resource, sys
import numpy as np
from mgc.frontends.features import extract_features
noise = lambda seconds: (0.1 * np.random.default_rng(0).standard_normal(seconds * 22050)).astype(np.float32)
extract_features(noise(3))  # torch and scipy loaded
y = noise(int(sys.argv[1]))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
extract_features(y)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    grown = float(
        subprocess.run([sys.executable, "-c", code, "600"], capture_output=True, text=True, check=True).stdout
    )
    assert grown < 300, f"10 minutes took {grown:.0f} MB more (a 30-s clip ~80 MB; all at once it was ~1,400 MB)"


@pytest.mark.real_data
def test_long_input_in_pieces_gives_what_the_whole_input_gives(real_data):
    """Three GTZAN clips end to end (~90 s: three pieces), against librosa's calls on the whole input at once."""
    from mgc.data.audio import load_audio
    from tests.librosa_features import librosa_features

    tracks = sorted(real_data.audio)[::50][:3]
    y = np.concatenate([load_audio(real_data.audio[t]).samples for t in tracks])
    assert not disagreements(extract_features(y), librosa_features(y))
