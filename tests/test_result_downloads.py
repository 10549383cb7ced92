"""A result to keep: the timeline as CSV and everything as JSON (`Prediction.timeline_csv`, `Prediction.record`)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from mgc import GENRES
from mgc.serve import Prediction


@pytest.fixture
def prediction() -> Prediction:
    rows = np.full((3, len(GENRES)), 0.02)
    rows[[0, 1, 2], [GENRES.index("jazz"), GENRES.index("jazz"), GENRES.index("blues")]] = 0.82
    timeline = pd.DataFrame(rows, columns=list(GENRES))
    timeline.insert(0, "end", [10.0, 12.5, 15.0])
    timeline.insert(0, "start", [0.0, 2.5, 5.0])
    probabilities = dict(zip(GENRES, rows.mean(axis=0).tolist()))
    return Prediction(
        "crnn", probabilities, timeline, np.zeros(4), np.zeros((128, 10)), 15.0, 0.1, notices=["cut short"]
    )


def test_the_csv_has_a_row_per_window_with_start_end_ten_probabilities_and_the_top_genre(prediction):
    table = pd.read_csv(io.StringIO(prediction.timeline_csv()))
    assert list(table.columns) == ["start", "end", *GENRES, "top_genre"]
    assert table["top_genre"].tolist() == ["jazz", "jazz", "blues"]
    assert table["start"].tolist() == [0.0, 2.5, 5.0]
    np.testing.assert_allclose(table[list(GENRES)].to_numpy(), prediction.timeline[list(GENRES)].to_numpy())


def test_the_json_record_holds_the_run_the_answer_the_timeline_notices_and_doubts(prediction):
    record = json.loads(json.dumps(prediction.record("filtered", source="brahms")))
    assert (record["model"], record["split"], record["source"]) == ("crnn", "filtered", "brahms")
    assert (record["genre"], record["confidence"]) == ("jazz", pytest.approx(prediction.confidence))
    assert record["probabilities"] == pytest.approx(prediction.probabilities)
    assert [row["start"] for row in record["timeline"]] == [0.0, 2.5, 5.0]
    assert set(record["timeline"][0]) == {"start", "end", *GENRES}
    assert record["notices"] == ["cut short"]
    assert (record["verdict"], record["headline"]) == ("genre", "jazz")


def test_a_prediction_without_a_gate_says_it_is_music_without_reasons(prediction):
    record = prediction.record("random")
    assert record["is_music"] is True and record["not_music_reasons"] == [] and record["sounds_like"] is None
