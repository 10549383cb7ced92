"""Every chart and table the app shows, as pure functions: data in, plotly figure or DataFrame out.

Nothing here draws on a screen or knows about Streamlit, so each chart is tested by looking at its
traces. Genres keep one colour everywhere (`GENRE_COLOURS`), so a class can follow "blue is blues"
from one chart to the next.
"""

from __future__ import annotations

import re
import textwrap
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .data.gtzan import GENRES, genre_of
from .frontends.picture import COLUMN_SECONDS
from .runs.table import RECURRENT_LAYERS

GENRE_COLOURS: dict[str, str] = {
    "blues": "#2D00FF",
    "classical": "#2D96D2",
    "country": "#878700",
    "disco": "#B45AFF",
    "hiphop": "#005A00",
    "jazz": "#C37896",
    "metal": "#870F87",
    "pop": "#C35A5A",
    "reggae": "#7800B4",
    "rock": "#4B4B5A",
}
"""One colour per genre, the same in every chart, chosen for a washed-out projector and for colour-blind viewers
at once: each is at least 3.2:1 against the white page (WCAG's minimum for graphics is 3:1), and every two differ
by a CIELAB distance of at least 23 as seen with normal vision and as simulated for protanopia, deuteranopia and
tritanopia (Machado, Oliveira & Fernandes 2009, full severity) — Paul Tol's muted scheme, used before, had
classical and country at 1.8 and 1.6:1 and metal and rock 6 apart for deuteranopes. Found by a search over sRGB
colours that maximises the smallest of those distances; tests/test_charts.py checks both properties."""
GENRE_DASHES: dict[str, str] = {
    "blues": "solid",
    "classical": "solid",
    "country": "solid",
    "disco": "dot",
    "hiphop": "solid",
    "jazz": "dash",
    "metal": "dash",
    "pop": "solid",
    "reggae": "dashdot",
    "rock": "solid",
}
"""Each genre's line style in the per-genre curves (ROC, precision-recall): the colours closest to each other — the
four violets (blues, disco, metal, reggae) and the two rose reds (jazz, pop) — also differ by dash, since a 2-px
line on a projector shows its hue less than a bar or an area does."""
CURVE_Y_TICKS = [0.2, 0.4, 0.6, 0.8, 1.0]
"""The y ticks of the per-genre curves (ROC, precision-recall): from 0.2, since the x axis's 0 marks the corner and a
second 0 beside it ran into the first on a phone."""
TEXT_COLOUR = "#1a1a1a"
"""Chart text: near-black on white (contrast ≈ 17:1), readable on a washed-out projector."""
PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}
"""How the app shows every chart (`st.plotly_chart(..., theme=None, config=PLOTLY_CONFIG)`): with these charts' own
style rather than Streamlit's theme (whose grey 12.75-px axis text reads at 3.7:1), and no toolbar over the title."""
PER_GENRE_CURVES_HEIGHT = 640
"""ROC and precision-recall: eleven legend entries go below the plot, one or two per line on a phone — the
figure is tall enough that the curves keep ~330 px there (at 520 px they kept ~200)."""
OTHERS_GREY = "#b0b0b0"
"""The runs that are not the highlighted one, in charts that compare many."""
HIGHLIGHT = "#c2185b"
"""The highlighted run in charts that draw the others grey: the app's own accent (.streamlit/config.toml), 5.9:1 on
white. Left to plotly's colour cycle it was the cycle's n-th colour for n runs: a light green at 1.6:1 for 16."""
MISSING = "—"
"""How a table shows a value that does not exist (a split a run was not trained on, a comparison with itself)."""
SPLIT_LABELS = {"random": "random split", "filtered": "fault-filtered split"}
_LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=10, r=10, t=50, b=10),
    font=dict(size=16, color=TEXT_COLOUR),
    title_font=dict(size=19, color=TEXT_COLOUR),
    legend=dict(orientation="h", yanchor="top", y=-0.3, x=0, xanchor="left"),
)
"""Every chart's look: 16-px near-black text, legends below the plot (beside it, they squeeze a phone's plot to
a sliver)."""


TITLE_CHARACTERS = 30
"""A chart title longer than this is broken into lines: plotly does not wrap titles, and a phone's 358-px chart cut
"Accuracy under real-world listening conditions" after "listening" and, at 36 characters a line, "Where it sits
among the GTZAN test tracks" after "GTZAN te" (32 characters showed)."""


def _styled(figure: go.Figure, title: str, **layout) -> go.Figure:
    lines = textwrap.wrap(title, TITLE_CHARACTERS) or [title]
    styled = {**_LAYOUT, **layout}
    margin = dict(styled["margin"])
    margin["t"] = margin.get("t", 50) + 24 * (len(lines) - 1)  # room for the title's extra lines
    figure.update_layout(title="<br>".join(lines), **{**styled, "margin": margin})
    # Tick labels grow the margins instead of being cut: on a phone the genres under a bar chart turn upright and
    # ran off the bottom ("classic", "countr").
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    return figure


# --- one prediction ----------------------------------------------------------------------------


