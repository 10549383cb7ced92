"""Dataset: what GTZAN holds here — genre balance, the two splits, and the hand-crafted features."""

import streamlit as st

import mgc
from app_pages.cached import dataset
from app_pages.plot import plot
from mgc import charts

st.title("Dataset")
st.markdown(
    "GTZAN (Tzanetakis & Cook, 2002): 1000 clips of 30 s, 100 per genre, collected around 2000 from "
    "CDs, radio and microphone recordings. It is the most used dataset for music genre "
    "classification, and the one with the best-documented faults."
)
data = dataset()
if data is None:
    st.info(
        "GTZAN is not available on this server — its recordings are not ours to publish — so the dataset's "
        "charts cannot be drawn here. Everything else works: **Classify** has example recordings to try, and "
        "**Evaluation** and **Model comparison** show how each model did on GTZAN's test tracks.",
        icon=":material/info:",
    )
    st.caption(
        "Running your own copy? Put the Kaggle “GTZAN Dataset - Music Genre Classification” folder at "
        "`../shared/gtzan` beside the project, or set `MGC_DATA` to it (see the README)."
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
                except mgc.MgcError as error:
                    st.caption(f"No {name} split: {error}")
            if splits:
                plot(charts.split_composition_figure(splits), key="splits")
    missing = "features_30_sec.csv is missing, so the feature charts are not shown."
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
