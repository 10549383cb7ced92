"""The app's charts and tables, checked as data: traces, values and labels, no browser."""

import numpy as np
import pandas as pd
import pytest

from mgc import GENRES, charts
from mgc.data.gtzan import Split
from tests.conftest import SR, sine_chord


def probabilities_favouring(genre: str, p: float = 0.55) -> dict[str, float]:
    rest = (1 - p) / (len(GENRES) - 1)
    return {g: (p if g == genre else rest) for g in GENRES}


def predictions_table(correct_per_genre: int = 3, wrong_per_genre: int = 1) -> pd.DataFrame:
    """A small predictions.csv: per genre, some tracks right and some confused with the next genre."""
    rows = []
    for k, genre in enumerate(GENRES):
        for i in range(correct_per_genre + wrong_per_genre):
            predicted = genre if i < correct_per_genre else GENRES[(k + 1) % len(GENRES)]
            p = probabilities_favouring(predicted, 0.6 + 0.05 * i)
            rows.append({"track": f"{genre}.{i:05d}", "genre": genre, "predicted": predicted, **p})
    return pd.DataFrame(rows)


def metrics_for(accuracy: float, f1: float = 0.5, **extra) -> dict:
    per_class = {
        g: {"precision": f1, "recall": f1, "f1": f1, "support": 20, "roc_auc": 0.9, "average_precision": 0.7}
        for g in GENRES
    }
    return {
        "accuracy": accuracy,
        "macro_f1": f1,
        "macro_precision": f1,
        "macro_recall": f1,
        "weighted_f1": f1,
        "weighted_precision": f1,
        "weighted_recall": f1,
        "macro_roc_auc": 0.9,
        "macro_average_precision": 0.7,
        "per_class": per_class,
        "parameters": 1000,
        "train_seconds": 120.0,
        "model_ms_per_clip": 12.5,
        **extra,
    }


def test_top_genres_puts_the_most_probable_genre_on_top_with_its_percentage():
    figure = charts.top_genres_figure(probabilities_favouring("metal", 0.7), k=3)
    bars = figure.data[0]
    assert list(bars.y)[-1] == "metal" and len(bars.y) == 3  # horizontal bars draw the last one on top
    assert bars.text[-1] == "70%"


def test_timeline_stacks_one_area_per_genre_at_window_centres():
    timeline = pd.DataFrame({"start": [0.0, 2.5], "end": [10.0, 12.5], **{g: [0.1, 0.1] for g in GENRES}})
    figure = charts.timeline_figure(timeline)
    assert [trace.name for trace in figure.data] == list(GENRES)
    assert {trace.stackgroup for trace in figure.data} == {"genres"}
    assert list(figure.data[0].x) == [5.0, 7.5]
    # each area nearly opaque in its genre's colour (plotly's default half-transparent fill washed out on a projector)
    assert (
        figure.data[GENRES.index("jazz")].fillcolor
        == "rgba(195, 120, 150, 0.85)"
        == charts._with_alpha(charts.GENRE_COLOURS["jazz"], 0.85)
    )


def test_timeline_of_a_single_window_spans_the_window():
    timeline = pd.DataFrame({"start": [0.0], "end": [4.0], **{g: [0.1] for g in GENRES}})
    assert list(charts.timeline_figure(timeline).data[0].x) == [0.0, 4.0]


def test_waveform_envelope_stays_small_for_long_audio_and_keeps_the_peaks():
    samples = sine_chord(60.0)
    figure = charts.waveform_figure(samples, SR, points=500)
    high, low = figure.data
    assert len(high.x) == 500
    assert max(high.y) == pytest.approx(samples.max()) and min(low.y) == pytest.approx(samples.min())


def test_picture_heatmap_uses_magma_over_the_full_colour_index_range():
    picture = np.arange(128 * 20, dtype=np.int64).reshape(128, 20) % 256
    heatmap = charts.picture_figure(picture.astype(np.uint8)).data[0]
    assert (heatmap.zmin, heatmap.zmax) == (0, 255)
    assert heatmap.colorscale[0][1] == "rgb(0,0,4)" and len(heatmap.colorscale) == 256  # matplotlib's magma
    assert heatmap.x[1] == pytest.approx(charts.COLUMN_SECONDS)