def waveform_figure(samples: np.ndarray, sample_rate: int, points: int = 1500) -> go.Figure:
    """The waveform as its min/max envelope over `points` time steps (a 10-minute file stays light)."""
    samples = np.asarray(samples, dtype=np.float32)
    buckets = max(1, min(points, len(samples)))
    edges = np.linspace(0, len(samples), buckets + 1).astype(int)
    low = np.minimum.reduceat(samples, edges[:-1])
    high = np.maximum.reduceat(samples, edges[:-1])
    seconds = edges[:-1] / sample_rate
    figure = go.Figure(
        [
            go.Scatter(
                x=seconds,
                y=high,
                mode="lines",
                line=dict(width=0.5, color="#4c78a8"),
                name="max",
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=seconds,
                y=low,
                mode="lines",
                line=dict(width=0.5, color="#4c78a8"),
                name="min",
                fill="tonexty",
                showlegend=False,
                hoverinfo="skip",
            ),
        ]
    )
    figure.update_xaxes(title="seconds")
    # no ±1 tick labels: at the plot's bottom-left corner "−1" ran into the time axis's "0"
    figure.update_yaxes(title="amplitude", range=[-1, 1], tickvals=[-0.5, 0, 0.5])
    return _styled(figure, "Waveform", height=220)


@lru_cache(maxsize=1)
def magma_colourscale() -> list[list]:
    """Matplotlib's 256 magma colours as a plotly colourscale of rgb() strings.

    The exact colours the pictures were drawn in; rgb() rather than hex because the plotly.js in
    Streamlit misreads magma's first colour "#000004" and paints zero pink.
    """
    from matplotlib import colormaps

    rgb = np.round(colormaps["magma"](np.arange(256))[:, :3] * 255).astype(int)
    return [[i / 255, f"rgb({r},{g},{b})"] for i, (r, g, b) in enumerate(rgb)]


MAX_DRAWN_COLUMNS = 1500
"""The most time columns a spectrogram chart sends to the browser. A 10-minute upload's picture has 6,680: the
browser took ~4 s to draw them (4.7 MB of figure), wider than any screen has pixels; 1,500 keeps every column of
anything up to 2 minutes 14 s and draws a longer piece at a few columns averaged into one."""


def drawn_columns(z: np.ndarray, most: int = MAX_DRAWN_COLUMNS) -> tuple[np.ndarray, np.ndarray, int]:
    """A (bands, columns) picture with at most `most` columns for drawing: each run of `step` neighbouring columns
    averaged into one (the last run may be shorter), as float32 (the browser misreads uint8 arrays); the seconds
    each drawn column starts at; and `step` (1: every column as it is)."""
    z = np.asarray(z, dtype=np.float32)
    columns = z.shape[1]
    step = max(1, -(-columns // max(1, most)))
    starts = np.arange(0, columns, step)
    if step > 1:
        # float64 sums: a float32 running sum of many columns would drift from the mean it reports
        z = (np.add.reduceat(z.astype(np.float64), starts, axis=1) / np.diff(np.append(starts, columns))).astype(
            np.float32
        )
    return z, starts * COLUMN_SECONDS, step


def _time_axis(step: int) -> str:
    """The time axis's title, saying when columns were averaged for drawing (`drawn_columns`)."""
    if step == 1:
        return "seconds"
    return f"seconds (each column drawn is the mean of {step}: {step * COLUMN_SECONDS:.2f} s)"


def picture_figure(picture: np.ndarray, title: str = "What the model sees: the mel spectrogram") -> go.Figure:
    """The model's input: 128 mel bands (low at the bottom) over time, in the magma colours it was drawn in; a
    long piece's columns averaged a few at a time (`drawn_columns`), as its time axis says."""
    z, seconds, step = drawn_columns(picture)
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=seconds,
            y=np.arange(picture.shape[0]),
            colorscale=magma_colourscale(),
            zmin=0,
            zmax=255,
            colorbar=dict(title="level"),
            hovertemplate="%{x:.1f} s, band %{y}: %{z:.0f}<extra></extra>",
        )
    )
    figure.update_xaxes(title=_time_axis(step))
    figure.update_yaxes(title="mel band (low → high)")
    return _styled(figure, title, height=330)


def saliency_figure(saliency: np.ndarray, genre: str) -> go.Figure:
    """Gradient × input: red pushed the model towards `genre`, blue away from it; a long piece's columns averaged a
    few at a time (`drawn_columns`), as its time axis says."""
    z, seconds, step = drawn_columns(saliency)
    limit = float(np.percentile(np.abs(z), 99)) or 1.0
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=seconds,
            y=np.arange(saliency.shape[0]),
            colorscale="RdBu_r",
            zmin=-limit,
            zmax=limit,
            zmid=0,
            colorbar=dict(title="towards"),
            hovertemplate="%{x:.1f} s, band %{y}: %{z:.3g}<extra></extra>",
        )
    )
    figure.update_xaxes(title=_time_axis(step))
    figure.update_yaxes(title="mel band (low → high)")
    return _styled(figure, f"Where the model heard “{genre}” (red: for, blue: against)", height=330)


def top_genres_figure(probabilities: dict[str, float], k: int = 5) -> go.Figure:
    """Horizontal bars of the `k` most probable genres, best on top, labelled with percentages."""
    top = sorted(probabilities.items(), key=lambda item: -item[1])[:k][::-1]
    genres = [g for g, _ in top]
    values = [p for _, p in top]
    figure = go.Figure(
        go.Bar(
            x=values,
            y=genres,
            orientation="h",
            marker_color=[GENRE_COLOURS[g] for g in genres],
            text=[f"{p:.0%}" for p in values],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, 1.12], tickformat=".0%", title="confidence")
    return _styled(figure, "Top genres", height=60 + 45 * len(genres), margin=dict(l=10, r=40, t=50, b=10))


