"""Model comparison: every trained model side by side, on both splits, from cached metrics."""

import pandas as pd
import streamlit as st

from app_pages.cached import (
    DEFAULT_MODEL,
    all_metrics,
    all_robustness,
    history,
    predictions,
    run_label,
    training_record,
)
from app_pages.plot import plot
from mgc import charts
from mgc.charts import MISSING, SPLIT_LABELS
from mgc.explain.words import GLOSSARY, describe_model


def highlighted_model(runs: dict) -> str:
    """The model the comparison charts draw in colour (the others grey), chosen once for both charts."""
    models = sorted({model for model, _ in runs})
    return st.selectbox(
        "Highlight",
        models,
        index=models.index(DEFAULT_MODEL) if DEFAULT_MODEL in models else 0,
        key="highlight",
        help="Drawn in colour; every other model grey, for telling one apart on a projector",
    )


st.title("Model comparison")
runs = all_metrics()
if not runs:
    st.warning("No trained models yet: checkpoints/ holds no run with a metrics.json.")
else:
    robust = all_robustness()
    # For a class: the accuracy on each split with its interval, three short columns that fit a phone. Everything
    # else (F1, AUC, calibration, the classroom chain, size and speed) in the expert table below it.
    st.table(charts.accuracy_table(runs))
    st.caption(
        "How often each model names the right genre on test music it never heard: 200 tracks of the random split, "
        "290 of the fault-filtered one. In brackets, the range the true figure lies in with 95 % certainty — "
        "two models whose ranges overlap may not really differ. A model marked “on 33 clips” was tried on fewer "
        "tracks, so its number is much less certain."
    )
    table = charts.comparison_table(runs, robust)
    number = st.column_config.NumberColumn
    words = {"accuracy": GLOSSARY["accuracy"], "macro F1": GLOSSARY["f1"], "macro AUC": GLOSSARY["auc"]}
    experts = st.expander("All the numbers, for experts", icon=":material/table:")
    experts.dataframe(
        table,
        key="comparison",
        placeholder=MISSING,
        column_config={
            **{
                column: number(format="%.3f", help=words.get(column.split(" (")[0]))
                for column in table.columns
                if "(" in column
            },
            **{column: number(format="%d") for column in table.columns if column.startswith("test tracks")},
            **{
                column: st.column_config.TextColumn(help=GLOSSARY["interval"])
                for column in table.columns
                if column.startswith("95 % interval")
            },
            "parameters": number(format="localized"),
            "train minutes": number(format="%.1f"),
            "ms per clip": number(format="%.1f"),
        },
    )
    experts.caption(
        "Accuracy, macro F1 and macro ROC AUC on each split's test tracks — how many, and the accuracy's 95 % "
        "interval, beside it (the musicnn head is scored on the few test clips whose audio is here); the accuracy "
        "through the whole classroom chain (phone speaker, room, noise, laptop microphone, codec) on the test clips "
        "that have audio (see the Real-world conditions tab); parameters, training time and milliseconds per 30-s "
        "clip (CPU) of the random-split run; ECE is the calibration error after temperature scaling."
    )
    with st.expander("What each model is"):
        st.markdown("\n".join(f"- **{model}** — {describe_model(model)}" for model in table.index))

    with st.container(border=True):
        st.markdown(
            "**Why is the fault-filtered split lower?** GTZAN holds several clips of the same artist, and even "
            "of the same recording. A random split puts some of them in training and others in the test, so "
            "a model is rewarded for recognising the artist or the recording rather than the genre, and the "
            "score is inflated. The fault-filtered split of Kereliuk, Sturm & Larsen (2015) keeps each artist "
            "on one side and drops GTZAN's repeated and mislabelled clips (Sturm, 2013, *The GTZAN dataset: "
            "its contents, its faults, their effects on evaluation, and its future use*). Its lower number is "
            "the honest one for music by an artist the model has never heard."
        )

    # Lazy tabs (on_change="rerun"): only the open tab is computed and drawn, so the page opens fast.
    # Short names: all six fit beside each other at 1024 px, with no scroll arrow hiding the last ones.
    scores, radar, curves, ensembles, recurrent, real_world = st.tabs(
        ["Scores", "Per genre", "Training", "Ensembles", "Recurrent layer", "Real world"],
        key="comparison_tab",
        on_change="rerun",
    )
    if scores.open:
        with scores:
            metric = st.radio(
                "Bars show",
                ["accuracy", "macro_f1", "macro_roc_auc"],
                horizontal=True,
                key="bar_metric",
                format_func=lambda m: {
                    "accuracy": "accuracy",
                    "macro_f1": "macro F1",
                    "macro_roc_auc": "macro ROC AUC",
                }[m],
            )
            plot(charts.comparison_bars_figure(runs, metric, highlighted_model(runs)), key="bars")

    if radar.open:
        with radar:
            splits = sorted({split for _, split in runs}, key=lambda s: (s != "random", s))
            radar_split = st.radio(
                "Radar chart of",
                splits,
                horizontal=True,
                key="radar_split",
                format_func=lambda s: SPLIT_LABELS.get(s, s),
            )
            plot(
                charts.f1_radar_figure(
                    {model: m for (model, split), m in runs.items() if split == radar_split}, highlighted_model(runs)
                ),
                key="radar",
            )

    if curves.open:
        with curves:
            labels = {
                run_label(*run): run
                for run in sorted(runs, key=lambda run: (run[0] != DEFAULT_MODEL, run))
                if history(*run) is not None
            }
            first_model = [label for label, (model, _) in labels.items() if model == next(iter(labels.values()))[0]]
            chosen = st.multiselect("Training curves of", list(labels), default=first_model, key="curves")
            if chosen:
                plot(
                    charts.training_curves_figure({label: history(*labels[label]) for label in chosen}),
                    key="training_curves",
                )
                st.caption(
                    "Why is training accuracy below validation? Training clips are made harder on purpose — mixed "
                    "with each other, masked, shifted, played through simulated rooms — so the model cannot learn "
                    "them by heart; the validation clips are heard as they are."
                )

    if ensembles.open:
        with ensembles:
            # An ensemble names its members in its training.json (or metrics.json) as "members": [model, ...].
            members = {}
            for run in runs:
                names = training_record(*run).get("members") or runs[run].get("members")
                if names:
                    members[run] = list(names)
            if members:
                gains = charts.ensemble_gain_table(runs, members)
                shown = pd.DataFrame(
                    {
                        "split": [SPLIT_LABELS.get(s, s).removesuffix(" split") for s in gains["split"]],
                        "accuracy": [f"{a:.1%}" for a in gains["accuracy"]],
                        "its best member": [
                            f"{m} ({a:.1%})" for m, a in zip(gains["best member"], gains["best member accuracy"])
                        ],
                        "gain": [f"{g:+.1%}" for g in gains["gain"]],
                    },
                    index=pd.Index(gains["ensemble"], name="ensemble"),
                )
                st.table(shown)
                st.caption(
                    "An ensemble lets several models vote. Gain is its test accuracy minus that of its best member "
                    "on the same split: how much the vote adds over simply using that one model."
                )
                with st.expander("Members of each ensemble"):
                    st.dataframe(
                        gains.style.format({"accuracy": "{:.1%}", "best member accuracy": "{:.1%}", "gain": "{:+.1%}"}),
                        hide_index=True,
                        key="ensemble_gain",
                        placeholder=MISSING,
                    )
                left_out = charts.ensemble_left_out({run: training_record(*run) for run in members})
                if left_out:
                    st.caption(
                        "Left out of the candidates: an ensemble answers only on the tracks all its members read, so "
                        f"a model of audio that reads fewer is not made a member. {left_out}"
                    )
            else:
                st.caption(
                    "No ensemble has been trained yet.",
                    help="`python -m mgc train --model ensemble-sum` builds one.",
                )

    if real_world.open:
        with real_world:
            if robust:
                full = charts.robustness_table(robust)
                percent = lambda v: MISSING if pd.isna(v) else f"{v:.0%}"  # noqa: E731
                # One split at a time: with a split column the five columns ran 80 px past a phone's screen and cut
                # "hardest case" to "classr".
                labels = sorted(set(full["split"]), key=lambda s: (s != SPLIT_LABELS["random"], s))
                split_label = st.radio("Split", labels, horizontal=True, key="robust_split")
                rows = full[full["split"] == split_label]
                shown = pd.DataFrame(
                    {
                        "as recorded": [percent(v) for v in rows["clean"]],
                        "in a classroom": [percent(v) for v in rows["classroom chain"]],
                        "hardest alone": [
                            MISSING if pd.isna(a) else f"{c}: {a:.0%}"
                            for c, a in zip(rows["worst condition"], rows["worst accuracy"])
                        ],
                    },
                    index=pd.Index(rows["model"], name="model"),
                )
                st.table(shown)
                st.caption(
                    "How often each model is right on the test clips we have audio for: as recorded, and as a "
                    "classroom hears them — through a phone speaker, a room, a talking class and a laptop "
                    "microphone. Hardest alone: the one of those it does worst with on its own."
                )
                with st.expander("Details, for experts"):
                    st.dataframe(
                        full.style.format(
                            {"clean": "{:.0%}", "classroom chain": "{:.0%}", "worst accuracy": "{:.0%}"},
                            na_rep=MISSING,
                        ),
                        hide_index=True,
                        key="robustness_table",
                        placeholder=MISSING,
                    )
                    st.caption(
                        "Measured by `python -m mgc robustness --all --split both`. The recipe says whether a run "
                        "was trained on clean pictures only or also through simulated speakers, rooms, noise and "
                        "microphones."
                    )
            else:
                st.caption(
                    "No model has been measured this way yet.",
                    help="`python -m mgc robustness --all --split both` measures them.",
                )

    if recurrent.open:
        with recurrent:
            layers = {run: predictions(*run) for run in runs if run[0] in charts.RECURRENT_LAYERS}
            if layers:
                full = charts.recurrent_layer_table(layers)
                against = full.reindex(columns=["vs CNN", "McNemar p"])  # absent where no CNN run was compared
                plain = pd.DataFrame(
                    {
                        "split": [s.removesuffix(" split") for s in full["split"]],
                        "accuracy": [f"{a:.1%} ({i})" for a, i in zip(full["accuracy"], full["95 % interval"])],
                        "vs the CNN": [MISSING if pd.isna(v) else f"{v:+.1%}" for v in against["vs CNN"]],
                        "could be chance?": [
                            MISSING if pd.isna(p) else ("yes" if p >= 0.05 else "no") for p in against["McNemar p"]
                        ],
                    },
                    index=pd.Index(full["recurrent layer"], name="recurrent layer"),
                )
                st.table(plain)
                shown = full
                # As text, to format each column its own way; a missing value as MISSING.
                for column, pattern in (("accuracy", "{:.1%}"), ("vs CNN", "{:+.1%}"), ("McNemar p", "{:.3f}")):
                    if column in shown:
                        shown[column] = [(MISSING if pd.isna(v) else pattern.format(v)) for v in shown[column]]
                st.caption(
                    "The same convolutional blocks, then no recurrent layer (cnn), two LSTM layers (cnn-lstm) or two "
                    "GRU layers (crnn), trained the same way. “Could be chance?” looks only at the test tracks where "
                    "the model and the CNN disagree: “yes” means the difference is small enough to be luck."
                )
                with st.expander("Details, for experts"):
                    st.dataframe(shown, hide_index=True, key="recurrent_layers", placeholder=MISSING)
                    st.caption(
                        "cnn pools with mean and max over time. McNemar's exact test on the tracks where the two "
                        "disagree; p ≥ 0.05 reads “could be chance”. A seed reported 79.9 / 87.6 / 91.3 % for CNN / "
                        "CNN-LSTM / CNN-GRU on a split by 3-s chunks, which puts chunks of one song on both sides "
                        "(see Splits in the README): those figures measure recognising a song already heard, and are "
                        "not comparable with these."
                    )
