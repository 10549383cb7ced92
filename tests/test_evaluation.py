"""Evaluation maths on known predictions (scikit-learn underneath)."""

import numpy as np
import pandas as pd
import pytest

from mgc.data.gtzan import GENRES
from mgc.evaluate import compute_metrics, predictions_table


def one_hot_probabilities(predicted, confidence=0.9):
    p = np.full((len(predicted), 10), (1 - confidence) / 9)
    p[np.arange(len(predicted)), predicted] = confidence
    return p


def test_perfect_predictions_score_one_everywhere():
    true = np.repeat(np.arange(10), 3)
    metrics = compute_metrics(true, one_hot_probabilities(true))
    assert metrics["accuracy"] == 1.0 and metrics["macro_f1"] == 1.0
    assert metrics["macro_roc_auc"] == 1.0 and metrics["macro_average_precision"] == 1.0
    assert np.array_equal(metrics["confusion_matrix"], np.diag([3] * 10))


def test_one_confusion_is_counted_where_it_belongs():
    true = np.repeat(np.arange(10), 2)
    predicted = true.copy()
    predicted[0] = GENRES.index("jazz")  # one blues track called jazz
    metrics = compute_metrics(true, one_hot_probabilities(predicted))
    assert metrics["accuracy"] == pytest.approx(19 / 20)
    assert metrics["confusion_matrix"][0][GENRES.index("jazz")] == 1
    assert metrics["per_class"]["blues"]["recall"] == pytest.approx(0.5)
    assert metrics["per_class"]["jazz"]["precision"] == pytest.approx(2 / 3)
    assert metrics["per_class"]["blues"]["support"] == 2


def test_an_imbalanced_test_set_is_scored_by_hand_computed_values():
    """Pins accuracy as the share of all tracks right (not balanced accuracy, the mean of per-class recalls, which
    every class-balanced fixture gives equally), and macro averages as the plain mean over the ten genres against
    weighted ones by support. 16 tracks: 6 blues, 2 classical, one of each other genre; wrong: one classical, the
    hiphop and the jazz track, each called blues."""
    true = np.array([0] * 6 + [1] * 2 + list(range(2, 10)))
    predicted = true.copy()
    predicted[[7, 10, 11]] = 0  # the second classical track, hiphop and jazz: called blues
    metrics = compute_metrics(true, one_hot_probabilities(predicted))
    # blues P 6/9 R 1 F1 0.8; classical P 1 R 1/2 F1 2/3; hiphop and jazz 0; the six others 1
    assert metrics["accuracy"] == pytest.approx(13 / 16)  # balanced accuracy would be 7.5 / 10
    assert metrics["macro_recall"] == pytest.approx(7.5 / 10)
    assert metrics["macro_precision"] == pytest.approx((6 / 9 + 1 + 6) / 10)
    assert metrics["macro_f1"] == pytest.approx((0.8 + 2 / 3 + 6) / 10)
    assert metrics["weighted_recall"] == pytest.approx(13 / 16)
    assert metrics["weighted_precision"] == pytest.approx((6 * 6 / 9 + 2 * 1 + 6) / 16)
    assert metrics["weighted_f1"] == pytest.approx((6 * 0.8 + 2 * 2 / 3 + 6) / 16)
    blues, classical, jazz = (metrics["per_class"][g] for g in ("blues", "classical", "jazz"))
    assert (blues["precision"], blues["recall"], blues["f1"], blues["support"]) == pytest.approx((6 / 9, 1, 0.8, 6))
    assert (classical["precision"], classical["recall"], classical["support"]) == pytest.approx((1, 0.5, 2))
    assert (jazz["precision"], jazz["recall"], jazz["support"]) == (0.0, 0.0, 1)
    expected = np.diag([6, 1, 1, 1, 0, 0, 1, 1, 1, 1])
    expected[[1, 4, 5], 0] = 1
    assert np.array_equal(metrics["confusion_matrix"], expected)


def test_macro_f1_is_the_mean_of_per_class_f1():
    rng = np.random.default_rng(0)
    true = np.repeat(np.arange(10), 5)
    probabilities = rng.dirichlet(np.ones(10), size=50)
    metrics = compute_metrics(true, probabilities)
    per_class = [metrics["per_class"][g]["f1"] for g in GENRES]
    assert metrics["macro_f1"] == pytest.approx(np.mean(per_class))


def test_predictions_table_has_a_probability_column_per_genre():
    table = predictions_table(["blues.00001", "rock.00002"], one_hot_probabilities([0, 3]))
    assert list(table.columns) == ["track", "genre", "predicted", *GENRES]
    assert list(table["predicted"]) == ["blues", "disco"] and list(table["genre"]) == ["blues", "rock"]


