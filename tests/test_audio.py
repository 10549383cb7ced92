"""The audio loader: formats, rates, channels, and a clear AudioError for bad input."""

import struct

import numpy as np
import pytest
import soundfile

from mgc.data.audio import MAX_SECONDS, SAMPLE_RATE, load_audio
from mgc.errors import AudioError
from tests.conftest import encode, sine_chord


@pytest.mark.parametrize("format", ["WAV", "FLAC", "OGG", "MP3"])
def test_loads_common_formats_to_mono_22050(format):
    audio = load_audio(encode(sine_chord(3.0), format=format))
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.samples.ndim == 1 and audio.samples.dtype == np.float32
    assert abs(audio.seconds - 3.0) < 0.1


def test_opus_in_ogg_loads():
    audio = load_audio(encode(sine_chord(3.0, sr=48000), sr=48000, format="OGG", subtype="OPUS"))
    assert abs(audio.seconds - 3.0) < 0.1


def test_stereo_44100_is_resampled_and_mixed_down():
    left = sine_chord(2.0, sr=44100)
    audio = load_audio(encode(np.stack([left, left], axis=1), sr=44100))
    assert audio.source_sample_rate == 44100 and audio.source_channels == 2
    assert abs(len(audio.samples) - 2 * SAMPLE_RATE) <= 2


def test_loads_from_a_path_and_from_a_file_object(tmp_path):
    path = tmp_path / "chord.flac"
    path.write_bytes(encode(sine_chord(2.0), format="FLAC"))
    assert np.allclose(load_audio(path).samples, load_audio(open(path, "rb")).samples)


def test_long_audio_is_cut_at_the_limit_and_says_so():
    audio = load_audio(encode(sine_chord(5.0)), max_seconds=2.0)
    assert abs(audio.seconds - 2.0) < 0.01 and audio.truncated and abs(audio.source_seconds - 5.0) < 0.01
    assert MAX_SECONDS >= 60


def truncated_wav() -> bytes:
    data = encode(sine_chord(6.0), subtype="PCM_16")  # header still claims 6 s
    return data[: len(data) // 2]


def huge_header_wav() -> bytes:
    data = bytearray(encode(sine_chord(1.5), subtype="PCM_16"))
    data[40:44] = struct.pack("<I", 0x7FFFFFF0)  # data chunk claims ~2 GB
    return bytes(data)


BAD_INPUTS = {
    "empty file": (b"", "empty"),
    "random bytes named .mp3": (np.random.default_rng(1).bytes(5000), "not audio we can read"),
    "text named .flac": (b"This is a text file, not music.\n" * 50, "not audio: it is a text file"),
    "exact digital silence": (encode(np.zeros(SAMPLE_RATE * 3, dtype=np.float32)), "silent"),
    "0.05 s clip": (encode(sine_chord(0.05)), "too short"),
    "-90 dBFS noise": (
        encode(
            (10 ** (-90 / 20) * np.random.default_rng(2).standard_normal(SAMPLE_RATE * 3)).astype(np.float32),
            subtype="FLOAT",
        ),
        "silent",
    ),
    "opposite-phase stereo": (encode(np.stack([sine_chord(3.0), -sine_chord(3.0)], axis=1)), "cancel out"),
    "NaN samples": (encode(np.full(SAMPLE_RATE * 2, np.nan, dtype=np.float32), subtype="FLOAT"), "NaN"),
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_raises_audio_error_with_a_clear_message(name):
    data, phrase = BAD_INPUTS[name]
    with pytest.raises(AudioError, match=phrase):
        load_audio(data)


def test_truncated_wav_gives_the_audio_that_is_there():
    assert abs(load_audio(truncated_wav()).seconds - 3.0) < 0.05


def test_wav_claiming_a_huge_length_loads_what_is_there():
    audio = load_audio(huge_header_wav())
    assert abs(audio.seconds - 1.5) < 0.05


def test_missing_path_names_the_file(tmp_path):
    with pytest.raises(AudioError, match="there is no file"):
        load_audio(tmp_path / "missing.wav")


def test_a_folder_is_not_audio(tmp_path):
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)


@pytest.mark.real_data
def test_real_flac_clip_loads_exactly_30_seconds(real_data):
    audio = load_audio(real_data.audio["blues.00012"])
    assert len(audio.samples) == 661794
    reference, rate = soundfile.read(real_data.audio["blues.00012"], dtype="float32")
    assert rate == SAMPLE_RATE and np.array_equal(audio.samples, reference)
