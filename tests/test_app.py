"""The Streamlit app, page by page, through Streamlit's AppTest (no browser).

Pages that classify need a trained crnn for the random split in checkpoints/ (or $MGC_CHECKPOINTS);
pages that read the dataset use the real GTZAN folder when it is here.
"""

from __future__ import annotations

import importlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import mgc
import mgc.runs
from app_pages.picker import in_plain_words
from mgc.charts import SPLIT_LABELS
from mgc.data.examples import EXAMPLES, example
from mgc.evaluate import robustness
from mgc.explain.words import describe_model
from mgc.runs.checkpoints import available_runs
from mgc.runs.table import default_run
from tests.conftest import encode, sine_chord

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGES = [
    "app_pages/home.py",
    "app_pages/classify.py",
    "app_pages/evaluation.py",
    "app_pages/model_comparison.py",
    "app_pages/dataset.py",
]
TIMEOUT = 180  # seconds; the CI machine has 2 cores
CRNN = default_run()  # the picture CRNN: the model of Evaluation and Model comparison, and of the picture views


def open_app(page: str = "app_pages/home.py") -> AppTest:
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    if page != "app_pages/home.py":
        app.switch_page(page)
        app.run()
    return app


def plotly_charts(app: AppTest) -> dict[str, dict]:
    """Key → plotly figure (as JSON) of every chart on the page."""
    return {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}


def open_tab(app: AppTest, key: str, label: str) -> AppTest:
    """Select a tab of the pages' lazy tabs (st.tabs with a key and on_change="rerun") and rerun."""
    app.session_state[key] = label
    app.run()
    assert_no_exception(app)
    return app


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def answer(app: AppTest) -> str:
    """The genre the result names first, whatever the verdict: "Top genre", "Closest genre" (not music) or
    "Not sure" ("jazz or blues": the first of the two)."""
    shown = next(m for m in app.metric if m.label in ("Top genre", "Closest genre", "Not sure"))
    return shown.value.split(" or ")[0]


def choose_model(app: AppTest, model: str) -> AppTest:
    """Pick any trained model: the expert view ("All models") first, as the picker offers three by default."""
    app.toggle(key="classify_all_models").set_value(True)
    app.run()
    app.selectbox(key="classify_model").set_value(model)
    return app


def assert_no_exception(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]


def listening_default() -> robustness.ListeningDefault:
    """Classify's default for uploads, examples and recordings on the random split: the measured rule the page
    applies (`mgc.evaluate.robustness.classify_default`) to the shipped runs' robustness.json."""
    records = {run: record for run in available_runs() if (record := robustness.load(*run)) is not None}
    return robustness.classify_default(records, "random")


def assert_the_default_answers(app: AppTest, audio) -> None:
    """The page's answer for `audio` comes from the model the measured rule picks, with its one-line reason shown."""
    default = listening_default()
    assert app.selectbox(key="classify_model").value == default.model
    if default.measured:
        said = in_plain_words(default.reason())  # the student view: no test's name or p-value
        assert any(said in c.value for c in app.caption), "the page says in one line why this model"
        assert not any("McNemar" in c.value for c in app.caption), "a statistical test's name in the student view"
    assert answer(app) == mgc.classify(audio, model=default.model).genre


@pytest.fixture
def trained_crnn():
    if ("crnn", "random") not in available_runs():
        pytest.skip("no trained crnn for the random split in checkpoints/ (or $MGC_CHECKPOINTS)")