def test_results_table_has_a_row_per_model_and_columns_per_split(tmp_path):
    from mgc.evaluate import markdown_table, results_table
    from mgc.runs.checkpoints import write_json

    true = np.repeat(np.arange(10), 2)
    for split, accuracy_goal in (("random", 1.0), ("filtered", 0.95)):
        predicted = true.copy()
        if accuracy_goal < 1:
            predicted[0] = 1
        metrics = compute_metrics(true, one_hot_probabilities(predicted))
        write_json(tmp_path / "crnn" / split / "metrics.json", {**metrics, "test_tracks": 20, "parameters": 5})
    table = results_table(tmp_path)
    assert list(table["model"]) == ["crnn"]
    assert table.loc[0, "random accuracy"] == 1.0 and table.loc[0, "filtered accuracy"] == pytest.approx(0.95)
    assert "| crnn | 100.0 % |" in markdown_table(table[["model", "random accuracy"]])


def test_mcnemar_counts_the_tracks_only_one_model_got_right_and_tests_them():
    from mgc.evaluate.metrics import mcnemar

    first = [True] * 10 + [False] * 5 + [True] * 5
    second = [False] * 10 + [False] * 5 + [True] * 5
    result = mcnemar(first, second)
    assert result["only_first"] == 10 and result["only_second"] == 0
    assert result["p_value"] == pytest.approx(2 * 0.5**10)
    assert mcnemar([True, False], [True, False])["p_value"] == 1.0


def test_two_runs_are_compared_on_the_test_tracks_both_predicted_only():
    from mgc.evaluate.metrics import same_tracks_comparison

    tracks = [f"{genre}.{i:05d}" for genre in GENRES for i in range(2)]  # 20 tracks, 2 per genre
    true = np.repeat(np.arange(10), 2)
    wrong_on_four = true.copy()
    wrong_on_four[[0, 2, 4, 6]] = 9
    everything = predictions_table(tracks, one_hot_probabilities(wrong_on_four))
    few = predictions_table(tracks[:8], one_hot_probabilities(true[:8]))  # right on the 8 it has
    result = same_tracks_comparison(few, everything)
    assert result["tracks"] == 8
    assert result["first"]["accuracy"] == 1.0 and result["second"]["accuracy"] == 0.5
    assert result["first"]["ci_low"] < 1.0 == result["first"]["ci_high"]
    assert result["mcnemar"]["only_first"] == 4 and result["mcnemar"]["only_second"] == 0
    assert result["mcnemar"]["p_value"] == pytest.approx(2 * 0.5**4)


def test_the_same_tracks_report_has_a_row_per_split_where_both_runs_are_evaluated(tmp_path):
    from mgc.evaluate.report import same_tracks_table

    tracks = [f"{genre}.00000" for genre in GENRES]
    true = np.arange(10)
    (tmp_path / "musicnn" / "random").mkdir(parents=True)
    (tmp_path / "crnn" / "random").mkdir(parents=True)
    predictions_table(tracks[:4], one_hot_probabilities(true[:4])).to_csv(tmp_path / "musicnn/random/predictions.csv")
    predictions_table(tracks, one_hot_probabilities(np.zeros(10, int))).to_csv(tmp_path / "crnn/random/predictions.csv")
    table = same_tracks_table("musicnn", "crnn", tmp_path)
    assert list(table["split"]) == ["random"] and table.loc[0, "test tracks"] == 4
    assert table.loc[0, "musicnn accuracy"] == 1.0 and table.loc[0, "crnn accuracy"] == 0.25
    assert table.loc[0, "right only musicnn / only crnn"] == "3 / 0"


def test_the_recurrent_layer_table_compares_each_recurrent_model_with_the_cnn_on_the_same_tracks():
    from mgc.charts import recurrent_layer_table

    tracks = [f"blues.{i:05d}" for i in range(20)]

    def table(right: int) -> pd.DataFrame:
        return pd.DataFrame(
            {"track": tracks, "genre": "blues", "predicted": ["blues"] * right + ["rock"] * (20 - right)}
        )

    rows = recurrent_layer_table({("cnn", "random"): table(10), ("crnn", "random"): table(16)}).set_index("model")
    assert rows.loc["cnn", "accuracy"] == 0.5 and rows.loc["crnn", "accuracy"] == 0.8
    assert (
        rows.loc["crnn", "vs CNN"] == pytest.approx(0.3) and rows.loc["crnn", "right only here / only CNN"] == "6 / 0"
    )
    assert rows.loc["crnn", "McNemar p"] == pytest.approx(2 * 0.5**6) and rows.loc["crnn", "tracks"] == 20
    assert rows.loc["cnn", "right only here / only CNN"] == "—" and np.isnan(rows.loc["cnn", "McNemar p"])
