"""Serving: `classify(file)` → `Prediction` (`prediction`), and the `predict` command over files and
folders (`predict`)."""

from .predict import audio_files, predict_command
from .prediction import Prediction, classify

__all__ = ["Prediction", "audio_files", "classify", "predict_command"]
