"""The taggram: what musicnn, trained on the Million Song Dataset's tags, hears in a piece of audio."""

from __future__ import annotations

import numpy as np
import pytest

import mgc
from mgc.data.examples import example
from mgc.explain import Taggram, taggram
from mgc.frontends.musicnn_input import PATCH_SECONDS
from mgc.models.musicnn import TAGS, load_musicnn
from tests.conftest import encode, sine_chord


@pytest.fixture(scope="module")
def chord_taggram() -> Taggram:
    return taggram(encode(sine_chord(10.0)))


def test_the_taggram_has_one_row_per_3_s_patch_and_a_column_per_msd_tag(chord_taggram):
    timeline = chord_taggram.timeline
    assert list(timeline.columns[:2]) == ["start", "end"] and chord_taggram.tags == list(load_musicnn().tags)
    assert timeline.shape == (3, 2 + TAGS) and chord_taggram.model == "MSD_musicnn"
    np.testing.assert_allclose(timeline["start"], [0, PATCH_SECONDS, 2 * PATCH_SECONDS])
    values = timeline[chord_taggram.tags].to_numpy()
    assert ((values > 0) & (values < 1)).all()  # each tag its own probability: they need not sum to one


def test_top_tags_are_the_highest_mean_probabilities_highest_first(chord_taggram):
    top = chord_taggram.top_tags(5)
    means = chord_taggram.timeline[chord_taggram.tags].mean()
    assert len(top) == 5 and list(top.index) == list(means.sort_values(ascending=False).index[:5])
    assert top.is_monotonic_decreasing and top.iloc[0] == means.max()


def test_the_taggram_of_a_file_equals_that_of_its_decoded_audio():
    data = encode(sine_chord(4.0))
    np.testing.assert_array_equal(taggram(data).timeline.to_numpy(), taggram(mgc.load_audio(data)).timeline.to_numpy())


def test_magnatagatunes_network_gives_its_own_tags():
    heard = taggram(encode(sine_chord(4.0)), model="MTT_musicnn")
    assert heard.model == "MTT_musicnn" and heard.tags[:2] == ["guitar", "classical"]


def test_mgc_taggram_is_the_one_line_entry_point():
    assert mgc.taggram is taggram


def test_a_shipped_trumpet_solo_is_heard_as_jazz_and_a_woman_singing_as_female_vocalists():
    assert taggram(example("trumpet").file).top_tags(1).index[0] == "jazz"
    assert "female vocalists" in taggram(example("lets-go-fishin").file).top_tags(2).index


def test_audio_that_cannot_be_decoded_raises_the_audio_error():
    with pytest.raises(mgc.AudioError):
        taggram(b"this is not audio " * 100)