def _with_alpha(colour: str, alpha: float) -> str:
    """A hex colour as rgba() with this opacity."""
    red, green, blue = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def timeline_figure(timeline: pd.DataFrame) -> go.Figure:
    """Genre probabilities over time as stacked areas, one point per ≈10-s window at its centre."""
    if len(timeline) == 1:  # one window: draw it flat across its span, or the area has no width
        x = [timeline["start"].iloc[0], timeline["end"].iloc[0]]
        rows = pd.concat([timeline, timeline])
    else:
        x = ((timeline["start"] + timeline["end"]) / 2).tolist()
        rows = timeline
    figure = go.Figure(
        [
            go.Scatter(
                x=x,
                y=rows[genre],
                name=genre,
                stackgroup="genres",
                mode="lines",
                line=dict(width=0.5, color=GENRE_COLOURS[genre]),
                # nearly the genre's own colour: plotly's default half-transparent fill made jazz a 1.6:1 pale pink
                fillcolor=_with_alpha(GENRE_COLOURS[genre], 0.85),
                hovertemplate=f"{genre}: %{{y:.0%}} at %{{x:.1f}} s<extra></extra>",
            )
            for genre in GENRES
        ]
    )
    figure.update_xaxes(title="seconds (window centre)")
    figure.update_yaxes(title="probability", range=[0, 1], tickformat=".0%")
    return _styled(figure, "Genre over time", height=470)


def taggram_figure(timeline: pd.DataFrame, tags: list[str]) -> go.Figure:
    """musicnn's taggram: the probability of each of `tags` (top row first) in each 3-s patch of the audio.

    `timeline` is `mgc.explain.Taggram.timeline` (`start`, `end`, then one column per tag). A single-hue scale
    from white (0) to dark blue (the largest probability shown), so the strongest tag-moments stand out.
    """
    centres = ((timeline["start"] + timeline["end"]) / 2).to_numpy()
    figure = go.Figure(
        go.Heatmap(
            z=timeline[list(tags)].to_numpy().T,
            x=centres,
            y=list(tags),
            colorscale="Blues",
            zmin=0,
            colorbar=dict(title="probability", tickformat=".0%"),
            hovertemplate="%{y} at %{x:.0f} s: %{z:.0%}<extra></extra>",
        )
    )
    figure.update_xaxes(title="seconds (3-s patch centre)")
    figure.update_yaxes(autorange="reversed")
    return _styled(figure, "musicnn's tags over time", height=90 + 30 * len(tags))


def top_tags_figure(top: pd.Series) -> go.Figure:
    """Horizontal bars of musicnn's top tags (tag → mean probability over the patches), highest on top."""
    figure = go.Figure(
        go.Bar(
            x=top.to_numpy()[::-1],
            y=list(top.index)[::-1],
            orientation="h",
            marker_color="#4477AA",
            text=[f"{p:.0%}" for p in top.to_numpy()[::-1]],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1%}<extra></extra>",
        )
    )
    figure.update_xaxes(range=[0, max(1e-9, float(top.max())) * 1.18], tickformat=".0%", title="mean probability")
    return _styled(figure, "musicnn's top tags", height=60 + 30 * len(top), margin=dict(l=10, r=40, t=50, b=10))


def embedding_map_figure(
    points: pd.DataFrame, new_point: tuple[float, float] | None = None, new_label: str = "your audio"
) -> go.Figure:
    """GTZAN test tracks in 2-D, coloured by genre, track names on hover, and the new audio as a star."""
    figure = go.Figure(
        [
            go.Scatter(
                x=group["x"],
                y=group["y"],
                mode="markers",
                name=genre,
                text=group["track"],
                marker=dict(color=GENRE_COLOURS[genre], size=9, opacity=0.75),
                hovertemplate="%{text}<extra></extra>",
            )
            for genre in GENRES
            if len(group := points[points["genre"] == genre])
        ]
    )
    if new_point is not None:
        figure.add_trace(
            go.Scatter(
                x=[new_point[0]],
                y=[new_point[1]],
                mode="markers+text",
                name=new_label,
                text=[new_label],
                textposition="top center",
                marker=dict(symbol="star", size=22, color="black", line=dict(color="white", width=1)),
                hovertemplate=f"{new_label}<extra></extra>",
            )
        )
    # The axes are the embeddings' two main directions (PCA): nothing a student can read off them, so no numbers.
    figure.update_xaxes(showticklabels=False, title="", zeroline=False)
    figure.update_yaxes(showticklabels=False, title="", zeroline=False)
    return _styled(figure, "Where it sits among the GTZAN test tracks", height=480)


# --- evaluation of one run -----------------------------------------------------------------------


def confusion_figure(matrix, genres=GENRES, normalise: bool = False) -> go.Figure:
    """Confusion matrix (rows: true genre, columns: predicted), as counts or as fractions of each row."""
    counts = np.asarray(matrix, dtype=float)
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalise else counts
    text = [[f"{v:.0%}" if normalise else f"{v:.0f}" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=list(genres),
            y=list(genres),
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1 if normalise else None,
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        )
    )
    figure.update_xaxes(title="predicted genre", side="bottom")
    figure.update_yaxes(title="true genre", autorange="reversed")
    return _styled(
        figure, "Confusion matrix" + (" (fraction of each true genre)" if normalise else " (test tracks)"), height=560
    )


def _truth_and_scores(predictions: pd.DataFrame, genre: str) -> tuple[np.ndarray, np.ndarray]:
    return (predictions["genre"] == genre).to_numpy(), predictions[genre].to_numpy()


