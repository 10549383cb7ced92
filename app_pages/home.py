"""Home: what the app does, the ten genres, the headline numbers, and how to use it."""

import streamlit as st

from app_pages.cached import readable_metrics, run_label
from mgc import GENRES, charts
from mgc.charts import SPLIT_LABELS

st.title("Which genre is this music?")
st.markdown(
    "This app listens to a piece of music — a file you upload, a recording from your microphone, "
    "or an example from the GTZAN dataset — and says which of ten genres it sounds most like. "
    "It also shows *why*: what the model saw, where in the sound it heard the genre, and how well "
    "it does on music it has never heard."
)
st.markdown("**The ten genres:** " + " · ".join(GENRES))

runs, damaged = readable_metrics()
st.subheader("How good is it?")
if damaged:
    st.warning(
        "The saved results of "
        + ", ".join(run_label(*run) for run in damaged)
        + " are damaged, so the numbers below leave them out. Whoever runs this app can evaluate "
        "those runs again (the server's log names the files).",
        icon=":material/warning:",
    )
if not runs:
    st.info("No trained model has been evaluated yet, so there are no numbers to show.")
else:
    columns = st.columns(2)
    for column, split in zip(columns, ("random", "filtered")):
        scored = {model: m["accuracy"] for (model, s), m in runs.items() if s == split}
        if not scored:
            column.metric(f"Best accuracy, {SPLIT_LABELS[split]}", "not trained yet")
            continue
        best = max(scored, key=scored.get)
        tracks = runs[(best, split)].get("test_tracks")
        column.metric(
            f"Best accuracy, {SPLIT_LABELS[split]}",
            f"{scored[best]:.0%}",
            help=f"{best}, on {tracks} test tracks it never saw in training",
        )
        column.caption(f"{best} on {tracks} test tracks (chance is 10 %)")
    st.plotly_chart(charts.comparison_bars_figure(runs, "accuracy"), key="accuracy_bars")
    st.caption(
        "The fault-filtered split keeps each artist on one side of the train/test line, so it "
        "measures what a new song by a new artist would get. See *Model comparison* for why it is lower."
    )

st.subheader("How to use it")
st.markdown(
    "1. Open **Classify** and upload a song (wav, mp3, flac, ogg, opus, m4a), record a few seconds with "
    "the microphone, or try an example.\n"
    "2. Read the top genres, how the answer changes over time, and where in the spectrogram the model "
    "heard its genre.\n"
    "3. **Evaluation** shows how one model does on the test tracks: which genres it confuses and which "
    "songs it gets wrong. **Model comparison** puts all trained models side by side, and **Dataset** "
    "shows the data they learnt from."
)
