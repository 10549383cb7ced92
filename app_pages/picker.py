"""The run picker (a student view of three models, an expert view of all) and the view's state in the URL.

A page's choices are written to the address (`?model=crnn&split=filtered&example=brahms`), so a copied link
reopens the same view and a reload keeps it. A value the visitor brings (a shared link, an edited address) is
read when the page opens and whenever the address changes to something this session did not write; an
unknown value is ignored with a short note, never an exception.
"""

from __future__ import annotations

import re

import streamlit as st

from app_pages.cached import DEFAULT_MODEL, metrics
from mgc.charts import SPLIT_LABELS
from mgc.errors import CheckpointError
from mgc.explain.words import GLOSSARY, describe_model, student_models
from mgc.runs import available_runs, is_ensemble_name

_WRITTEN = "url_written"  # session state: (page, name) → the value this session last put in the address
_STATISTICS = re.compile(r" \((?:McNemar|Wilson)\b[^)]*\)")


def in_plain_words(line: str) -> str:
    """A line for the student view: without a statistical test's name and figure in brackets ("(McNemar p <
    0.05)"), which the expert view (*All models*) keeps; the words around it ("beyond chance") say the same."""
    return _STATISTICS.sub("", line)


def arrived(page: str) -> bool:
    """Whether this run is the first on `page` since the visitor came to it (its picker's state is gone: Streamlit
    drops a widget's state when a run of another page does not draw it). Then the address is read afresh."""
    return f"{page}_model" not in st.session_state


def from_url(page: str, name: str, fresh: bool = False) -> str | None:
    """The address's value of `name` when the visitor brought it (not one this session wrote), else None."""
    value = st.query_params.get(name)
    written = st.session_state.setdefault(_WRITTEN, {})
    if value is None or (not fresh and written.get((page, name)) == value):
        return None
    written[(page, name)] = value
    return value


def to_url(page: str, **values: str | None) -> None:
    """Put the page's choices in the address (None removes one), so that a link or a reload restores them."""
    written = st.session_state.setdefault(_WRITTEN, {})
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
            written.pop((page, name), None)
        else:
            if st.query_params.get(name) != value:
                st.query_params[name] = value
            written[(page, name)] = value


def link_note(what: str, value: str, instead: str) -> None:
    """Say, quietly, that a link asked for something this app does not have. The value is shown as plain letters,
    digits, dots and dashes only: a crafted link must not put its own Markdown (a link, an image) on the page."""
    shown = re.sub(r"[^A-Za-z0-9._-]", "?", value[:60])
    st.caption(f":material/link_off: The link asked for {what} “{shown}”, which this app lacks; {instead}.")


def _best_ensembles(split: str, runs: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
    """The readable metrics of the split's ensembles (a damaged file leaves its run out of the choice)."""
    found = {}
    for model, run_split in runs:
        if run_split == split and is_ensemble_name(model):
            try:
                found[(model, run_split)] = metrics(model, run_split)
            except CheckpointError:
                continue
    return found


def select_model(key: str, model: str) -> None:
    """Make `model` the choice of `pick_run(key)` on its next run (call from a widget's callback, before the picker
    is drawn); the expert view is turned on, since `model` may not be among the three for a class."""
    st.session_state[f"{key}_model"] = model
    st.session_state[f"{key}_all_models"] = True


def pick_run(key: str, container=st, default: str | None = None) -> tuple[str, str] | None:
    """Model and split selectboxes over the runs in checkpoints/, read from and written to the address.

    By default three models for a class (`mgc.explain.words.student_models`: the rows of `mgc.runs.table` with a
    place in the short picker — the CRNN, the best ensemble on the split, one feature model), each described in a
    line; the "All models" switch offers every run. `default`: the model chosen when the visitor has chosen none
    (Classify's, by measurement: `mgc.evaluate.robustness.classify_default`); else the first offered.
    """
    runs = available_runs()
    if not runs:
        container.warning(
            "No trained models yet: checkpoints/ holds no run with a metrics.json. "
            "Train one with `python -m mgc train` and `python -m mgc evaluate`."
        )
        return None
    model_key, split_key, all_key = f"{key}_model", f"{key}_split", f"{key}_all_models"
    fresh = arrived(key)
    if default is not None and model_key not in st.session_state and any(m == default for m, _ in runs):
        st.session_state[model_key] = default
    wanted_model, wanted_split = from_url(key, "model", fresh), from_url(key, "split", fresh)
    notes = []
    if wanted_model is not None:
        if any(model == wanted_model for model, _ in runs):
            st.session_state[model_key] = wanted_model
        else:
            notes.append(("model", wanted_model, "showing the models it has"))
    if wanted_split is not None and wanted_split not in {split for _, split in runs}:
        notes.append(("split", wanted_split, "using the split of the chosen model"))
        wanted_split = None

    split_now = wanted_split or st.session_state.get(split_key) or "random"
    curated = student_models({**{(m, s): {} for m, s in runs}, **_best_ensembles(split_now, runs)}, split_now)
    if wanted_model is not None and st.session_state.get(model_key) == wanted_model and wanted_model not in curated:
        st.session_state[all_key] = True  # a link to a model outside the three opens the expert view
    everything = sorted({m for m, _ in runs}, key=lambda m: (m != DEFAULT_MODEL, m))
    expert = container.toggle(
        "All models",
        key=all_key,
        help=f"Off: three models to start with ({', '.join(curated)}). On: every trained model, for experts.",
    )
    models = everything if expert or not curated else curated
    if st.session_state.get(model_key) not in (*models, None):  # the switch turned off, or another best ensemble
        ensembles = [m for m in models if is_ensemble_name(m)]
        was_ensemble = is_ensemble_name(str(st.session_state[model_key]))
        st.session_state[model_key] = ensembles[0] if was_ensemble and ensembles else models[0]

    left, right = container.columns(2)
    model = left.selectbox(
        "Model",
        models,
        key=model_key,
        help="\n\n".join(f"**{m}**: {describe_model(m)}" for m in models[:4])
        + ("\n\nTurn on *All models* for the others." if not expert else ""),
    )
    splits = sorted((s for m, s in runs if m == model), key=lambda s: (s != "random", s))
    if wanted_split is not None:
        if wanted_split in splits:
            st.session_state[split_key] = wanted_split
        else:
            notes.append(("split", wanted_split, f"{model} was not trained on it"))
    if st.session_state.get(split_key) not in (*splits, None):
        st.session_state[split_key] = splits[0]
    split = right.selectbox(
        "Trained and tested on",
        splits,
        key=split_key,
        format_func=lambda s: SPLIT_LABELS.get(s, s),
        help=GLOSSARY["split"],
    )
    container.caption(f"**{model}**: {describe_model(model)}")
    for what, value, instead in notes:
        link_note(what, value, instead)
    to_url(key, model=model, split=split)
    return model, split
