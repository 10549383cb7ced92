"""Home: what the app does, examples to try in one click, the ten genres, the headline numbers, and the words."""

import streamlit as st

from app_pages.cached import readable_metrics, run_label
from app_pages.plot import plot
from mgc import GENRES, charts
from mgc.charts import SPLIT_LABELS
from mgc.data.examples import EXAMPLES, ICONS
from mgc.explain.words import GLOSSARY

st.title("Which genre is this music?")
st.markdown(
    "This app listens to a piece of music — a file you upload, a recording from your microphone, "
    "or one of the example recordings that come with it — and says which of ten genres it sounds most like. "
    "It also shows *why*: what the model saw, where in the sound it heard the genre, and how well "
    "it does on music it has never heard."
)
st.markdown("**The ten genres:** " + " · ".join(GENRES))

st.subheader("Try it")
st.markdown("One click classifies a recording that comes with the app: music, but also speech, a bird and a whale.")
st.caption(
    "GTZAN's ten genres were chosen around 2000: music made since, or music that mixes styles, often gets a "
    "“not sure” answer — that is the model being honest, not broken."
)
with st.container(horizontal=True):
    for shipped in EXAMPLES:
        st.page_link(
            "app_pages/classify.py",
            label=shipped.name,
            icon=ICONS[shipped.kind],
            query_params={"example": shipped.id},
            help=shipped.credit,
        )

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
    # The headline and the chart beside it are over the whole test part: a run scored on the few clips with audio
    # (musicnn: 33 clips) is compared on Model comparison, with its clip count and interval, not crowned here.
    whole = {(model, s): m for (model, s), m in runs.items() if not m.get("test_tracks_missing")} or runs
    for column, split in zip(columns, ("random", "filtered")):
        scored = {model: m["accuracy"] for (model, s), m in whole.items() if s == split}
        if not scored:
            column.metric(f"Best accuracy, {SPLIT_LABELS[split]}", "not trained yet")
            continue
        best = max(scored, key=scored.get)
        tracks = runs[(best, split)].get("test_tracks")
        column.metric(
            f"Best accuracy, {SPLIT_LABELS[split]}",
            f"{scored[best]:.0%}",
            help=f"{best}, on {tracks} test tracks it never saw in training (95 % interval "
            f"{charts.accuracy_interval(runs[(best, split)])}). {GLOSSARY['accuracy']}",
        )
        column.caption(f"{best}, right on {scored[best]:.0%} of {tracks} test tracks it never heard (chance is 10 %)")
    plot(charts.comparison_bars_figure(whole, "accuracy"), key="accuracy_bars")
    st.caption(
        "Every model on the same test tracks. The fault-filtered split keeps each artist on one side of the "
        "train/test line, so it measures what a new song by a new artist would get. *Model comparison* says why "
        "it is lower, and shows the models tried on only the 33 test clips we have audio for."
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

with st.expander("Words used in this app"):
    st.markdown(
        "\n".join(
            f"- **{term}** — {GLOSSARY[key]}"
            for term, key in (
                ("Split", "split"),
                ("Accuracy", "accuracy"),
                ("F1, macro F1", "f1"),
                ("AUC (ROC AUC)", "auc"),
                ("AP (average precision)", "ap"),
                ("Saliency (gradient × input)", "saliency"),
                ("Test track", "test track"),
                ("Training track", "training track"),
            )
        )
    )
