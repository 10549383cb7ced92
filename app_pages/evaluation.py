"""Evaluation: how one trained model does on its split's test tracks, from cached predictions only."""

import mimetypes

import pandas as pd
import streamlit as st

from app_pages.cached import dataset, metrics, predictions, robustness
from app_pages.picker import pick_run
from app_pages.plot import plot
from mgc import charts
from mgc.charts import MISSING
from mgc.explain.words import GLOSSARY

st.title("Evaluation")
st.markdown(
    "How one model does on the test tracks of its split — music it never heard in training. "
    "Everything here is read from the model's cached test predictions; nothing is recomputed."
)
run = pick_run("evaluation")
if run is not None:
    model, split = run
    scores, table = metrics(model, split), predictions(model, split)
    accuracy, f1, auc = st.columns(3)
    tracks = f"On {len(table)} test tracks; 95 % interval {charts.accuracy_interval(scores)}. "
    accuracy.metric("Accuracy", f"{scores['accuracy']:.1%}", help=tracks + GLOSSARY["accuracy"])
    f1.metric("Macro F1", f"{scores['macro_f1']:.3f}", help=GLOSSARY["f1"])
    auc.metric("Macro ROC AUC", f"{scores['macro_roc_auc']:.3f}", help=GLOSSARY["auc"])

    # Lazy tabs (on_change="rerun"): only the open tab is computed and drawn, so the page opens fast. Short names:
    # all seven fit beside each other at 1024 px, with no scroll arrow hiding the last ones.
    confusion, roc, precision_recall, report, wrong_tracks, real_world, honesty = st.tabs(
        ["Confusions", "ROC", "Precision-recall", "Per genre", "Mistakes", "Real world", "Confidence"],
        key="evaluation_tab",
        on_change="rerun",
    )
    if confusion.open:
        with confusion:
            normalise = st.toggle("Show each row as fractions of the true genre", key="normalise")
            plot(
                charts.confusion_figure(scores["confusion_matrix"], scores.get("genres"), normalise=normalise),
                key="confusion",
            )
    if roc.open:
        plot(charts.roc_figure(table), key="roc", where=roc)
        roc.caption(GLOSSARY["auc"])
    if precision_recall.open:
        plot(charts.precision_recall_figure(table), key="precision_recall", where=precision_recall)
        precision_recall.caption(GLOSSARY["ap"])
    if report.open:
        full = charts.classification_report(scores)
        # For a class: four short columns that fit a phone; AUC and AP with the expert table below.
        shown = full[["precision", "recall", "f1", "support"]].rename(columns={"f1": "F1", "support": "tracks"})
        report.table(
            shown.style.format({"precision": "{:.2f}", "recall": "{:.2f}", "F1": "{:.2f}", "tracks": "{:.0f}"})
        )
        report.caption(
            "Precision: of the tracks it called this genre, the share that were. Recall: of this genre's tracks, the "
            f"share it found. {GLOSSARY['f1']}"
        )
        experts = report.expander("With ROC AUC and AP, for experts")
        experts.dataframe(
            full.style.format(precision=3, na_rep=MISSING),
            key="report",
            height="content",
            placeholder=MISSING,
        )
        experts.caption(f"ROC AUC: {GLOSSARY['auc']} AP: {GLOSSARY['ap']}")
    if wrong_tracks.open:
        with wrong_tracks:
            wrong = charts.misclassified(table)
            # Three columns fit a phone (five ran past a 390-px screen's edge); the full table is for experts.
            heard_as = [
                f"{genre} ({confidence:.0%})" for genre, confidence in zip(wrong["predicted"], wrong["confidence"])
            ]
            st.dataframe(
                pd.DataFrame({"track": wrong["track"], "labelled": wrong["genre"], "answered": heard_as}),
                hide_index=True,
                key="misclassified",
                placeholder=MISSING,
            )
            st.expander("Every column, for experts").dataframe(
                wrong.style.format({"confidence": "{:.0%}", "p(true genre)": "{:.0%}"}),
                hide_index=True,
                key="misclassified_full",
                placeholder=MISSING,
            )
            audio = dataset().audio if dataset() is not None else {}
            audible = [track for track in wrong["track"] if track in audio]
            if audible:
                track = st.selectbox(
                    f"Listen to a misclassified track ({len(audible)} of {len(wrong)} have audio here)",
                    audible,
                    key="listen",
                )
                row = wrong.set_index("track").loc[track]
                st.caption(
                    f"{track}: labelled **{row['genre']}**, predicted **{row['predicted']}** ({row['confidence']:.0%})."
                )
                st.audio(audio[track].read_bytes(), format=mimetypes.guess_type(audio[track].name)[0] or "audio/wav")
            elif len(wrong):
                st.caption("GTZAN's recordings are not on this server, so these tracks cannot be played here.")
    if real_world.open:
        with real_world:
            record = robustness(model, split)
            if record is None:
                st.caption(
                    "Not measured yet for this model.",
                    help=f"`python -m mgc robustness --model {model} --split {split}` plays the test clips that have "
                    "audio through each listening condition.",
                )
            else:
                plot(charts.robustness_figure(record), key="robustness")
                st.caption(
                    f"The same {record['clips']} test clips with audio (of {len(table)} test tracks), clean and as a "
                    "classroom would hear them: a phone speaker, rooms, noise, a laptop microphone, compressed "
                    "files, pitch and tempo changes — and all of them in a row (the classroom chain). Bars show how "
                    "often the model is right, the whiskers the range the true figure lies in: with this few clips, "
                    "differences of a few points are luck.",
                    help=f"Whiskers: Wilson 95 % intervals. Training recipe: {record.get('recipe', 'clean')}.",
                )
    if honesty.open:
        with honesty:
            calibration = scores.get("calibration")
            if calibration is None:
                st.caption(
                    "Not checked yet for this model.",
                    help=f"`python -m mgc evaluate --model {model} --split {split}` fits its temperature on the "
                    "validation tracks and measures it here.",
                )
            else:
                plot(charts.reliability_figure(calibration), key="reliability")
                before, after = st.columns(2)
                before.metric(
                    "Over- or under-confident, as trained",
                    f"{calibration['ece_uncalibrated']:.0%}",
                    help="ECE (expected calibration error). " + GLOSSARY["ece"],
                )
                after.metric(
                    "… after adjusting",
                    f"{calibration['ece']:.0%}",
                    delta=f"{100 * (calibration['ece'] - calibration['ece_uncalibrated']):+.0f} points",
                    delta_color="inverse",
                    help="ECE after temperature scaling. " + GLOSSARY["ece"],
                )
                st.caption(
                    f"{GLOSSARY['calibration']} This model's temperature is {calibration['temperature']:.2f} "
                    f"({'softer' if calibration['temperature'] > 1 else 'sharper'} than as trained). Its answers say "
                    f"“not sure: X or Y” when the top two are less than {calibration['unsure_margin']:.0%} apart: "
                    f"{calibration['unsure_tracks']} of these {len(table)} test tracks."
                )
                honest = calibration.get("ece_of_an_honest_model")
                if honest:
                    st.caption(
                        f"On only {len(table)} tracks even a perfectly honest model would seem about "
                        f"{honest['median']:.0%} off, by chance alone.",
                        help=f"The ECE of a perfectly calibrated model with these confidences: median "
                        f"{honest['median']:.3f}, 95 % of the time below {honest['p95']:.3f}; the bins hold "
                        "few tracks.",
                    )