@pytest.fixture
def no_dataset(monkeypatch, tmp_path):
    """The app as on the hosted demo: no GTZAN folder."""
    monkeypatch.setenv("MGC_DATA", str(tmp_path / "absent"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_an_exception(page):
    app = open_app(page)
    assert_no_exception(app)
    assert app.title, f"{page} shows no title"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_the_dataset(page, no_dataset):
    assert_no_exception(open_app(page))


def test_home_shows_the_ten_genres_and_the_best_accuracy_per_split():
    app = open_app()
    text = " ".join(m.value for m in app.markdown)
    assert all(genre in text for genre in mgc.GENRES)
    if available_runs():
        assert any(m.label.startswith("Best accuracy") and m.value.endswith("%") for m in app.metric)
        best = [c.value for c in app.caption if "test tracks (chance" in c.value]
        assert not any(c.startswith(("musicnn ", "crnn-seed ")) for c in best)  # scored on the test clips with audio


@pytest.mark.real_data
def test_uploading_a_real_clip_shows_its_top_genre_and_the_charts(real_data, trained_crnn):
    clip = sorted(real_data.audio.values())[0]
    app = open_app("app_pages/classify.py")
    app.file_uploader(key="upload").upload(clip.name, clip.read_bytes(), "audio/flac")
    app.run()
    assert_no_exception(app)
    assert not app.error
    assert_the_default_answers(app, clip)
    choose_model(app, CRNN).run()  # the picture CRNN draws what it saw and where it listened
    assert_no_exception(app)
    assert answer(app) == mgc.classify(clip, model=CRNN).genre
    charts = plotly_charts(app)
    assert {"top_genres", "timeline", "waveform", "picture", "saliency"} <= set(charts)
    assert len(charts["timeline"]["data"]) == len(mgc.GENRES)
    assert metric(app, "Answered in").endswith(" s")


@pytest.mark.parametrize("model", ["mlp", "ensemble-best", "hybrid"])
def test_a_feature_model_an_ensemble_and_the_hybrid_classify_from_the_picker(model, trained_crnn):
    if (model, "random") not in available_runs():
        pytest.skip(f"no evaluated {model} for the random split in checkpoints/")
    app = choose_model(open_app("app_pages/classify.py"), model)
    app.file_uploader(key="upload").upload("chord.wav", encode(sine_chord(12.0)), "audio/wav")
    app.run()
    assert_no_exception(app)
    assert not app.error
    assert answer(app) == mgc.classify(encode(sine_chord(12.0)), model=model).genre
    charts = plotly_charts(app)
    assert {"top_genres", "picture", "embedding_map"} <= set(charts)
    assert ("saliency" in charts) == (model != "mlp")
    assert ("timeline" in charts) == (model != "mlp")  # a feature model answers once: no flat "genre over time"
    reads = next(m.value for m in app.markdown if m.value.startswith("**What the model reads.**"))
    assert "57 numbers" in reads
    if model == "mlp":
        assert "never sees the spectrogram" in reads
        assert "does not read it" in charts["picture"]["layout"]["title"]["text"]


def test_the_musicnn_head_classifies_from_the_picker_over_3_s_patches_without_a_saliency_view(trained_crnn):
    if ("musicnn", "random") not in available_runs():
        pytest.skip("no evaluated musicnn for the random split in checkpoints/")
    app = choose_model(open_app("app_pages/classify.py"), "musicnn")
    app.file_uploader(key="upload").upload("chord.wav", encode(sine_chord(12.0)), "audio/wav")
    app.run()
    assert_no_exception(app)
    assert answer(app) == mgc.classify(encode(sine_chord(12.0)), model="musicnn").genre
    charts = plotly_charts(app)
    assert "timeline" in charts and "saliency" not in charts
    assert "does not read it" in charts["picture"]["layout"]["title"]["text"]
    assert any("No saliency view: musicnn reads musicnn's summary" in c.value for c in app.caption)


def test_a_recording_in_session_state_is_classified(trained_crnn):
    app = open_app("app_pages/classify.py")
    app.radio(key="source").set_value("Record")
    app.session_state["recording"] = encode(sine_chord(4.0))
    app.run()
    assert_no_exception(app)
    assert answer(app) in mgc.GENRES
    assert_the_default_answers(app, encode(sine_chord(4.0)))
    assert "top_genres" in plotly_charts(app)


def test_a_recording_suggests_the_run_that_hears_a_classroom_better_and_one_click_uses_it(trained_crnn):
    if ("musicnn", "random") not in available_runs():
        pytest.skip("no evaluated musicnn for the random split in checkpoints/")
    app = open_app("app_pages/classify.py")
    app.radio(key="source").set_value("Record")
    app.session_state["recording"] = (ROOT / "examples" / "Kevin_MacLeod_-_Vibe_Ace.ogg").read_bytes()
    app.run()
    assert_no_exception(app)
    assert_the_default_answers(app, ROOT / "examples" / "Kevin_MacLeod_-_Vibe_Ace.ogg")
    records = {run: robustness.load(*run) for run in available_runs() if robustness.load(*run)}
    if robustness.better_for_recordings(records, listening_default().model, "random") is None:
        assert not [box.value for box in app.info if "through a speaker" in box.value], "the default is the best"
    choose_model(app, CRNN).run()  # the picture CRNN chosen by hand: a run that hears a classroom better is named
    assert_no_exception(app)
    expected = robustness.better_for_recordings(records, CRNN, "random")
    hints = [box.value for box in app.info if "through a speaker" in box.value]
    if expected is None:  # the shipped runs' robustness.json decide; then there is nothing to suggest
        assert not hints
        return
    assert len(hints) == 1 and f"**{expected.model}** gets {expected.correct} of {expected.clips}" in hints[0]
    app.button(key="use_robust").click()
    app.run()
    assert_no_exception(app)
    assert app.selectbox(key="classify_model").value == expected.model
    assert answer(app) == mgc.classify(ROOT / "examples" / "Kevin_MacLeod_-_Vibe_Ace.ogg", model=expected.model).genre
    assert not [box.value for box in app.info if "through a speaker" in box.value]  # the best needs no suggestion


def test_an_upload_gets_no_suggestion_for_recordings(trained_crnn):
    app = choose_model(open_app("app_pages/classify.py"), CRNN)  # a run that a recording would be told to leave
    app.file_uploader(key="upload").upload(
        "take.ogg", (ROOT / "examples" / "Kevin_MacLeod_-_Vibe_Ace.ogg").read_bytes()
    )
    app.run()
    assert_no_exception(app)
    assert not [box.value for box in app.info if "through a speaker" in box.value]


def test_streamlits_recorder_is_classified(trained_crnn):
    app = open_app("app_pages/classify.py")
    app.radio(key="source").set_value("Record")
    app.run()
    app.audio_input(key="audio_input").upload("take.wav", encode(sine_chord(3.0)))
    app.run()
    assert answer(app) in mgc.GENRES


def test_white_noise_is_classified_with_a_not_music_warning(trained_crnn):
    import numpy as np

    noise = (0.3 * np.random.default_rng(0).standard_normal(22050 * 4)).astype(np.float32)
    app = open_app("app_pages/classify.py")
    app.file_uploader(key="upload").upload("noise.wav", encode(noise), "audio/wav")
    app.run()
    assert any("does not sound like music" in w.value for w in app.warning)
    assert metric(app, "Closest genre") in mgc.GENRES


def test_a_reading_is_only_closest_to_a_genre_and_music_gets_its_genre(trained_crnn):
    app = open_examples(open_app("app_pages/classify.py"))
    app.button(key="example_ashiel-mystery").click()
    app.run()
    assert_no_exception(app)
    assert metric(app, "Closest genre") in mgc.GENRES
    assert any("does not sound like music" in w.value and "speech" in w.value for w in app.warning)
    app.button(key="example_vibe-ace").click()
    app.run()
    assert not any("does not sound like music" in w.value for w in app.warning)
    assert {m.label for m in app.metric} & {"Top genre", "Not sure"}


@pytest.mark.parametrize("name, content", [("broken.mp3", b"this is not audio " * 200), ("empty.wav", b"")])
def test_a_bad_upload_shows_an_error_and_no_traceback(trained_crnn, name, content):
    app = open_app("app_pages/classify.py")
    app.file_uploader(key="upload").upload(name, content)
    app.run()
    assert_no_exception(app)
    assert app.error and ("not audio" in app.error[0].value or "empty" in app.error[0].value)
    assert not app.metric


def open_examples(app: AppTest) -> AppTest:
    app.radio(key="source").set_value("Try an example")
    app.run()
    assert_no_exception(app)
    return app


def test_without_the_dataset_a_shipped_example_is_classified_by_one_click(no_dataset, trained_crnn):
    app = open_examples(open_app("app_pages/classify.py"))
    assert "gtzan_track" not in {s.key for s in app.selectbox}, "no GTZAN clips are offered without the dataset"
    assert {example.id for example in EXAMPLES} <= {button.key.removeprefix("example_") for button in app.button}
    app.button(key="example_brahms").click()
    app.run()
    assert_no_exception(app)
    assert_the_default_answers(app, example("brahms").file)
    assert any(example("brahms").credit in c.value for c in app.caption), "the credit line is shown with the result"
    assert app.query_params["example"] == "brahms"


def test_the_taggram_of_a_shipped_example_is_drawn_only_when_opened_from_the_answers_one_musicnn_pass(
    trained_crnn, monkeypatch
):
    """musicnn runs once per upload (issue 29): its pass answers the default model and the gate, and the taggram
    reads the same pass when its expander opens (no network of its own, no second pass)."""
    from mgc.models import musicnn_pass

    passes, original = [], musicnn_pass.musicnn_pass
    monkeypatch.setattr(musicnn_pass, "musicnn_pass", lambda *a, **k: passes.append(1) or original(*a, **k))

    def refuse(*args, **kwargs):
        raise AssertionError("the taggram ran musicnn again instead of reading the answer's pass")

    monkeypatch.setattr(importlib.import_module("mgc.explain.taggram"), "load_musicnn", refuse)  # the module, not
    # the function `mgc.explain.taggram` that the package exports under the same name
    st.cache_data.clear()
    st.cache_resource.clear()
    app = open_examples(open_app("app_pages/classify.py"))
    app.button(key="example_trumpet").click()
    app.run()
    assert_no_exception(app)
    assert not {"top_tags", "taggram_chart"} & set(plotly_charts(app)), "closed, the expander draws nothing"
    assert len(passes) == 1, "one musicnn pass answers the model and the not-music gate"
    assert_the_default_answers(app, example("trumpet").file)  # (mgc.classify here runs a pass of its own)
    passes.clear()
    app.session_state["taggram"] = True  # the expander opened
    app.run()
    assert_no_exception(app)
    figures = plotly_charts(app)
    assert figures["top_tags"]["data"][0]["y"][-1] == "jazz"  # the top bar: a trumpet solo sounds like jazz
    assert figures["taggram_chart"]["data"][0]["y"][0] == "jazz" and len(figures["taggram_chart"]["data"][0]["y"]) == 10
    assert not passes, "the taggram reads the answer's musicnn pass"
    assert any("Million Song Dataset" in c.value and "ISC licence" in c.value for c in app.caption)


def test_the_gallery_opens_with_music_the_default_model_names_surely_and_as_its_source_files_it(trained_crnn):
    """A class's first clicks (issue 31): the gallery's first two music buttons, the first of them also Home's first
    *Try it* link, get a sure answer (not "not sure", not "closest to") from Classify's default model, in the genre
    their source files them under. With musicnn-gru the default, Brahms ("not sure: classical or jazz") or Sugar Plum
    Fairy (jazz at 100 %) first would fail it."""
    model = listening_default().model
    first = [shipped for shipped in EXAMPLES if shipped.kind == "music"][:2]
    assert EXAMPLES[0] == first[0], "Home's first Try-it link is the gallery's first music button"
    for shipped in first:
        prediction = mgc.classify(shipped.file, model=model)
        assert prediction.verdict == "genre", f"{shipped.name}: {model} says {prediction.headline}"
        assert prediction.genre in shipped.catalogued_as, f"{shipped.name}: {model} says {prediction.genre}"


def test_home_links_every_shipped_example_to_classify():
    links = {link.proto.query_string: link.proto.page for link in open_app().get("page_link")}
    assert {f"example={example.id}": "classify" for example in EXAMPLES}.items() <= links.items()


@pytest.mark.real_data
def test_gtzan_clips_are_marked_test_or_training_track_for_the_chosen_run(real_data, trained_crnn):
    app = open_examples(open_app("app_pages/classify.py"))
    split = real_data.split("random")
    for genre in ("blues", "jazz"):
        app.selectbox(key="gtzan_genre").set_value(genre)
        app.run()
        picker = app.selectbox(key="gtzan_track")
        shown = dict(option.split(" · ") for option in picker.options)
        assert set(shown) == {track for track in real_data.audio if track.startswith(genre)}
        for track, label in shown.items():
            part = next(p for p in ("train", "valid", "test") if track in split.part(p))
            assert label == {"train": "training track", "valid": "validation track", "test": "test track"}[part]
        assert picker.value in split.test, "the default is a clip this model never heard"
    app.button(key="gtzan_go").click()
    app.run()
    assert answer(app) in mgc.GENRES
    assert any("GTZAN labels this clip **jazz**" in c.value and "**test track**" in c.value for c in app.caption)
    assert app.query_params["example"] == app.selectbox(key="gtzan_track").value


def test_the_student_view_offers_three_models_and_all_models_offers_every_run(trained_crnn):
    app = open_app("app_pages/classify.py")
    runs = available_runs()
    ensembles = {
        m: mgc.runs.read_json(mgc.runs.run_dir(m, "random") / "metrics.json")["accuracy"]
        for m, s in runs
        if s == "random" and m.startswith("ensemble-")
    }
    expected = ["crnn", *([max(sorted(ensembles), key=ensembles.get)] if ensembles else []), "mlp", "musicnn-gru"]
    assert app.selectbox(key="classify_model").options == [m for m in expected if m in {m for m, _ in runs}]
    default = listening_default().model  # chosen, and described in a line under the picker
    assert f"**{default}**: {describe_model(default)}" in " ".join(c.value for c in app.caption)
    app.toggle(key="classify_all_models").set_value(True)
    app.run()
    assert set(app.selectbox(key="classify_model").options) == {m for m, _ in runs}


def test_choices_are_written_to_the_address(trained_crnn):
    app = open_app("app_pages/classify.py")
    assert (app.query_params["model"], app.query_params["split"]) == (listening_default().model, "random")
    app.selectbox(key="classify_model").set_value("mlp")
    app.run()
    assert app.query_params["model"] == "mlp"


def open_link(page: str, **query) -> AppTest:
    """The app opened on `page` from a link carrying `query` in its address."""
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.query_params.update(query)
    app.run()
    app.switch_page(page)
    app.run()
    assert_no_exception(app)
    return app


def test_a_link_restores_model_split_and_example(trained_crnn):
    if ("mlp-512-sgd", "filtered") not in available_runs():
        pytest.skip("needs mlp-512-sgd evaluated on the filtered split")
    app = open_link("app_pages/classify.py", model="mlp-512-sgd", split="filtered", example="robin")
    assert app.selectbox(key="classify_model").value == "mlp-512-sgd"
    assert app.selectbox(key="classify_split").value == "filtered"
    assert app.toggle(key="classify_all_models").value, "a model outside the three opens the expert view"
    assert app.radio(key="source").value == "Try an example"
    expected = mgc.classify(example("robin").file, model="mlp-512-sgd", split="filtered")
    assert answer(app) == expected.genre
    assert dict(app.query_params) == {"model": "mlp-512-sgd", "split": "filtered", "example": "robin"}


def test_a_link_restores_the_evaluation_view():
    if ("crnn", "filtered") not in available_runs():
        pytest.skip("needs crnn evaluated on the filtered split")
    app = open_link("app_pages/evaluation.py", model="crnn", split="filtered")
    filtered = mgc.runs.read_json(mgc.runs.run_dir("crnn", "filtered") / "metrics.json")
    assert metric(app, "Accuracy") == f"{filtered['accuracy']:.1%}"


def test_unknown_values_in_a_link_are_ignored_with_a_note(trained_crnn):
    app = open_link("app_pages/classify.py", model="no-such-model", split="sideways", example="[x](https://e.example)")
    assert not app.error
    default = listening_default().model
    assert (app.selectbox(key="classify_model").value, app.selectbox(key="classify_split").value) == (default, "random")
    notes = [c.value for c in app.caption if "link asked for" in c.value]
    assert len(notes) == 3 and all("which this app lacks" in note for note in notes)
    assert not any("](" in note for note in notes), "a link's value is never shown as Markdown"
    assert not app.metric, "nothing is classified"
    assert dict(app.query_params) == {"model": default, "split": "random"}


def test_the_result_downloads_as_csv_and_json(trained_crnn, monkeypatch):
    offered = {}
    original = st.download_button

    def keep(label, data, file_name=None, **kwargs):
        offered[file_name] = data
        return original(label, data, file_name=file_name, **kwargs)

    monkeypatch.setattr(st, "download_button", keep)
    app = open_examples(open_app("app_pages/classify.py"))
    app.button(key="example_vibe-ace").click()
    app.run()
    assert_no_exception(app)
    model = listening_default().model  # the example's answer comes from Classify's default
    expected = mgc.classify(example("vibe-ace").file, model=model)
    assert set(offered) == {f"mgc-vibe-ace-{model}-random.csv", f"mgc-vibe-ace-{model}-random.json"}
    table = pd.read_csv(io.StringIO(offered[f"mgc-vibe-ace-{model}-random.csv"]))
    assert list(table.columns) == ["start", "end", *mgc.GENRES, "top_genre"]
    assert len(table) == len(expected.timeline)
    record = json.loads(offered[f"mgc-vibe-ace-{model}-random.json"])
    assert (record["model"], record["split"], record["source"], record["genre"]) == (
        model,
        "random",
        "vibe-ace",
        expected.genre,
    )
    assert record["probabilities"] == pytest.approx(expected.probabilities, abs=1e-6)
    assert len(record["timeline"]) == len(expected.timeline)


def test_the_evaluation_split_picker_changes_the_numbers():
    if {("crnn", "random"), ("crnn", "filtered")} - set(available_runs()):
        pytest.skip("needs crnn evaluated on both splits")
    app = open_app("app_pages/evaluation.py")
    random_accuracy = metric(app, "Accuracy")
    app.selectbox(key="evaluation_split").set_value("filtered")
    app.run()
    assert_no_exception(app)
    filtered = mgc.runs.checkpoints.read_json(mgc.runs.checkpoints.run_dir("crnn", "filtered") / "metrics.json")
    assert metric(app, "Accuracy") == f"{filtered['accuracy']:.1%}" != random_accuracy


@pytest.mark.parametrize("split", ["random"])  # the filtered split's train clips with audio miss three genres
def test_the_musicnn_run_is_evaluated_on_its_clips_with_every_tab_drawn(split):
    if ("musicnn", split) not in available_runs():
        pytest.skip(f"no evaluated musicnn for the {split} split")
    app = open_app("app_pages/evaluation.py")
    app.toggle(key="evaluation_all_models").set_value(True)
    app.run()
    app.selectbox(key="evaluation_model").set_value("musicnn")
    app.run()
    app.selectbox(key="evaluation_split").set_value(split)
    app.run()
    assert_no_exception(app)
    scores = mgc.runs.read_json(mgc.runs.run_dir("musicnn", split) / "metrics.json")
    accuracy = next(m for m in app.metric if m.label == "Accuracy")
    assert accuracy.value == f"{scores['accuracy']:.1%}"
    assert f"On {scores['test_tracks']} test tracks; 95 % interval" in accuracy.help
    for tab in (
        "ROC",
        "Precision-recall",
        "Per genre",
        "Mistakes",
        "Confidence",
    ):
        open_tab(app, "evaluation_tab", tab)


def test_the_confusion_toggle_switches_counts_to_fractions(trained_crnn):
    app = open_app("app_pages/evaluation.py")
    counts = plotly_charts(app)["confusion"]["data"][0]["z"]
    app.toggle(key="normalise").set_value(True)
    app.run()
    fractions = plotly_charts(app)["confusion"]["data"][0]
    assert fractions["zmax"] == 1 and counts != fractions["z"]


def test_evaluation_tabs_draw_only_what_is_open(trained_crnn):
    app = open_app("app_pages/evaluation.py")
    assert set(plotly_charts(app)) == {"confusion"} and not app.dataframe
    assert set(plotly_charts(open_tab(app, "evaluation_tab", "ROC"))) == {"roc"}
    assert set(plotly_charts(open_tab(app, "evaluation_tab", "Precision-recall"))) == {"precision_recall"}
    report = open_tab(app, "evaluation_tab", "Per genre").dataframe[0].value
    assert list(report.index)[: len(mgc.GENRES)] == list(mgc.GENRES) and not plotly_charts(app)
    wrong = open_tab(app, "evaluation_tab", "Mistakes").dataframe[0].value
    table = pd.read_csv(mgc.runs.checkpoints.run_dir("crnn", "random") / "predictions.csv")
    assert len(wrong) == (table["genre"] != table["predicted"]).sum()


def test_model_comparison_shows_every_run_and_the_split_explanation(trained_crnn):
    app = open_app("app_pages/model_comparison.py")
    table = app.dataframe[0].value
    assert set(table.index) == {model for model, _ in available_runs()}
    assert app.dataframe[0].proto.placeholder == "—"  # a split a run lacks reads "—", not "None"
    assert any("fault-filtered split lower" in m.value for m in app.markdown)
    assert set(plotly_charts(app)) == {"bars"}
    assert set(plotly_charts(open_tab(app, "comparison_tab", "Per genre"))) == {"radar"}
    assert set(plotly_charts(open_tab(app, "comparison_tab", "Training"))) == {"training_curves"}
    ensembles_tab = open_tab(app, "comparison_tab", "Ensembles")
    gains = ensembles_tab.dataframe[1].value
    left_out = set()
    for row in gains.itertuples():  # each split's own members
        record = mgc.runs.checkpoints.read_json(mgc.runs.checkpoints.run_dir(row.ensemble, row.split) / "training.json")
        assert row.members == ", ".join(record["members"])
        left_out |= {f"{member} ({row.split} split): {why}." for member, why in record.get("left_out", {}).items()}
    captions = " ".join(c.value for c in ensembles_tab.caption)
    assert left_out and all(said in captions for said in left_out)  # shipped: musicnn reads 16 of 100 random valid


def test_the_recurrent_layer_table_writes_a_dash_not_none_where_the_cnn_has_nothing_to_compare(trained_crnn):
    app = open_tab(open_app("app_pages/model_comparison.py"), "comparison_tab", "Recurrent layer")
    (table,) = [d.value for d in app.dataframe if "recurrent layer" in d.value.columns]
    cnn = table[table["model"] == "cnn"]
    assert len(cnn) == 2 and (cnn[["vs CNN", "right only here / only CNN", "McNemar p"]] == "—").all().all()
    assert not table.isna().any().any()


@pytest.mark.real_data
def test_dataset_page_draws_balance_splits_tempo_and_correlation(real_data):
    app = open_app("app_pages/dataset.py")
    drawn = set(plotly_charts(app))
    for tab in ("Splits", "Tempo per genre", "Feature correlations"):
        drawn |= set(plotly_charts(open_tab(app, "dataset_tab", tab)))
    assert drawn == {"balance", "splits", "tempo", "correlation"}


@pytest.mark.parametrize("folder", ["absent", "empty"])
def test_dataset_page_explains_its_absence_and_shows_only_the_committed_runs_test_tracks(folder, monkeypatch, tmp_path):
    """Without the recordings (no folder, or an empty one as MGC_DATA): a plain sentence, no chart of an empty
    folder, no server path; the test tracks per genre that the shipped runs' predictions name."""
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("MGC_DATA", str(tmp_path / folder))
    st.cache_resource.clear()
    app = open_app("app_pages/dataset.py")
    st.cache_resource.clear()
    assert_no_exception(app)
    assert any("not available on this server" in i.value for i in app.info)
    drawn = plotly_charts(app)
    assert set(drawn) == {"tested"}
    # horizontal bars: the counts are on the x axis
    tested = {trace["name"]: sum(trace["x"]) for trace in drawn["tested"]["data"]}
    for split, label in SPLIT_LABELS.items():
        if ("crnn", split) in available_runs():
            tracks = len(pd.read_csv(mgc.runs.run_dir("crnn", split) / "predictions.csv"))
            assert tested[f"{label}: {tracks} test tracks"] == tracks
    shown = " ".join(str(e.value) for e in [*app.caption, *app.info, *app.markdown])
    assert str(tmp_path) not in shown and "images_original" not in shown


@pytest.fixture
def checkpoints_copy(tmp_path, monkeypatch, trained_crnn):
    """A copy of checkpoints/ that a test may damage, read by the app instead of the real one."""
    from mgc.runs.checkpoints import checkpoints_root

    copy = tmp_path / "server" / "checkpoints"
    shutil.copytree(checkpoints_root(), copy)
    monkeypatch.setenv("MGC_CHECKPOINTS", str(copy))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield copy
    st.cache_data.clear()
    st.cache_resource.clear()


def damage(path: Path) -> None:
    """Cut a file in half, as a full disk or an interrupted copy does."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize(
    "run, name, page",
    [
        ("crnn", "metrics.json", "app_pages/model_comparison.py"),
        ("crnn", "predictions.csv", "app_pages/evaluation.py"),
        ("crnn", "model.pt", "app_pages/classify.py"),
        ("crnn", "embedding_projection.json", "app_pages/classify.py"),
        ("ensemble-sum", "ensemble.json", "app_pages/classify.py"),
    ],
    ids=[
        "metrics on Model comparison",
        "predictions on Evaluation",
        "model.pt",
        "embedding map",
        "ensemble",
    ],
)
def test_a_damaged_run_file_shows_a_clear_message_without_server_paths(run, name, page, checkpoints_copy):
    damage(checkpoints_copy / run / "random" / name)
    app = open_app(page)
    if page == "app_pages/classify.py":
        choose_model(app, run)
        app.file_uploader(key="upload").upload("chord.wav", encode(sine_chord(5.0)))
        app.run()
    assert_no_exception(app)
    assert [e.value for e in app.error] == [
        "A trained model's saved files are missing or damaged, so this page cannot show it. Whoever runs this "
        "app can train or evaluate that run again (the server's log names the file)."
    ]
    shown = " ".join(str(element.value) for kind in ("markdown", "error", "caption") for element in app.get(kind))
    assert str(checkpoints_copy.parent) not in shown


def test_a_damaged_robustness_file_leaves_a_recordings_result_whole(checkpoints_copy):
    damage(checkpoints_copy / "musicnn" / "random" / "robustness.json")
    app = open_app("app_pages/classify.py")
    app.radio(key="source").set_value("Record")
    app.session_state["recording"] = (ROOT / "examples" / "Kevin_MacLeod_-_Vibe_Ace.ogg").read_bytes()
    app.run()
    assert_no_exception(app)
    assert answer(app) in mgc.GENRES and "top_genres" in plotly_charts(app)
    assert not app.error and not [box.value for box in app.info if "through a speaker" in box.value]


def test_the_real_world_tab_shows_each_condition_with_its_interval_or_how_to_measure_it(checkpoints_copy):
    from mgc.evaluate import robustness

    folder = checkpoints_copy / "crnn" / "random"
    (folder / robustness.ROBUSTNESS_FILE).unlink(missing_ok=True)
    app = open_tab(open_app("app_pages/evaluation.py"), "evaluation_tab", "Real world")
    assert not plotly_charts(app) and any("mgc robustness --model crnn" in c.proto.help for c in app.caption)

    clips = ["blues.00001", "rock.00002", "jazz.00003"]
    answers = {"clean": ["blues", "rock", "jazz"], "classroom": ["blues", "pop", "pop"]}
    mgc.runs.write_json(folder / robustness.ROBUSTNESS_FILE, robustness.record("crnn", "random", clips, answers))
    st.cache_data.clear()
    app = open_tab(open_app("app_pages/evaluation.py"), "evaluation_tab", "Real world")
    bars = plotly_charts(app)["robustness"]["data"][0]
    assert bars["y"] == ["classroom chain"] and bars["x"] == [pytest.approx(1 / 3)]
    assert bars["error_x"]["array"][0] > 0 and any("same 3 test clips" in c.value for c in app.caption)

    table = open_tab(open_app("app_pages/model_comparison.py"), "comparison_tab", "Real world")
    student = table.table[-1].value  # one split at a time: a split column ran past a phone's screen
    assert list(student.columns) == ["as recorded", "in a classroom", "hardest alone"] and "crnn" in student.index
    rows = table.dataframe[1].value
    assert ("crnn", 3) in set(zip(rows["model"], rows["clips"]))
    assert table.dataframe[0].value.loc["crnn", "classroom chain (random)"] == pytest.approx(1 / 3)


def test_home_shows_the_other_runs_and_names_the_one_whose_metrics_are_damaged(checkpoints_copy):
    damage(checkpoints_copy / "hybrid" / "random" / "metrics.json")
    app = open_app()
    assert_no_exception(app)
    assert not app.error
    assert [w.value for w in app.warning] == [
        "The saved results of hybrid · random split are damaged, so the numbers below leave them out. Whoever "
        "runs this app can evaluate those runs again (the server's log names the files)."
    ]
    (random,) = [trace for trace in plotly_charts(app)["accuracy_bars"]["data"] if trace["name"] == "random split"]
    accuracy = dict(zip(random["y"], random["x"]))  # horizontal bars: the models on the y axis
    assert accuracy["hybrid"] is None and accuracy["crnn"] > 0.5  # the filtered hybrid is still drawn
    best = next(m for m in app.metric if m.label == "Best accuracy, random split")
    whole = [v for model, v in accuracy.items() if model not in ("musicnn", "crnn-seed")]  # the clips with audio only
    assert best.value == f"{max(whole, key=lambda v: v or 0):.0%}"
    assert str(checkpoints_copy.parent) not in " ".join(str(w.value) for w in app.warning)


def test_the_app_starts_one_thread_that_gives_freed_memory_back():
    """glibc keeps what finished page runs freed; one thread per server hands it back (app_pages.memory)."""
    import threading

    open_app()
    open_app("app_pages/classify.py")
    trimmers = [t for t in threading.enumerate() if t.name == "mgc-give-back-memory"]
    assert len(trimmers) == 1 and trimmers[0].is_alive() and trimmers[0].daemon