def test_a_long_pieces_spectrogram_is_drawn_with_a_bounded_number_of_columns_each_a_mean():
    # A 10-minute upload's picture: 6,680 columns took the browser ~4 s to draw.
    picture = np.random.default_rng(0).integers(0, 256, size=(128, 6680)).astype(np.uint8)
    figure = charts.picture_figure(picture)
    heatmap = figure.data[0]
    z = np.asarray(heatmap.z)
    step = -(-6680 // charts.MAX_DRAWN_COLUMNS)  # 5
    assert z.shape == (128, -(-6680 // step)) and z.shape[1] <= charts.MAX_DRAWN_COLUMNS
    assert z[:, 0] == pytest.approx(picture[:, :step].mean(axis=1))  # a drawn column is its columns' mean
    assert z[:, -1] == pytest.approx(picture[:, (z.shape[1] - 1) * step :].mean(axis=1))  # the short last run too
    assert heatmap.x[1] == pytest.approx(step * charts.COLUMN_SECONDS)  # time still in seconds of the piece
    assert f"mean of {step}" in figure.layout.xaxis.title.text  # the chart says the columns were averaged
    saliency = charts.saliency_figure(np.linspace(-3, 1, 128 * 6680).reshape(128, 6680), "rock")
    assert np.asarray(saliency.data[0].z).shape[1] <= charts.MAX_DRAWN_COLUMNS
    assert f"mean of {step}" in saliency.layout.xaxis.title.text


def test_a_clips_spectrogram_is_drawn_column_for_column():
    picture = np.random.default_rng(1).integers(0, 256, size=(128, 335)).astype(np.uint8)  # a 30-s clip
    figure = charts.picture_figure(picture)
    assert np.array_equal(np.asarray(figure.data[0].z), picture.astype(np.float32))
    assert figure.layout.xaxis.title.text == "seconds"


def test_saliency_heatmap_is_symmetric_around_zero():
    heatmap = charts.saliency_figure(np.linspace(-3, 1, 128 * 10).reshape(128, 10), "rock").data[0]
    assert heatmap.zmin == -heatmap.zmax and heatmap.zmid == 0


def test_embedding_map_has_one_trace_per_genre_with_track_names_and_a_star_for_the_new_audio():
    points = pd.DataFrame(
        {"track": ["blues.00001", "rock.00002"], "genre": ["blues", "rock"], "x": [0.0, 1.0], "y": [1.0, 0.0]}
    )
    figure = charts.embedding_map_figure(points, (0.5, 0.5))
    assert [trace.name for trace in figure.data] == ["blues", "rock", "your audio"]
    assert list(figure.data[0].text) == ["blues.00001"]
    assert figure.data[-1].marker.symbol == "star" and figure.data[-1].x == (0.5,)


def test_confusion_matrix_counts_or_fractions_of_each_row():
    matrix = np.diag([4] * 10)
    matrix[0, 1] = 4
    counts = charts.confusion_figure(matrix).data[0]
    fractions = charts.confusion_figure(matrix, normalise=True).data[0]
    assert counts.z[0][0] == 4
    assert fractions.z[0][0] == pytest.approx(0.5) and fractions.z[1][1] == pytest.approx(1.0)
    assert list(counts.x) == list(GENRES) and counts.text[0][1] == "4"


def test_the_closest_genre_colours_also_differ_by_line_style_in_the_per_genre_curves():
    """The four violets and the two rose reds read alike as thin lines on a projector: their dashes differ."""
    rng = np.random.default_rng(0)
    predictions = pd.DataFrame({"genre": [g for g in GENRES for _ in range(4)]})
    for genre in GENRES:
        predictions[genre] = rng.random(len(predictions))
    for figure in (charts.roc_figure(predictions), charts.precision_recall_figure(predictions)):
        dashes = {trace.name.split(" (")[0]: trace.line.dash for trace in figure.data if trace.name}
        assert len({dashes[g] for g in ("blues", "disco", "metal", "reggae")}) == 4
        assert dashes["jazz"] != dashes["pop"]


def test_roc_has_a_curve_per_genre_and_a_macro_average_whose_auc_is_in_the_legend():
    figure = charts.roc_figure(predictions_table())
    names = [trace.name for trace in figure.data]
    assert sum(name.split(" ")[0] in GENRES for name in names) == 10
    assert any(name.startswith("macro average (AUC") for name in names)
    macro = next(trace for trace in figure.data if trace.name.startswith("macro"))
    assert macro.y[-1] == pytest.approx(1.0) and macro.y[0] == 0


def test_perfect_scores_give_auc_and_ap_of_one():
    table = predictions_table(correct_per_genre=3, wrong_per_genre=0)
    assert all("(AUC 1.00)" in trace.name for trace in charts.roc_figure(table).data if trace.showlegend is not False)
    assert all("(AP 1.00)" in trace.name for trace in charts.precision_recall_figure(table).data)


def test_classification_report_has_every_genre_then_the_averages():
    report = charts.classification_report(metrics_for(0.5))
    assert list(report.index) == [*GENRES, "macro average", "weighted average"]
    assert report.loc["macro average", "support"] == 200
    assert {"precision", "recall", "f1", "ROC AUC", "AP", "support"} <= set(report.columns)


def test_misclassified_lists_only_wrong_tracks_most_confident_first():
    wrong = charts.misclassified(predictions_table())
    assert len(wrong) == 10
    assert (wrong["genre"] != wrong["predicted"]).all()
    assert wrong["confidence"].is_monotonic_decreasing


def test_comparison_table_has_a_row_per_model_and_columns_per_split():
    runs = {
        ("crnn", "random"): metrics_for(0.8),
        ("crnn", "filtered"): metrics_for(0.5),
        ("mlp", "random"): metrics_for(0.7),
    }
    table = charts.comparison_table(runs)
    assert list(table.index) == ["crnn", "mlp"]
    assert table.loc["crnn", "accuracy (random)"] == 0.8 and table.loc["crnn", "accuracy (filtered)"] == 0.5
    assert pd.isna(table.loc["mlp", "accuracy (filtered)"])
    assert table.loc["crnn", "train minutes"] == 2.0


def test_comparison_table_gives_each_accuracy_its_test_tracks_and_wilson_interval():
    runs = {("crnn", "random"): {**metrics_for(0.8), "test_tracks": 200},
            ("musicnn", "random"): {**metrics_for(1.0), "test_tracks": 33}}  # fmt: skip
    table = charts.comparison_table(runs)
    assert list(table.columns[:3]) == ["accuracy (random)", "test tracks (random)", "95 % interval (random)"]
    assert table.loc["musicnn", "test tracks (random)"] == 33
    assert table.loc["musicnn", "95 % interval (random)"] == "90–100 %"
    assert table.loc["crnn", "95 % interval (random)"] == "74–85 %"


def test_grouped_bars_have_one_trace_per_split():
    runs = {("crnn", "random"): metrics_for(0.8), ("crnn", "filtered"): metrics_for(0.5)}
    figure = charts.comparison_bars_figure(runs, "accuracy")
    assert [trace.name for trace in figure.data] == ["random split", "fault-filtered split"]
    assert figure.data[0].x == (0.8,) and figure.data[0].y == ("crnn",) and figure.layout.barmode == "group"


def test_radar_closes_each_polygon_over_the_ten_genres():
    figure = charts.f1_radar_figure({"crnn": metrics_for(0.8, f1=0.6)})
    trace = figure.data[0]
    assert len(trace.theta) == 11 and trace.theta[0] == trace.theta[-1] and trace.r[0] == 0.6


def test_a_highlighted_radar_draws_that_run_in_colour_on_top_and_every_other_grey_under_one_legend_entry():
    runs = {name: metrics_for(0.7, f1=f) for name, f in (("crnn", 0.6), ("cnn", 0.5), ("mlp", 0.4), ("lstm", 0.3))}
    figure = charts.f1_radar_figure(runs, highlight="mlp")
    assert figure.data[-1].name == "mlp" and figure.data[-1].line.color != charts.OTHERS_GREY
    # its own colour, strong on a projector (left to plotly's cycle it was a 1.6:1 light green with 16 runs)
    assert contrast_ratio(figure.data[-1].line.color, "#ffffff") >= 4.5
    others = figure.data[:-1]
    assert all(trace.line.color == charts.OTHERS_GREY for trace in others)
    assert [trace.showlegend for trace in others] == [True, False, False]
    assert sorted(trace.hovertemplate.split("<br>")[0] for trace in others) == ["cnn", "crnn", "lstm"]


def test_a_run_scored_on_some_test_clips_says_how_many_beside_its_bar_and_the_label_is_not_cut():
    partial = metrics_for(1.0, test_tracks=33, test_tracks_missing=["blues.00001"] * 167)
    runs = {("crnn", "random"): metrics_for(0.78), ("musicnn", "random"): partial}
    (bars,) = charts.comparison_bars_figure(runs, "accuracy").data
    assert list(bars.text) == ["0.78", "1.00 (33 clips)"]
    # the long label inside its bar, the short one beside it within the axis: no wide right margin, which left a
    # phone's bars 50 px to grow in
    assert list(bars.textposition) == ["outside", "inside"] and bars.cliponaxis is False
    assert charts.comparison_bars_figure(runs, "accuracy").layout.margin.r <= 20


def test_highlighting_a_model_fades_the_other_models_bars():
    runs = {(m, s): metrics_for(0.6) for m in ("cnn", "crnn", "mlp") for s in ("random", "filtered")}
    for trace in charts.comparison_bars_figure(runs, "accuracy", highlight="crnn").data:
        assert list(trace.marker.opacity) == [0.3, 1.0, 0.3]
    assert list(charts.comparison_bars_figure(runs, "accuracy").data[0].marker.opacity) == [1.0, 1.0, 1.0]


def test_training_curves_draw_train_and_validation_loss_and_accuracy():
    history = pd.DataFrame(
        {
            "epoch": [1, 2],
            "train_loss": [2.0, 1.0],
            "valid_loss": [2.1, 1.5],
            "train_accuracy": [0.2, 0.5],
            "valid_accuracy": [0.2, 0.4],
        }
    )
    figure = charts.training_curves_figure({"crnn": history})
    assert len(figure.data) == 4
    assert sorted(trace.name for trace in figure.data if trace.showlegend) == ["crnn · train", "crnn · validation"]


def test_ensemble_gain_is_accuracy_over_the_best_member_of_the_same_split():
    runs = {
        ("cnn", "random"): metrics_for(0.7),
        ("rnn", "random"): metrics_for(0.75),
        ("ensemble", "random"): metrics_for(0.8),
        ("cnn", "filtered"): metrics_for(0.6),
        ("rnn", "filtered"): metrics_for(0.65),
        ("ensemble", "filtered"): metrics_for(0.62),
    }
    gains = charts.ensemble_gain_table(
        runs, {("ensemble", "filtered"): ["cnn"], ("ensemble", "random"): ["cnn", "rnn"]}
    )
    assert list(gains["split"]) == ["random", "filtered"]
    assert list(gains["best member"]) == ["rnn", "cnn"] and list(gains["members"]) == ["cnn, rnn", "cnn"]
    assert gains["gain"].tolist() == pytest.approx([0.05, 0.02])


def test_genre_balance_counts_clips_per_genre_for_each_collection():
    figure = charts.genre_balance_figure({"audio": ["blues.00001", "blues.00002", "rock.00001"]})
    counts = dict(zip(figure.data[0].y, figure.data[0].x))  # horizontal bars: genres on the y axis
    assert counts["blues"] == 2 and counts["rock"] == 1 and counts["jazz"] == 0


def test_split_composition_counts_tracks_per_part_and_genre():
    split = Split("random", train=("blues.00001", "blues.00002"), valid=("rock.00001",), test=("rock.00002",))
    figure = charts.split_composition_figure({"random": split})
    blues = next(trace for trace in figure.data if trace.name == "blues")
    assert dict(zip(blues.x, blues.y)) == {"train": 2}


def test_features_charts_read_kaggle_columns():
    features = pd.DataFrame(
        {
            "filename": ["a", "b", "c", "d"],
            "length": [1, 1, 1, 1],
            "tempo": [120.0, 90.0, 100.0, 140.0],
            "rms_mean": [0.1, 0.2, 0.3, 0.4],
            "rms_var": [0.3, 0.1, 0.2, 0.4],
            "zero_crossing_rate_mean": [0.4, 0.3, 0.2, 0.1],
            "label": ["blues", "blues", "rock", "rock"],
        }
    )
    figure = charts.feature_correlation_figure(features)
    correlation = figure.data[0]
    # the averages (and the tempo), named without "_mean" in plain words; length and the variances left out
    assert list(correlation.x) == ["tempo", "loudness", "zero crossings"]
    assert correlation.z[1][2] == pytest.approx(-1.0)
    assert list(figure.layout.yaxis.tickvals) == list(correlation.y)  # every row's label drawn, none skipped
    assert figure.layout.yaxis.tickfont.size >= 12
    # the columns repeat the rows: no labels under them (they ran into each other on a phone), the bar underneath
    assert figure.layout.xaxis.showticklabels is False and correlation.colorbar.orientation == "h"
    boxes = charts.tempo_figure(features).data
    assert {trace.name for trace in boxes} == {"blues", "rock"}


def test_taggram_heatmap_has_a_row_per_chosen_tag_top_first_and_a_column_per_patch():
    timeline = pd.DataFrame({"start": [0.0, 3.0], "end": [3.0, 6.0], "rock": [0.9, 0.7], "jazz": [0.1, 0.3]})
    heatmap = charts.taggram_figure(timeline, ["rock", "jazz"]).data[0]
    assert list(heatmap.y) == ["rock", "jazz"] and list(heatmap.x) == [1.5, 4.5]
    np.testing.assert_allclose(heatmap.z, [[0.9, 0.7], [0.1, 0.3]])


def test_top_tags_bars_put_the_most_probable_tag_on_top_with_its_percentage():
    bars = charts.top_tags_figure(pd.Series({"rock": 0.6, "jazz": 0.2})).data[0]
    assert list(bars.y) == ["jazz", "rock"] and list(bars.text) == ["20%", "60%"]  # plotly draws bottom-up


def test_the_candidates_ensembles_left_out_are_said_once_per_member_and_split():
    why = "reads 16 of the 100 validation tracks the others read"
    records = {
        ("ensemble-sum", "random"): {"left_out": {"musicnn": why}},
        ("ensemble-best", "random"): {"left_out": {"musicnn": why}},
        ("ensemble-sum", "filtered"): {"left_out": {}},
        ("ensemble-vote", "filtered"): {},
    }
    assert charts.ensemble_left_out(records) == f"musicnn (random split): {why}."
    assert charts.ensemble_left_out({("ensemble-sum", "filtered"): {"left_out": {}}}) is None


def _relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB hex colour."""
    channels = np.array([int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]) / 255
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two hex colours (1 to 21)."""
    high, low = sorted((_relative_luminance(a), _relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Machado, Oliveira & Fernandes (2009): linear-RGB matrices simulating full protanopia, deuteranopia, tritanopia.
COLOUR_VISION = {
    "normal": np.eye(3),
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
}


def cielab_as_seen(colours: list[str], vision: str) -> np.ndarray:
    """CIELAB (D65) of sRGB hex colours as a viewer with `vision` sees them."""
    rgb = np.array([[int(c.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)] for c in colours]) / 255
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    linear = np.clip(linear @ np.asarray(COLOUR_VISION[vision]).T, 0, 1)
    xyz = linear @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]])
    f = xyz / [0.95047, 1.0, 1.08883]
    f = np.where(f > 0.008856, np.cbrt(f), 7.787 * f + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def test_contrast_ratio_matches_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # WCAG's lightest AA grey


@pytest.mark.parametrize("genre", GENRES)
def test_every_genre_colour_stands_out_from_the_white_page_on_a_projector(genre):
    """WCAG's 3:1 for graphics, against the page and the charts' white (the old classical #88CCEE was 1.76:1)."""
    assert contrast_ratio(charts.GENRE_COLOURS[genre], "#ffffff") >= 3.0


@pytest.mark.parametrize("vision", list(COLOUR_VISION))
def test_every_two_genre_colours_stay_apart_for_colour_blind_viewers(vision):
    """Every pair at least 20 CIELAB units apart as seen with each kind of colour vision (the old muted palette had
    metal and rock 6 apart for deuteranopes): a legend's colour finds its line."""
    lab = cielab_as_seen(list(charts.GENRE_COLOURS.values()), vision)
    distances = np.linalg.norm(lab[:, None] - lab[None], axis=-1) + np.diag([np.inf] * len(lab))
    assert set(charts.GENRE_COLOURS) == set(GENRES) and distances.min() >= 20


def test_the_students_accuracy_table_gives_each_split_with_its_interval_and_flags_a_partial_test():
    runs = {
        ("crnn", "random"): metrics_for(0.775, test_tracks=200),
        ("crnn", "filtered"): metrics_for(0.579, test_tracks=290),
        ("musicnn", "random"): metrics_for(0.97, test_tracks=33, test_tracks_missing=["blues.00001"]),
    }
    table = charts.accuracy_table(runs)
    assert list(table.columns) == ["random split", "fault-filtered split"] and list(table.index) == ["crnn", "musicnn"]
    assert table.loc["crnn", "random split"] == f"78 % ({charts.accuracy_interval(runs[('crnn', 'random')])})"
    assert table.loc["musicnn", "random split"].startswith("97 % on 33 clips (")
    assert table.loc["musicnn", "fault-filtered split"] == charts.MISSING


def test_listening_conditions_are_named_without_rt60_snr_or_dbfs():
    labels = ["small room (RT60 0.3 s)", "pink noise, 20 dB SNR", "quiet (−35 dBFS)", "clipped (+18 dB)", "tempo +5 %"]
    plain = [charts.plain_condition(label) for label in labels]
    assert plain[-1] == "tempo +5 %" and not any(word in " ".join(plain) for word in ("RT60", "SNR", "dBFS"))
    record = {
        "clips": 3,
        "conditions": {
            "clean": {"label": "clean", "accuracy": 1.0, "ci_low": 0.4, "ci_high": 1.0},
            "room": {"label": labels[0], "accuracy": 0.5, "ci_low": 0.1, "ci_high": 0.9},
        },
    }
    bars = charts.robustness_figure(record).data[0]
    assert list(bars.y) == [plain[0]] and list(bars.customdata) == [labels[0]]  # the exact label on hover


def test_a_long_chart_title_is_broken_into_lines_a_phone_can_show_whole():
    figure = charts.saliency_figure(np.zeros((4, 4)), "classical")  # "Where the model heard “classical” (red: …)"
    lines = figure.layout.title.text.split("<br>")
    assert len(lines) > 1 and all(len(line) <= charts.TITLE_CHARACTERS for line in lines)
    assert charts.TITLE_CHARACTERS <= 30  # a 390-px phone showed 32 characters of a line at the title's 19 px
    assert figure.layout.margin.t > charts.confusion_figure(np.eye(len(GENRES))).layout.margin.t  # room for them