def roc_figure(predictions: pd.DataFrame) -> go.Figure:
    """One-vs-rest ROC curve per genre with its AUC, and the macro-average curve (mean TPR over a FPR grid)."""
    from sklearn.metrics import auc, roc_curve

    grid = np.linspace(0, 1, 201)
    figure, mean_tpr, aucs = go.Figure(), [], []
    for genre in GENRES:
        truth, scores = _truth_and_scores(predictions, genre)
        if truth.all() or not truth.any():
            continue
        fpr, tpr, _ = roc_curve(truth, scores)
        area = auc(fpr, tpr)
        aucs.append(area)
        mean_tpr.append(np.interp(grid, fpr, tpr))
        figure.add_trace(
            go.Scatter(
                x=fpr,
                y=tpr,
                mode="lines",
                name=f"{genre} (AUC {area:.2f})",
                line=dict(color=GENRE_COLOURS[genre], width=2, dash=GENRE_DASHES[genre]),
            )
        )
    if mean_tpr:
        macro = np.mean(mean_tpr, axis=0)
        macro[0] = 0.0
        figure.add_trace(
            go.Scatter(
                x=grid,
                y=macro,
                mode="lines",
                name=f"macro average (AUC {np.mean(aucs):.2f})",
                line=dict(color="black", width=4, dash="dash"),
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[0, 1],
            y=[0, 1],
            mode="lines",
            name="chance",
            showlegend=False,
            line=dict(color="grey", width=1, dash="dot"),
            hoverinfo="skip",
        )
    )
    figure.update_xaxes(title="false positive rate", range=[0, 1])
    figure.update_yaxes(title="true positive rate", range=[0, 1.02], tickvals=CURVE_Y_TICKS)
    return _styled(figure, "ROC per genre (one vs rest)", height=PER_GENRE_CURVES_HEIGHT)


