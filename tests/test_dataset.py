"""The dataset folder, track names and splits: always by track."""

import pytest

from mgc.data.gtzan import GENRES, GTZAN, fault_filtered_split, genre_of, random_split, track_id
from mgc.errors import DatasetError


@pytest.mark.parametrize(
    "name", ["blues.00012.wav", "blues00012.png", "blues/blues.00012.wav", "blues.00012.flac", "blues.00012"]
)
def test_track_id_normalises_every_gtzan_spelling(name):
    assert track_id(name) == "blues.00012"


def test_track_id_rejects_a_non_gtzan_name():
    with pytest.raises(DatasetError, match="not a GTZAN track name"):
        track_id("my_song.mp3")


def test_random_split_is_70_10_20_stratified_with_20_test_tracks_per_genre():
    tracks = [f"{g}.{i:05d}" for g in GENRES for i in range(100)]
    split = random_split(tracks)
    assert (len(split.train), len(split.valid), len(split.test)) == (700, 100, 200)
    for genre in GENRES:
        assert sum(genre_of(t) == genre for t in split.test) == 20


def test_random_split_is_the_same_every_time():
    tracks = [f"{g}.{i:05d}" for g in GENRES for i in range(100)]
    assert random_split(tracks) == random_split(list(reversed(tracks)))


def assert_disjoint(split):
    train, valid, test = set(split.train), set(split.valid), set(split.test)
    assert not train & valid and not train & test and not valid & test


def test_random_split_puts_no_track_in_two_parts():
    assert_disjoint(random_split([f"{g}.{i:05d}" for g in GENRES for i in range(100)]))


def test_missing_folder_says_so(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        GTZAN(tmp_path / "nowhere")


def test_folder_without_gtzan_parts_says_what_is_expected(tmp_path):
    with pytest.raises(DatasetError, match="holds no GTZAN tracks"):
        GTZAN(tmp_path).tracks


def test_missing_split_lists_are_named(tmp_path):
    with pytest.raises(DatasetError, match="train_filtered.txt is missing"):
        fault_filtered_split(tmp_path)


def test_missing_feature_table_is_named(synthetic_data):
    with pytest.raises(DatasetError, match="features_30_sec.csv"):
        GTZAN(synthetic_data).features


def test_describe_reports_missing_parts(synthetic_data):
    text = GTZAN(synthetic_data).describe()
    assert "mel pictures: 0" in text and "features_30_sec.csv: MISSING" in text and "audio files:  40" in text


@pytest.mark.real_data
def test_real_folder_has_999_pictures_154_audio_clips_and_1000_tracks(real_data):
    assert (len(real_data.pictures), len(real_data.audio), len(real_data.tracks)) == (999, 154, 1000)


@pytest.mark.real_data
def test_real_fault_filtered_split_has_443_197_290_disjoint_tracks(real_data):
    split = real_data.split("filtered")
    assert (len(split.train), len(split.valid), len(split.test)) == (443, 197, 290)
    assert_disjoint(split)


@pytest.mark.real_data
def test_real_random_split_has_200_test_tracks_and_no_track_in_two_parts(real_data):
    split = real_data.split("random")
    assert (len(split.train), len(split.valid), len(split.test)) == (700, 100, 200)
    assert_disjoint(split)
