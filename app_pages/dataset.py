"""Dataset: what GTZAN holds here — genre balance, the two splits, and the hand-crafted features."""

import logging

import streamlit as st

import mgc
from app_pages.cached import DEFAULT_MODEL, dataset, predictions
from app_pages.plot import plot
from mgc import charts
from mgc.charts import SPLIT_LABELS
from mgc.errors import CheckpointError
from mgc.runs import available_runs

log = logging.getLogger("mgc.app")


def test_tracks_of_the_shipped_runs() -> dict[str, list[str]]:
    """Split label → the test tracks a shipped run was scored on (from its predictions.csv, committed with the
    app), for the splits where a run covers the whole test part: what the page can show without the recordings."""
    shown = {}
    for split in ("random", "filtered"):
        runs = sorted((m for m, s in available_runs() if s == split), key=lambda m: m != DEFAULT_MODEL)
        for model in runs:
            try:
                table = predictions(model, split)
            except CheckpointError:
                continue
            if len(table) >= 100:  # the whole test part, not the few clips with audio a musicnn run reads
                shown[f"{SPLIT_LABELS[split]}: {len(table)} test tracks"] = list(table["track"])
                break
    return shown


st.title("Dataset")
st.markdown(
    "GTZAN (Tzanetakis & Cook, 2002): 1000 clips of 30 s, 100 per genre, collected around 2000 from "
    "CDs, radio and microphone recordings. It is the most used dataset for music genre "
    "classification, and the one with the best-documented faults."
)
data = dataset()
if data is not None and not (data.pictures or data.audio):
    log.warning("the dataset folder %s holds no GTZAN tracks: the Dataset page shows the committed runs only", data)
    data = None  # an empty folder is no dataset: no empty chart, no paths
if data is None:
    st.info(
        "GTZAN's recordings are not available on this server — they are not ours to publish. Everything else works: "
        "**Classify** has example recordings to try, and **Evaluation** and **Model comparison** show how each "
        "model did on GTZAN's test tracks.",
        icon=":material/info:",
    )
    tested = test_tracks_of_the_shipped_runs()
    if tested:
        plot(charts.genre_balance_figure(tested, title="The test tracks the models were scored on"), key="tested")
        st.caption(
            "From the models' saved answers, which ship with the app: how many test tracks of each genre every "
            "score on the other pages is over. The fault-filtered split drops GTZAN's repeated and mislabelled "
            "clips, so its genres are not all the same size."
        )
    st.caption(
        "Running your own copy? The dataset can be added.",
        help="Put the Kaggle “GTZAN Dataset - Music Genre Classification” folder at `../shared/gtzan` beside the "
        "project, or set `MGC_DATA` to it (see the README).",
    )
else:
    collections = {"mel pictures": list(data.pictures), "audio": list(data.audio)}
    try:
        features = data.features
        collections = {"30-s features": list(features.index), **collections}
    except mgc.MgcError:
        features = None
    # Lazy tabs (on_change="rerun"): only the open tab is computed and drawn, so the page opens fast.
    balance, split_tab, tempo, correlation = st.tabs(
        ["Genre balance", "Splits", "Tempo per genre", "Feature correlations"], key="dataset_tab", on_change="rerun"
    )
    if balance.open:
        plot(charts.genre_balance_figure(collections), key="balance", where=balance)
        balance.caption(f"{len(data.pictures)} mel pictures, audio for {len(data.audio)} clips in this folder.")
    if split_tab.open:
        with split_tab:
            splits = {}
            for name in ("random", "filtered"):
                try:
                    splits[name] = data.split(name)
                except mgc.MgcError as error:  # the details (paths) for the server's log, a plain line here
                    log.warning("the %s split cannot be read: %s", name, error)
                    st.caption(f"The {SPLIT_LABELS[name]} is not in this copy of the dataset.")
            if splits:
                plot(charts.split_composition_figure(splits), key="splits")
    missing = "This copy of the dataset has no table of features, so the feature charts are not shown."
    if tempo.open:
        if features is None:
            tempo.caption(missing)
        else:
            plot(charts.tempo_figure(features), key="tempo", where=tempo)
    if correlation.open:
        if features is None:
            correlation.caption(missing)
        else:
            plot(charts.feature_correlation_figure(features), key="correlation", where=correlation)
            correlation.caption(
                "Each square: how two features rise and fall together over the 1000 clips — red together, blue "
                "one up when the other is down, white unrelated. The columns are the rows in the same order: the dark "
                "diagonal is each feature with itself. mfcc1 … mfcc20 describe the sound's timbre."
            )