def precision_recall_figure(predictions: pd.DataFrame) -> go.Figure:
    """Precision-recall curve per genre with its average precision (AP), one vs rest."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    figure, aps = go.Figure(), []
    for genre in GENRES:
        truth, scores = _truth_and_scores(predictions, genre)
        if not truth.any():
            continue
        precision, recall, _ = precision_recall_curve(truth, scores)
        ap = average_precision_score(truth, scores)
        aps.append(ap)
        figure.add_trace(
            go.Scatter(
                x=recall,
                y=precision,
                mode="lines",
                name=f"{genre} (AP {ap:.2f})",
                line=dict(color=GENRE_COLOURS[genre], width=2, dash=GENRE_DASHES[genre], shape="hv"),
            )
        )
    figure.update_xaxes(title="recall", range=[0, 1])
    figure.update_yaxes(title="precision", range=[0, 1.02], tickvals=CURVE_Y_TICKS)
    title = "Precision-recall per genre" + (f" (mean AP {np.mean(aps):.2f})" if aps else "")
    return _styled(figure, title, height=PER_GENRE_CURVES_HEIGHT)


def classification_report(metrics: dict) -> pd.DataFrame:
    """Per-genre precision, recall, F1, ROC-AUC, AP and support, then macro and weighted averages."""
    rows = {
        genre: {key: values[key] for key in ("precision", "recall", "f1", "roc_auc", "average_precision", "support")}
        for genre, values in metrics["per_class"].items()
    }
    support = sum(values["support"] for values in metrics["per_class"].values())
    for average in ("macro", "weighted"):
        rows[f"{average} average"] = {
            "precision": metrics[f"{average}_precision"],
            "recall": metrics[f"{average}_recall"],
            "f1": metrics[f"{average}_f1"],
            "support": support,
            "roc_auc": metrics["macro_roc_auc"] if average == "macro" else None,
            "average_precision": metrics["macro_average_precision"] if average == "macro" else None,
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "genre"
    return table.rename(columns={"roc_auc": "ROC AUC", "average_precision": "AP"})


def misclassified(predictions: pd.DataFrame) -> pd.DataFrame:
    """Test tracks the model got wrong, most confidently wrong first."""
    wrong = predictions[predictions["genre"] != predictions["predicted"]]
    rows = pd.DataFrame(
        {
            "track": wrong["track"],
            "genre": wrong["genre"],
            "predicted": wrong["predicted"],
            "confidence": [row[row["predicted"]] for _, row in wrong.iterrows()],
            "p(true genre)": [row[row["genre"]] for _, row in wrong.iterrows()],
        }
    )
    return rows.sort_values("confidence", ascending=False).reset_index(drop=True)


# --- comparing runs ------------------------------------------------------------------------------


def comparison_table(metrics: dict[tuple[str, str], dict], robustness: dict | None = None) -> pd.DataFrame:
    """One row per model: accuracy, macro-F1, macro ROC-AUC and calibrated ECE on each split, the classroom chain's
    accuracy (from `robustness`, (model, split) → robustness.json, where measured), size and speed.

    `metrics` maps (model, split) to that run's metrics.json. Parameters, training time and
    milliseconds per 30-s clip are from the random-split run when there is one.
    """
    rows: dict[str, dict] = {}
    for (model, split), m in sorted(metrics.items()):
        row = rows.setdefault(model, {})
        row[f"accuracy ({split})"] = m.get("accuracy")
        row[f"macro F1 ({split})"] = m.get("macro_f1")
        row[f"macro AUC ({split})"] = m.get("macro_roc_auc")
        row[f"ECE ({split})"] = m["calibration"]["ece"] if "calibration" in m else None
        if split == "random" or "parameters" not in row:
            row["parameters"] = m.get("parameters")
            row["train minutes"] = m["train_seconds"] / 60 if m.get("train_seconds") is not None else None
            row["ms per clip"] = m.get("model_ms_per_clip")
    for (model, split), record in (robustness or {}).items():
        if model in rows and "classroom" in record["conditions"]:
            rows[model][f"classroom chain ({split})"] = record["conditions"]["classroom"]["accuracy"]
    table = pd.DataFrame.from_dict(rows, orient="index")
    order = [
        f"{name} ({split})"
        for name in ("accuracy", "macro F1", "macro AUC", "ECE", "classroom chain")
        for split in ("random", "filtered")
    ]
    columns = [c for c in order if c in table] + ["parameters", "train minutes", "ms per clip"]
    table = table.reindex(columns=columns).astype(float)  # a run without a number shows as NaN, not None
    # Beside the accuracies: how many test tracks each is over (the musicnn head reads only those with audio) and
    # its Wilson 95 % interval, so that 100 % of 33 clips is not read as 100 % of 200.
    counted = []
    for split in ("random", "filtered"):
        if f"accuracy ({split})" in table:
            runs = {model: m for (model, s), m in metrics.items() if s == split}
            counts = [runs[m].get("test_tracks") if m in runs else None for m in table.index]
            table[f"test tracks ({split})"] = pd.array(counts, dtype="Int64")
            table[f"95 % interval ({split})"] = [accuracy_interval(runs[m]) if m in runs else None for m in table.index]
            counted += [f"test tracks ({split})", f"95 % interval ({split})"]
    accuracies = [c for c in table.columns if c.startswith("accuracy (")]
    table = table[accuracies + counted + [c for c in table.columns if c not in accuracies + counted]]
    table.index.name = "model"
    return table


def accuracy_table(metrics: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """The student's comparison: one row per model, one column per split, each cell the test accuracy with its 95 %
    interval as text ("77 % (71–82 %)"); a run scored on part of the test tracks only says on how many
    ("97 % on 33 clips (84–99 %)"), so that it is not read as the best. "—" where a model lacks the split."""
    models = sorted({model for model, _ in metrics})
    columns = {}
    for split in ("random", "filtered"):
        if not any(s == split for _, s in metrics):
            continue
        cells = []
        for model in models:
            m = metrics.get((model, split))
            if m is None or m.get("accuracy") is None:
                cells.append(MISSING)
                continue
            on = f" on {m['test_tracks']} clips" if m.get("test_tracks_missing") else ""
            cells.append(f"{100 * m['accuracy']:.0f} %{on} ({accuracy_interval(m)})".replace(" ()", ""))
        columns[SPLIT_LABELS[split]] = cells
    table = pd.DataFrame(columns, index=pd.Index(models, name="model"))
    return table


def accuracy_interval(metrics: dict) -> str:
    """A run's test accuracy as its Wilson 95 % interval, "73–95 %" (from metrics.json's accuracy and test tracks)."""
    from .evaluate.metrics import wilson_interval

    tracks = metrics.get("test_tracks")
    if not tracks or metrics.get("accuracy") is None:
        return ""
    low, high = wilson_interval(round(metrics["accuracy"] * tracks), tracks)
    return f"{100 * low:.0f}–{100 * high:.0f} %"


def f1_radar_figure(metrics: dict[str, dict], highlight: str | None = None) -> go.Figure:
    """Per-genre F1 of each labelled run as a closed polygon on a radar chart. With `highlight` (one of the
    labels), that run is drawn bold and filled and every other run thin and grey under it — fourteen
    colours cannot be told apart on a projector, one can."""
    figure = go.Figure()
    highlighted = highlight in metrics
    ordered = sorted(metrics, key=lambda label: label == highlight)  # the highlighted run drawn last, on top
    first_other = True
    for label in ordered:
        values = [metrics[label]["per_class"][g]["f1"] for g in GENRES]
        closed = dict(r=values + values[:1], theta=[*GENRES, GENRES[0]], mode="lines+markers")
        if highlighted and label != highlight:
            figure.add_trace(
                go.Scatterpolar(
                    **closed,
                    name="other models",
                    legendgroup="others",
                    showlegend=first_other,
                    hovertemplate=f"{label}<br>%{{theta}}: %{{r:.2f}}<extra></extra>",
                    line=dict(width=1.5, color=OTHERS_GREY),
                    marker=dict(size=4),
                    opacity=0.7,
                )
            )
            first_other = False
            continue
        figure.add_trace(
            go.Scatterpolar(
                **closed,
                name=label,
                line=dict(width=4, color=HIGHLIGHT) if highlighted else dict(width=3),
                fill="toself" if highlighted or len(metrics) <= 2 else "none",
                # a light fill: at 0.9 it hid the grey runs' lines inside the highlighted one
                **({"fillcolor": "rgba(194, 24, 91, 0.12)"} if highlighted else {}),
                opacity=1.0 if highlighted else 0.7,
            )
        )
    figure.update_layout(
        # The radial scale along 18°, between the first two genres: along 0° its "1.0" ran into "blues".
        polar=dict(
            # two ticks: on a phone's 180-px radar five ran into each other
            radialaxis=dict(
                range=[0, 1], tickformat=".1f", angle=18, tickangle=18, tickvals=[0.5, 1], tickfont_size=12
            ),
            angularaxis=dict(tickfont_size=14),
        )
    )
    # Wide side margins: the genre names around the circle ("hiphop", "classical") stick out of the plot area, and a
    # phone's narrow plot cut them to "iphop" and "classi".
    return _styled(figure, "F1 per genre", height=520, margin=dict(l=70, r=70, t=70, b=10))


RECURRENT_BASELINE = next(iter(RECURRENT_LAYERS))
"""Of the runs that differ in their recurrent layer alone (`RECURRENT_LAYERS`, from the run table), the one without
(the CNN), which the others are compared with."""


def recurrent_layer_table(predictions: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """CNN, CNN-LSTM and CNN-GRU on each split's test tracks: accuracy with its Wilson 95 % interval, and each
    recurrent model against the CNN on the very same tracks (McNemar's exact test). `predictions` maps
    (model, split) to that run's predictions.csv."""
    from .evaluate.metrics import mcnemar, wilson_interval

    rows = []
    for split in ("random", "filtered"):
        base = predictions.get((RECURRENT_BASELINE, split))
        base_correct = None if base is None else (base["genre"] == base["predicted"]).to_numpy()
        for model, layer in RECURRENT_LAYERS.items():
            table = predictions.get((model, split))
            if table is None:
                continue
            correct = (table["genre"] == table["predicted"]).to_numpy()
            low, high = wilson_interval(int(correct.sum()), len(correct))
            row = {"split": SPLIT_LABELS[split], "recurrent layer": layer, "model": model, "tracks": len(correct),
                   "accuracy": correct.mean(), "95 % interval": f"{low:.0%}–{high:.0%}"}  # fmt: skip
            if model == RECURRENT_BASELINE:  # nothing to compare with itself (a dash, not "None", in the table)
                row.update({"vs CNN": np.nan, "right only here / only CNN": "—", "McNemar p": np.nan})
            elif base is not None and list(base["track"]) == list(table["track"]):
                test = mcnemar(correct, base_correct)
                row.update({"vs CNN": correct.mean() - base_correct.mean(),
                            "right only here / only CNN": f"{test['only_first']} / {test['only_second']}",
                            "McNemar p": test["p_value"]})  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


_PLAIN_CONDITION = (
    (re.compile(r"\(RT60 ([\d.]+) s\)"), r"(echo lasts \1 s)"),
    (re.compile(r", (\d+) dB SNR"), r", \1 dB under the music"),
    (re.compile(r"^quiet \(.*dBFS\)$"), "very quiet"),
    (re.compile(r"^clipped \(.*\)$"), "too loud (clipped)"),
)


def plain_condition(label: str) -> str:
    """A listening condition's label (robustness.json) in a student's words: no RT60, SNR or dBFS."""
    for pattern, words in _PLAIN_CONDITION:
        label = pattern.sub(words, label)
    return label


def robustness_figure(record: dict) -> go.Figure:
    """A run's accuracy under each listening condition (robustness.json), with Wilson 95 % intervals, and the
    clean accuracy on the same clips as a dashed line: how much each condition costs."""
    conditions = record["conditions"]
    names = [name for name in conditions if name != "clean"]
    accuracy = [conditions[n]["accuracy"] for n in names]
    figure = go.Figure(
        go.Bar(
            y=[plain_condition(conditions[n]["label"]) for n in names],
            customdata=[conditions[n]["label"] for n in names],
            x=accuracy,
            orientation="h",
            marker_color=["#c2185b" if n == "classroom" else "#4c78a8" for n in names],
            error_x=dict(
                type="data",
                symmetric=False,
                array=[conditions[n]["ci_high"] - a for n, a in zip(names, accuracy)],
                arrayminus=[a - conditions[n]["ci_low"] for n, a in zip(names, accuracy)],
                color="#333333",
            ),
            text=[f"{a:.0%}" for a in accuracy],
            textposition="inside",
            insidetextanchor="start",  # at the bar's start, clear of the interval's whisker at its end
            hovertemplate="%{customdata}: %{x:.0%}<extra></extra>",
        )
    )
    if "clean" in conditions:
        clean = conditions["clean"]
        figure.add_vline(
            x=clean["accuracy"],
            line_dash="dash",
            line_color="#111111",
            annotation_text=f"clean {clean['accuracy']:.0%}",
            annotation_position="top",
        )
    figure.update_xaxes(title=f"accuracy on the same {record['clips']} test clips", range=[0, 1], tickformat=".0%")
    figure.update_yaxes(autorange="reversed")
    return _styled(figure, "Heard as in a real room", height=120 + 30 * len(names))


def reliability_figure(calibration: dict) -> go.Figure:
    """A reliability diagram (metrics.json's `calibration`): per confidence bin, how often the top genre was right
    against how confident the model was, before and after calibration; the diagonal is perfect honesty. Marker
    areas follow the tracks in each bin."""
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(color="#888888", dash="dash"), name="perfectly honest")
    )
    shown = (
        ("reliability_uncalibrated", "ece_uncalibrated", "as trained", "#e45756"),
        ("reliability", "ece", "calibrated", "#4c78a8"),
    )
    for key, ece, name, colour in shown:
        rows = calibration[key]
        figure.add_trace(
            go.Scatter(
                x=[r["confidence"] for r in rows],
                y=[r["accuracy"] for r in rows],
                mode="lines+markers",
                name=f"{name} (off by {calibration[ece]:.0%} on average)",
                line=dict(color=colour, width=3),
                marker=dict(size=[6 + 3 * np.sqrt(r["tracks"]) for r in rows], color=colour),
                customdata=[[r["tracks"], r["low"], r["high"]] for r in rows],
                hovertemplate="confidence %{customdata[1]:.0%}–%{customdata[2]:.0%}: %{customdata[0]} tracks, "
                "mean %{x:.0%}, right %{y:.0%}<extra>" + name + "</extra>",
            )
        )
    # Short titles, no "0%" on the y axis: on a phone "confidence (the top probability)" was cut, the y title ran
    # into the chart's two-line title, and the two axes' "0%" met in the corner. The range leaves the biggest
    # markers (many tracks at 100 %) inside the plot.
    figure.update_xaxes(title="confidence", range=[0, 1.05], tickformat=".0%")
    figure.update_yaxes(title="how often right", range=[0, 1.05], tickformat=".0%", tickvals=[0.2, 0.4, 0.6, 0.8, 1])
    return _styled(figure, "Is its confidence honest?", height=460, legend=dict(orientation="h", y=-0.25, x=0))


