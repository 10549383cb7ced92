"""Saliency and the embedding map."""

import numpy as np
import pytest
import torch

from mgc import GENRES, explain
from mgc.evaluate import EmbeddingMap
from mgc.explain import saliency_map
from mgc.models import build_model

# --- saliency ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_model():
    torch.manual_seed(0)
    return build_model("crnn", {"channels": [4, 4, 4, 4, 4], "gru_hidden": 8}).eval()


@pytest.mark.parametrize("columns", [40, 300])  # one window, and several overlapping windows
def test_saliency_has_the_shape_of_the_picture(small_model, columns):
    picture = np.random.default_rng(0).integers(0, 256, (128, columns), dtype=np.uint8)
    result = explain.saliency(small_model, picture, "rock")
    assert result.shape == picture.shape and np.isfinite(result).all() and np.abs(result).sum() > 0


def test_saliency_is_zero_where_the_picture_is_zero(small_model):
    picture = np.random.default_rng(1).integers(1, 256, (128, 60), dtype=np.uint8)
    picture[:, :10] = 0
    result = explain.saliency(small_model, picture, 3)
    assert (result[:, :10] == 0).all()


def test_saliency_leaves_no_gradient_on_the_shared_model(small_model):
    explain.saliency(small_model, np.full((128, 300), 100, dtype=np.uint8), "blues")
    assert all(parameter.grad is None for parameter in small_model.parameters())


def test_saliency_in_batches_equals_saliency_in_one_pass(small_model, monkeypatch):
    picture = np.random.default_rng(2).integers(0, 256, (128, 400), dtype=np.uint8)
    batched = explain.saliency(small_model, picture, "jazz")
    monkeypatch.setattr(saliency_map, "SALIENCY_BATCH", 1000)
    assert np.allclose(batched, explain.saliency(small_model, picture, "jazz"), atol=1e-6)


# --- embedding map -------------------------------------------------------------------------------


def test_embedding_map_projects_its_own_tracks_onto_their_points(tmp_path):
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((12, 6)) * [5, 3, 1, 0.1, 0.1, 0.1]
    tracks = [f"{GENRES[i % 10]}.{i:05d}" for i in range(12)]
    fitted = EmbeddingMap.fit(tracks, embeddings)
    assert list(fitted.points.columns) == ["track", "genre", "x", "y"]
    assert fitted.project(embeddings[3]) == pytest.approx((fitted.points.x[3], fitted.points.y[3]))
    assert fitted.explained[0] > fitted.explained[1] and sum(fitted.explained) > 0.9

    fitted.save(tmp_path)
    loaded = EmbeddingMap.load(tmp_path)
    assert loaded.points["track"].tolist() == tracks
    assert loaded.project(embeddings[5]) == pytest.approx(fitted.project(embeddings[5]), abs=1e-4)


def test_embedding_map_is_none_where_it_was_never_built(tmp_path):
    assert EmbeddingMap.load(tmp_path) is None
