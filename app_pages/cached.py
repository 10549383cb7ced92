"""What the pages load once per server: trained models, cached results, the dataset and its splits.

Files are read through `st.cache_data` keyed by path and modification time, so a re-evaluated run
shows its new numbers without a restart, and a model that appears in checkpoints/ shows up at once.
"""

from __future__ import annotations

import importlib
import logging
import threading
from pathlib import Path

import pandas as pd
import streamlit as st

import mgc
from mgc.charts import SPLIT_LABELS
from mgc.data.gtzan import PARTS, default_data_dir
from mgc.errors import CheckpointError, DatasetError
from mgc.evaluate import EmbeddingMap
from mgc.runs import available_runs, default_run, load_picture_model
from mgc.runs.run import locate

DEFAULT_MODEL = default_run("uploads")
"""The run a page shows first (`mgc.runs.table`)."""
log = logging.getLogger("mgc.app")


@st.cache_data(show_spinner=False)
def _read(model: str, split: str, root: str, what: str, modified: float | None):
    """One of a run's files, read through `mgc.runs.run.Run` (`what`: "metrics", "predictions", …), cached by
    the checkpoints folder and the file's modification time: a re-evaluated run shows its new numbers without a
    restart."""
    return getattr(locate(model, split, Path(root)), what)()


def _cached(model: str, split: str, what: str):
    run = locate(model, split)
    return _read(model, split, str(run.root), what, run.modified(what))


def show_failure(error: mgc.MgcError) -> None:
    """Say on the page what went wrong, for a visitor: no server paths or internals (those go to the log)."""
    if isinstance(error, mgc.AudioError):  # about the visitor's own input, written for them
        st.error(str(error), icon=":material/error:")
        return
    log.error("a page could not be shown: %s", error)
    if isinstance(error, CheckpointError):
        message = (
            "A trained model's saved files are missing or damaged, so this page cannot show it. "
            "Whoever runs this app can train or evaluate that run again (the server's log names the file)."
        )
    elif isinstance(error, DatasetError):
        message = "The dataset folder lacks a part this page needs (the server's log says which)."
    else:
        message = "This page cannot be shown just now (the server's log says why)."
    st.error(message, icon=":material/error:")


def metrics(model: str, split: str) -> dict:
    """A run's test scores (`Run.metrics`)."""
    return _cached(model, split, "metrics")


def all_metrics() -> dict[tuple[str, str], dict]:
    """(model, split) → metrics.json, for every run in checkpoints/."""
    return {run: metrics(*run) for run in available_runs()}


def readable_metrics() -> tuple[dict[tuple[str, str], dict], list[tuple[str, str]]]:
    """`all_metrics` without the runs whose metrics.json is damaged, and those runs (each named in the log)."""
    readable, damaged = {}, []
    for run in available_runs():
        try:
            readable[run] = metrics(*run)
        except CheckpointError as error:
            log.error("left out of a page: %s", error)
            damaged.append(run)
    return readable, damaged


def predictions(model: str, split: str) -> pd.DataFrame:
    """A run's cached test predictions (`Run.predictions`: checked for a file cut short or edited)."""
    return _cached(model, split, "predictions")


def robustness(model: str, split: str) -> dict | None:
    """A run's accuracy under listening conditions (`Run.robustness`), or None when it has not been measured."""
    return _cached(model, split, "robustness")


def all_robustness() -> dict[tuple[str, str], dict]:
    """(model, split) → robustness record, for every run that has one."""
    return {run: record for run in available_runs() if (record := robustness(*run)) is not None}


def history(model: str, split: str) -> pd.DataFrame | None:
    """A run's loss and accuracy per epoch (`Run.history`), or None when it has none."""
    return _cached(model, split, "history")


def training_record(model: str, split: str) -> dict:
    """A run's training record (`Run.training`), or {} when it has none."""
    return _cached(model, split, "training")


def picture_model(model: str, split: str):
    """The trained picture model of a run, from the library's bounded cache of loaded models (shared by every
    session: `mgc.runs.checkpoints.models_kept`), not a cache of the app's own that would keep every model
    a visitor ever picked."""
    network, _ = load_picture_model(model, split)
    return network


@st.cache_resource(show_spinner=False)
def embedding_map(model: str, split: str, modified: float) -> EmbeddingMap | None:
    folder = locate(model, split).folder
    try:
        return EmbeddingMap.load(folder)
    except (OSError, ValueError, KeyError, TypeError, pd.errors.ParserError) as error:
        raise CheckpointError(f"the embedding map in {folder} is damaged ({error}): evaluate that run again") from None


def cached_embedding_map(model: str, split: str) -> EmbeddingMap | None:
    """The run's embedding map when its files exist (see `mgc.evaluate.embedding_map`), else None."""
    modified = locate(model, split).modified("embedding map")
    return embedding_map(model, split, modified) if modified is not None else None


@st.cache_resource(show_spinner=False)
def import_soon(module: str, seconds: float = 5.0) -> threading.Timer:
    """Import `module` in a background thread `seconds` after the server's first page run (once per server).

    For code only a later click needs: scikit-learn's metrics (0.7 s to import) draw Evaluation's ROC and
    precision-recall tabs. Imported during the first page's own drawing, it slows that page (the import holds
    Python's lock while the server sends the browser plotly's 4.7-MB code); a few seconds later the server
    is idle, the visitor reads, and the first click on those tabs does not wait for it.
    """
    timer = threading.Timer(seconds, importlib.import_module, args=(module,))
    timer.daemon = True
    timer.start()
    return timer


@st.cache_resource(show_spinner=False)
def dataset() -> mgc.GTZAN | None:
    """The GTZAN folder ($MGC_DATA or ../shared/gtzan), or None where there is none (the hosted demo)."""
    root = default_data_dir()
    if root is None or not root.is_dir():
        return None
    return mgc.GTZAN(root)


def run_label(model: str, split: str) -> str:
    return f"{model} · {SPLIT_LABELS.get(split, split)}"


@st.cache_resource(show_spinner=False)
def split_parts(split: str) -> dict[str, str]:
    """Track id → "train", "valid" or "test" in the dataset's `split` ({} without the dataset or that split)."""
    data = dataset()
    if data is None:
        return {}
    try:
        chosen = data.split(split)
    except mgc.MgcError:
        return {}
    return {track: part for part in PARTS for track in chosen.part(part)}