def robustness_table(records: dict[tuple[str, str], dict]) -> pd.DataFrame:
    """One row per run with a robustness.json: clean and classroom-chain accuracy on the same clips, the worst
    single condition (the chain, which has its own column and was the worst of nearly every run, left out), the
    number of clips and the training recipe."""
    rows = []
    for (model, split), record in sorted(records.items()):
        conditions = record["conditions"]
        single = (c for n, c in conditions.items() if n not in ("clean", "classroom"))
        worst = min(single, key=lambda c: c["accuracy"], default=None)
        rows.append(
            {
                "model": model,
                "split": SPLIT_LABELS.get(split, split),
                "recipe": record.get("recipe", "clean"),
                "clips": record["clips"],
                "clean": conditions.get("clean", {}).get("accuracy"),
                "classroom chain": conditions.get("classroom", {}).get("accuracy"),
                "worst condition": plain_condition(worst["label"]) if worst else None,
                "worst accuracy": worst["accuracy"] if worst else None,
            }
        )
    return pd.DataFrame(rows)


def _bar_label(value: float | None, metrics: dict) -> str:
    if value is None:
        return ""
    return f"{value:.2f} ({metrics['test_tracks']} clips)" if metrics.get("test_tracks_missing") else f"{value:.2f}"


def comparison_bars_figure(
    metrics: dict[tuple[str, str], dict], metric: str = "accuracy", highlight: str | None = None
) -> go.Figure:
    """Grouped horizontal bars: one group per model (names level, readable on a phone), one bar per split, for a
    top-level metric of metrics.json; with `highlight` (a model), its bars in full colour and the others' faded.
    A run scored on part of the test tracks only (the musicnn head: the clips with audio) says on how many."""
    figure = go.Figure()
    models = sorted({model for model, _ in metrics})
    faded = highlight in models
    for split in ("random", "filtered"):
        values = [metrics.get((model, split), {}).get(metric) for model in models]
        if all(v is None for v in values):
            continue
        partial = [bool(metrics.get((model, split), {}).get("test_tracks_missing")) for model in models]
        figure.add_trace(
            go.Bar(
                y=models,
                x=values,
                orientation="h",
                name=SPLIT_LABELS[split],
                text=[_bar_label(v, metrics.get((model, split), {})) for model, v in zip(models, values)],
                # "0.97 (33 clips)" inside its bar: beside it, it needed a 110-px right margin, which left a phone's
                # bars 50 px to grow in; a plain "0.78" fits beside its bar within the axis's 1.12
                textposition=["inside" if p else "outside" for p in partial],
                insidetextanchor="start",  # from the bar's start: anchored at its end it ran left into the names
                insidetextfont=dict(color=TEXT_COLOUR),
                textfont=dict(size=13),
                cliponaxis=False,
                marker=dict(opacity=[1.0 if not faded or model == highlight else 0.3 for model in models]),
            )
        )
    figure.update_xaxes(title=metric.replace("_", " "), range=[0, 1.12])
    figure.update_yaxes(autorange="reversed")  # the first model at the top
    title = f"{metric.replace('_', ' ').capitalize()} by model and split"
    return _styled(
        figure,
        title,
        barmode="group",
        height=160 + 34 * len(models),
        legend=dict(_LAYOUT["legend"], y=-0.12),
        margin=dict(_LAYOUT["margin"], r=20),
        uniformtext=dict(minsize=12, mode="show"),  # plotly shrank a label inside a thin bar to 6 px
    )


