"""Listening conditions (mgc.conditions) and their picture-domain imitations (mgc.train.picture_conditions)."""

import numpy as np
import pytest

from mgc import conditions
from mgc.frontends.picture import render_audio
from mgc.train.picture_conditions import (
    ConditionRecipe,
    PictureCondition,
    apply_condition,
    band_gain_db,
    filter_response,
    random_condition,
    room_kernel,
)
from tests.conftest import SR, sine_chord


def tone(frequency: float, seconds: float = 3.0, level: float = 0.3) -> np.ndarray:
    return (level * np.sin(2 * np.pi * frequency * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


def rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


def level_at(x: np.ndarray, frequency: float) -> float:
    """dB of the spectrum's peak near `frequency` (a Hann-windowed FFT of the whole signal)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    bins = np.fft.rfftfreq(len(x), 1 / SR)
    return 20 * np.log10(spectrum[np.abs(bins - frequency) < 5].max())


def test_the_phone_speaker_removes_at_least_20_db_below_its_cut_off():
    """Two tones of equal level, 60 Hz (below the 200-Hz cut-off) and 1 kHz: after the speaker the low one
    is at least 20 dB weaker than the other."""
    out = conditions.phone_speaker(tone(60.0, level=0.2) + tone(1000.0, level=0.2))
    assert level_at(out, 1000.0) - level_at(out, 60.0) >= 20


def test_a_room_lengthens_the_decay_and_a_larger_room_more():
    click = np.zeros(3 * SR, dtype=np.float32)
    click[SR // 2] = 0.9

    def tail(x: np.ndarray) -> float:  # share of the energy more than 100 ms after the click
        energy = np.square(x, dtype=np.float64)
        return energy[SR // 2 + SR // 10 :].sum() / energy.sum()

    dry, small, large = tail(click), tail(conditions.room(click, 0.3)), tail(conditions.room(click, 0.9))
    assert dry == 0 and 0 < small < large


@pytest.mark.parametrize("snr", [10.0, 20.0])
def test_noise_is_added_at_the_signal_to_noise_ratio_asked(snr):
    music = sine_chord(5.0)
    noisy = conditions.add_noise(music, conditions.pink_noise(len(music)), snr)
    assert rms_db(music) - rms_db(noisy - music) == pytest.approx(snr, abs=0.1)


@pytest.mark.parametrize("name", sorted(conditions.CONDITIONS))
def test_every_condition_gives_the_same_output_for_the_same_input(name):
    """Pins that each condition is repeatable (a benchmark measures the same sound twice) and that every one but
    "clean" changes the sound it is given."""
    music = sine_chord(4.0)
    first, second = conditions.apply(name, music), conditions.apply(name, music)
    assert np.array_equal(first, second) and first.dtype == np.float32 and np.isfinite(first).all()
    unchanged = len(first) == len(music) and np.allclose(first, music, atol=1e-4)
    assert unchanged == (name == "clean")


def test_pitch_up_raises_a_tone_by_a_semitone():
    shifted = conditions.pitch(tone(440.0), 1.0)
    spectrum = np.abs(np.fft.rfft(shifted[SR:]))
    peak = np.fft.rfftfreq(len(shifted) - SR, 1 / SR)[spectrum.argmax()]
    assert peak == pytest.approx(440 * 2 ** (1 / 12), rel=0.01)


def test_tempo_changes_the_duration_and_keeps_the_pitch():
    faster = conditions.tempo(tone(440.0, 4.0), 1.05)
    assert len(faster) == pytest.approx(4.0 * SR / 1.05, rel=0.02)
    spectrum = np.abs(np.fft.rfft(faster[SR // 2 : -SR // 2]))
    assert np.fft.rfftfreq(len(faster) - SR, 1 / SR)[spectrum.argmax()] == pytest.approx(440, rel=0.01)


def test_quiet_and_clipped_do_what_they_say():
    music = sine_chord(3.0)
    assert rms_db(conditions.level(music, -35.0)) == pytest.approx(-35.0, abs=0.01)
    clipped = conditions.clipped(music)
    assert np.abs(clipped).max() == 1.0 and (np.abs(clipped) == 1.0).mean() > 0.1


def test_the_random_chain_is_repeatable_from_its_generator():
    music = sine_chord(3.0)
    first = conditions.random_chain(music, np.random.default_rng(5))
    assert np.array_equal(first, conditions.random_chain(music, np.random.default_rng(5)))
    assert len(first) == len(music)


# --- the picture-domain imitations ------------------------------------------------------------------


def test_a_picture_without_a_condition_is_unchanged():
    picture = render_audio(sine_chord(8.0))
    assert np.abs(apply_condition(picture, PictureCondition()).numpy() - picture).max() < 1e-3


def test_a_filter_on_the_picture_matches_the_filter_on_the_audio():
    """A Butterworth high-pass at 400 Hz (4th order) on a chord with low notes: the imitation is far
    closer to the picture of the filtered audio than the clean picture is (documented tolerance: a mean
    difference of at most 3 colour indices)."""
    from scipy.signal import butter, sosfilt

    music = sine_chord(8.0, freqs=(110.0, 220.0, 880.0, 1760.0))
    truth = render_audio(sosfilt(butter(2, 400, btype="highpass", fs=SR, output="sos"), music).astype(np.float32))
    clean = render_audio(music)
    imitated = apply_condition(clean, PictureCondition(gain_db=band_gain_db(filter_response(highpass=400)))).numpy()
    assert np.abs(imitated - truth).mean() <= 3.0 < np.abs(clean.astype(float) - truth).mean()


def test_a_room_kernel_keeps_a_dry_impulse_dry_and_spreads_a_room():
    impulse = np.zeros(SR // 2, dtype=np.float32)
    impulse[0] = 1.0
    dry = room_kernel(impulse)
    reverberant = room_kernel(conditions.room_impulse_response(0.9, (10.0, 8.0, 3.5)))
    assert dry.shape[1] <= 2 and reverberant.shape[1] > 5


def test_random_conditions_come_at_the_rate_asked_and_keep_pictures_in_range():
    rng = np.random.default_rng(0)
    drawn = [random_condition(ConditionRecipe(probability=0.5), rng) for _ in range(200)]
    assert 70 < sum(c is not None for c in drawn) < 130
    picture = render_audio(sine_chord(8.0))
    for condition in [c for c in drawn if c is not None][:20]:
        out = apply_condition(picture, condition).numpy()
        assert out.shape == picture.shape and out.min() >= 0 and out.max() <= 255


@pytest.mark.real_data
def test_the_phone_speaker_imitation_is_closer_to_the_truth_than_the_clean_picture(real_data):
    """On real clips, the picture-domain phone speaker (its response measured through the audio condition)
    is within 8 colour indices of the rendered degraded audio on average over the clips, and closer than the
    clean picture on every clip (docs/real-world.md has every condition, measured at commit d35658b)."""
    from mgc import load_audio
    from tests.reference.filter_response import measured_gain_db

    gain = measured_gain_db(conditions.phone_speaker)
    imitation, baseline = [], []
    for clip in sorted(real_data.audio)[::30]:
        samples = load_audio(real_data.audio[clip]).samples
        clean, truth = render_audio(samples), render_audio(conditions.phone_speaker(samples))
        imitation.append(np.abs(apply_condition(clean, PictureCondition(gain_db=gain)).numpy() - truth).mean())
        baseline.append(np.abs(clean.astype(float) - truth).mean())
    assert np.mean(imitation) < 8.0 and all(i < b for i, b in zip(imitation, baseline))


def test_the_classroom_chain_with_other_noise_seeds_changes_the_noise_only():
    """`conditions.classroom`'s babble and hum seeds default to the benchmark's: given them explicitly it is the
    benchmark's chain sample for sample, and other seeds change the noise only (the same level of music, not the
    same samples) — what a fine-tuning on renders of the chain with fresh noise each time needs."""
    music = sine_chord(2.0)
    benchmark = conditions.classroom(music)
    np.testing.assert_array_equal(conditions.classroom(music, conditions.SEED + 1, conditions.SEED + 2), benchmark)
    other = conditions.classroom(music, 1_234_567, 7_654_321)
    assert other.shape == benchmark.shape and not np.array_equal(other, benchmark)
    assert abs(rms_db(other) - rms_db(benchmark)) < 1.5
