"""Evaluation: a run on its split's test part, cached as plain files (`evaluation`), the scores
(`metrics`), the embedding map of the test tracks (`embedding_map`) and the results table of every run
(`report`)."""

from .embedding_map import EMBEDDING_MAP_FILE, EmbeddingMap
from .evaluation import clip_timing, evaluate
from .metrics import compute_metrics, predictions_table
from .report import markdown_table, results_table

__all__ = [
    "EMBEDDING_MAP_FILE",
    "EmbeddingMap",
    "clip_timing",
    "compute_metrics",
    "evaluate",
    "markdown_table",
    "predictions_table",
    "results_table",
]