def training_curves_figure(histories: dict[str, pd.DataFrame]) -> go.Figure:
    """Loss and accuracy per epoch for each labelled run: training dashed, validation solid."""
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    colours = px.colors.qualitative.Dark24
    for i, (label, history) in enumerate(histories.items()):
        colour = colours[i % len(colours)]
        for column, name, dash in (("train", "train", "dash"), ("valid", "validation", "solid")):
            for col, quantity in ((1, "loss"), (2, "accuracy")):
                key = f"{column}_{quantity}"
                if key not in history:
                    continue
                figure.add_trace(
                    go.Scatter(
                        x=history["epoch"],
                        y=history[key],
                        mode="lines" if len(history) > 1 else "markers",
                        name=f"{label} · {name}",
                        legendgroup=label,
                        showlegend=col == 1,
                        line=dict(color=colour, dash=dash),
                    ),
                    row=1,
                    col=col,
                )
    figure.update_xaxes(title="epoch")
    return _styled(figure, "Training curves", height=420)


def ensemble_gain_table(
    metrics: dict[tuple[str, str], dict], members: dict[tuple[str, str], list[str]]
) -> pd.DataFrame:
    """For each ensemble run (ensemble, split) → its members: its accuracy, its best member's, and the
    difference (the gain). Members are per split: an ensemble chosen on validation may differ between splits."""
    rows = []
    for (ensemble, split), names in sorted(members.items(), key=lambda item: (item[0][0], item[0][1] != "random")):
        if (ensemble, split) not in metrics:
            continue
        member_accuracy = {n: metrics[(n, split)]["accuracy"] for n in names if (n, split) in metrics}
        if not member_accuracy:
            continue
        best = max(member_accuracy, key=member_accuracy.get)
        accuracy = metrics[(ensemble, split)]["accuracy"]
        rows.append(
            {
                "ensemble": ensemble,
                "split": split,
                "members": ", ".join(names),
                "accuracy": accuracy,
                "best member": best,
                "best member accuracy": member_accuracy[best],
                "gain": accuracy - member_accuracy[best],
            }
        )
    return pd.DataFrame(
        rows, columns=["ensemble", "split", "members", "accuracy", "best member", "best member accuracy", "gain"]
    )


