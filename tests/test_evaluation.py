"""Evaluation maths on known predictions (scikit-learn underneath)."""
import numpy as np
import pytest

from mgc.dataset import GENRES
from mgc.evaluation import compute_metrics, predictions_table


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
