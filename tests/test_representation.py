"""The mel-picture representation: drawn from audio exactly as Kaggle drew GTZAN's pictures."""

import numpy as np
import pytest

from mgc.data.audio import load_audio
from mgc.errors import AudioError
from mgc.frontends.picture import (
    COLUMNS_PER_CLIP,
    MEL_BASIS_FILE,
    N_MELS,
    frame_of_column,
    invert_picture,
    piece_bounds,
    render_audio,
)
from tests.conftest import SR, sine_chord
from tests.reference.seed_style import librosa_picture


def test_the_stored_mel_basis_is_librosas():
    import librosa

    with np.load(MEL_BASIS_FILE) as stored:
        np.testing.assert_array_equal(stored["mel_basis"], librosa.filters.mel(sr=SR, n_fft=2048, n_mels=N_MELS))


@pytest.mark.parametrize("seconds", [3.0, 30.0])
def test_the_torch_front_end_draws_librosas_picture_to_float_rounding(seconds):
    """render_audio (torch) against librosa's own calls: at most one colour index apart, on ≤ 0.01 % of values."""
    y = sine_chord(seconds, freqs=(110.0, 440.0, 1760.0)) * np.linspace(0.1, 1.0, int(seconds * SR), dtype=np.float32)
    ours, reference = render_audio(y), librosa_picture(y)
    difference = np.abs(ours.astype(int) - reference.astype(int))
    assert ours.shape == reference.shape and difference.max() <= 1 and np.mean(difference > 0) <= 1e-4


def test_a_30_second_clip_renders_to_128_by_334():
    picture = render_audio(sine_chord(661794 / SR))
    assert picture.shape == (N_MELS, COLUMNS_PER_CLIP) and picture.dtype == np.uint8


def test_short_audio_keeps_the_column_rate_of_a_30_second_clip():
    assert render_audio(sine_chord(3.0)).shape == (N_MELS, 34)


def test_long_audio_is_drawn_as_equal_pieces_of_at_most_31_seconds():
    bounds = piece_bounds(int(120 * SR))
    assert len(bounds) == 4 and all(abs((b - a) / SR - 30) < 0.01 for a, b in bounds)
    assert render_audio(sine_chord(120.0)).shape == (N_MELS, 4 * COLUMNS_PER_CLIP)


def test_each_piece_has_its_own_loudest_bin_at_the_top_colour():
    loud_then_quiet = np.concatenate([sine_chord(30.0), 0.01 * sine_chord(30.0)])
    picture = render_audio(loud_then_quiet)
    assert picture[:, :334].max() == 255 and picture[:, 334:].max() == 255


def test_low_frequencies_are_in_the_first_rows():
    picture = render_audio(sine_chord(5.0, freqs=(100.0,)))
    assert picture.mean(axis=1).argmax() < 10
    high = render_audio(sine_chord(5.0, freqs=(8000.0,)))
    assert high.mean(axis=1).argmax() > 100


def test_columns_map_to_kaggles_measured_frames():
    frames = frame_of_column(334, 1293)
    assert frames[0] == 7 and frames[-1] == 1292 and np.all(np.diff(frames) >= 3)


def test_render_refuses_other_rates_and_stereo():
    with pytest.raises(AudioError, match="22050"):
        render_audio(sine_chord(2.0), sample_rate=44100)
    with pytest.raises(AudioError, match="mono"):
        render_audio(np.zeros((2, SR * 2), dtype=np.float32))


@pytest.mark.real_data
def test_inverted_picture_is_128_by_334_colour_indices(real_data):
    picture = invert_picture(real_data.pictures["blues.00000"])
    assert picture.shape == (N_MELS, COLUMNS_PER_CLIP) and picture.dtype == np.uint8
    assert picture.max() == 255


@pytest.mark.real_data
def test_rendered_audio_matches_every_kaggle_picture_within_one_colour_index(real_data):
    """Parity over every clip with both audio and a picture: ±1 on ≥ 99.9 % of values."""
    both = sorted(set(real_data.audio) & set(real_data.pictures))
    assert len(both) >= 150
    worst = 1.0
    for track in both:
        rendered = render_audio(load_audio(real_data.audio[track]).samples)
        inverted = invert_picture(real_data.pictures[track])
        assert rendered.shape == inverted.shape, track
        within = np.mean(np.abs(rendered.astype(int) - inverted.astype(int)) <= 1)
        worst = min(worst, within)
        assert within >= 0.999, f"{track}: only {within:.4%} within ±1"
    assert worst >= 0.999