def ensemble_left_out(records: dict[tuple[str, str], dict]) -> str | None:
    """The candidates the ensembles left out (their training.json's "left_out", per run (ensemble, split)), in
    one sentence per member and split, or None when none was: "musicnn (random split): reads 16 of the 100
    validation tracks the others read." """
    left = {}
    for (_, split), record in sorted(records.items(), key=lambda item: (item[0][1] != "random", item[0])):
        for member, why in (record.get("left_out") or {}).items():
            left.setdefault((member, split), why)
    if not left:
        return None
    return " ".join(f"{member} ({split} split): {why}." for (member, split), why in left.items())


# --- the dataset ---------------------------------------------------------------------------------


def genre_balance_figure(tracks: dict[str, list[str]], title: str = "Clips per genre") -> go.Figure:
    """Clips per genre for each labelled collection of track ids (e.g. pictures, audio, features)."""
    # Horizontal bars: the genre names stay level (upright under a phone's narrow columns they were cut).
    figure = go.Figure(
        [
            go.Bar(y=list(GENRES), x=[sum(genre_of(t) == g for t in ids) for g in GENRES], name=label, orientation="h")
            for label, ids in tracks.items()
        ]
    )
    figure.update_xaxes(title="clips")
    figure.update_yaxes(autorange="reversed")
    return _styled(
        figure,
        title,
        barmode="group",
        height=200 + 22 * len(GENRES) * len(tracks),
        legend=dict(_LAYOUT["legend"], y=-0.15),
    )


def split_composition_figure(splits: dict) -> go.Figure:
    """Tracks per genre in train / valid / test of each split (`splits`: name → mgc Split)."""
    rows = [
        {"split": SPLIT_LABELS.get(name, name), "part": part, "genre": genre_of(track)}
        for name, split in splits.items()
        for part in ("train", "valid", "test")
        for track in split.part(part)
    ]
    counts = pd.DataFrame(rows).value_counts().rename("tracks").reset_index()
    figure = px.bar(
        counts,
        x="part",
        y="tracks",
        color="genre",
        facet_col="split",
        category_orders={"part": ["train", "valid", "test"], "genre": list(GENRES)},
        color_discrete_map=GENRE_COLOURS,
    )
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    return _styled(figure, "Split composition", height=420)


FEATURE_WORDS = {
    "chroma_stft": "chroma",
    "rms": "loudness",
    "spectral_centroid": "brightness",
    "spectral_bandwidth": "bandwidth",
    "zero_crossing_rate": "zero crossings",
    "harmony": "harmonic part",
    "perceptr": "percussive part",
}
"""Kaggle's feature names in a word a class knows, and shorter: "spectral_bandwidth" and "zero_crossing_rate" took
125 px of a phone's 358-px heatmap for their labels, and "perceptr" meant nothing."""


def feature_correlation_figure(features: pd.DataFrame) -> go.Figure:
    """Pearson correlation between the hand-crafted features' averages over each clip (Kaggle's
    features_30_sec.csv: each feature's `_mean` column, and the tempo), labelled without the `_mean`.

    The variances are left out: all 57 columns made 9-px labels of which the browser drew every other one."""
    numeric = features.select_dtypes("number")
    means = [c for c in numeric.columns if c.endswith("_mean") or c == "tempo"]
    correlation = numeric[means or list(numeric.columns.drop("length", errors="ignore"))].corr()
    names = [c.removesuffix("_mean") for c in correlation.columns]
    correlation.index = correlation.columns = [FEATURE_WORDS.get(name, name) for name in names]
    figure = go.Figure(
        go.Heatmap(
            z=correlation.to_numpy(),
            x=correlation.columns,
            y=correlation.index,
            colorscale="RdBu_r",
            zmin=-1,
            zmax=1,
            zmid=0,
            hovertemplate="%{y} × %{x}: %{z:.2f}<extra></extra>",
        )
    )
    every = dict(tickmode="array", tickvals=list(correlation.columns), tickfont=dict(size=13), automargin=True)
    figure.update_yaxes(autorange="reversed", **every)
    # The matrix is symmetric: the columns are the rows in the same order (the dark diagonal is each feature with
    # itself) and the hover names both, so the columns carry no labels — 30 of them under a phone's ~140-px
    # heatmap ran into each other — and the colour bar lies under the squares, which get the width.
    figure.update_xaxes(showticklabels=False, ticks="")
    figure.update_traces(colorbar=dict(orientation="h", y=-0.02, yanchor="top", len=0.8, thickness=12))
    return _styled(figure, "How the features go together", height=300 + 20 * len(correlation))


def tempo_figure(features: pd.DataFrame) -> go.Figure:
    """Box plot of the estimated tempo (BPM) per genre."""
    table = pd.DataFrame({"genre": features["label"], "tempo": features["tempo"]})
    figure = px.box(
        table,
        x="genre",
        y="tempo",
        color="genre",
        points="outliers",
        category_orders={"genre": list(GENRES)},
        color_discrete_map=GENRE_COLOURS,
    )
    figure.update_layout(showlegend=False)
    figure.update_yaxes(title="tempo (BPM)")
    return _styled(figure, "Tempo per genre", height=420)
