"""Classify: one piece of audio → top genres, the genre over time, what the model saw and where it listened."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import streamlit as st
from audio_recorder_streamlit import audio_recorder

import mgc
from app_pages.cached import all_robustness, cached_embedding_map, dataset, picture_model, run_label, split_parts
from app_pages.in_view import keep_in_view
from app_pages.picker import arrived, from_url, in_plain_words, link_note, pick_run, select_model, to_url
from app_pages.plot import plot
from app_pages.recorder import ask_for_music
from app_pages.sessions import close_sessions_that_left
from app_pages.waiting import HIDE_RUNNING
from mgc import GENRES, charts, explain
from mgc.data.audio import MAX_SECONDS
from mgc.data.examples import ICONS, KINDS, example, examples_of
from mgc.data.gtzan import genre_of
from mgc.errors import CheckpointError
from mgc.evaluate.robustness import better_for_recordings, classify_default
from mgc.explain import words
from mgc.explain.words import GLOSSARY
from mgc.gate import GateResult
from mgc.models.musicnn_pass import MusicnnPass
from mgc.serve.admission import admission, recent_decodes, redrawn_when_moved
from mgc.serve.microphone import microphone_refusal
from mgc.serve.prediction import listen

UPLOAD_TYPES = ["wav", "mp3", "flac", "ogg", "opus", "m4a"]
UPLOAD, RECORD, EXAMPLE = "Upload a file", "Record", "Try an example"
RECORDING = "recording"  # session-state key of the newest recording (wav bytes) from either recorder
CHOSEN = "example"  # session-state key of the chosen example: a shipped one's id or a GTZAN track id
PART_LABELS = {"test": "test track", "valid": "validation track", "train": "training track"}
TAGGRAM_CAPTION = (
    "What a network trained on ~200,000 songs (the Million Song Dataset) hears — its own tags, not our genres; "
    "musicnn by Pons & Serra, ISC licence. Left: its top tags, the mean over 3-s patches; right: those tags "
    "patch by patch."
)


class Given(NamedTuple):
    """Audio to classify: its file name, bytes, what to say under the player, and the example's id (for links)."""

    name: str
    data: bytes
    about: str = ""
    example: str | None = None


class Decoded(NamedTuple):
    """An upload decoded once: its audio, or why it has none; and the seconds decoding took."""

    audio: mgc.Audio | None
    refusal: str
    seconds: float


# Keyed by a digest the page computes once (the bytes are not hashed again, `_data`), shared by every
# model and session, and failures are kept too: a crafted upload costs its decoding budget once, not
# once per rerun or retry. As many entries as slots, each dropped 60 s after the page last used it, by a clock
# (`mgc.serve.admission.recent_decodes`; Streamlit's ttl waits for the next lookup): 10 minutes of audio is
# 53 MB, kept no longer than a page shows it; an Audio is never modified.
def _decoded(digest: str, data: bytes) -> Decoded:
    with st.spinner("Decoding…"):
        return recent_decodes().get(digest, lambda: _decode_now(data))


def _decode_now(_data: bytes) -> Decoded:
    started = time.perf_counter()
    try:
        with admission().slot():  # the server-wide limit (held already when `admitted` drew the waiting)
            audio = mgc.load_audio(_data)
        return Decoded(audio, "", time.perf_counter() - started)
    except mgc.AudioError as error:  # the message only: an exception would keep its frames (and the bytes)
        return Decoded(None, str(error), time.perf_counter() - started)


def decode(data: bytes) -> tuple[str, Decoded]:
    """The upload's digest and its decoding; a refused upload raises its AudioError."""
    digest = hashlib.blake2b(data, digest_size=20).hexdigest()
    decoded = _decoded(digest, data)
    if decoded.audio is None:
        raise mgc.AudioError(decoded.refusal)
    return digest, decoded


@st.cache_data(show_spinner="Listening…", max_entries=16)
def classify(digest: str, model: str, split: str, _audio: mgc.Audio) -> mgc.Prediction:
    with admission().slot(weight=admission().weight_for(_audio.seconds)):  # a long piece: every slot (memory)
        return mgc.classify(
            _audio, model=model, split=split, gate=music_gate(digest, _audio), musicnn=musicnn_pass(digest, _audio)
        )


@st.cache_resource(show_spinner="Listening with musicnn…", max_entries=4, ttl=600)
def heard(digest: str, _audio: mgc.Audio) -> tuple[MusicnnPass, GateResult]:
    """musicnn once per upload, and the not-music gate's measurements side by side with it (`listen`): the default
    model, the gate and the taggram read this one pass."""
    return listen(_audio)


def musicnn_pass(digest: str, _audio: mgc.Audio) -> MusicnnPass:
    return heard(digest, _audio)[0]


@st.cache_resource(show_spinner="Listening for music…", max_entries=16, ttl=600)
def music_gate(digest: str, _audio: mgc.Audio) -> GateResult:
    """The not-music gate reads the audio, not a model: once per upload, whichever models are tried."""
    return heard(digest, _audio)[1]


@st.cache_data(show_spinner="Listening with musicnn…", max_entries=16)
def taggram(digest: str, _audio: mgc.Audio) -> explain.Taggram:
    return explain.taggram(_audio, musicnn=musicnn_pass(digest, _audio))


@st.cache_data(show_spinner="Tracing where the model listened…", max_entries=16)
def saliency(picture, model: str, split: str, genre: str):
    return explain.saliency(picture_model(model, split), picture, genre)


def remember_recording(data: bytes | None, recorder: str) -> None:
    """Keep the newest recording of either recorder: each returns its last take on every rerun."""
    if not data:
        return
    digest = hashlib.sha1(data).hexdigest()
    seen = st.session_state.setdefault("recordings_seen", {})
    if seen.get(recorder) != digest:
        seen[recorder] = digest
        st.session_state[RECORDING] = data


def upload_help() -> str:
    """The uploader's help, from the limits that apply: the server's upload size, the loader's analysed length."""
    return (
        f"wav, mp3, flac, ogg, opus or m4a, up to {st.get_option('server.maxUploadSize')} MB; "
        f"only the first {MAX_SECONDS / 60:.0f} minutes are used"
    )


def uploaded_audio() -> Given | None:
    file = st.file_uploader("Upload music", type=UPLOAD_TYPES, key="upload", help=upload_help())
    return Given(file.name, file.getvalue()) if file else None


def recorded_audio() -> Given | None:
    """Streamlit's recorder first, the audio-recorder-streamlit button below it; both ask for music as it is."""
    refusal = microphone_refusal(st.context.url)
    if refusal:
        st.warning(refusal, icon=":material/mic_off:")
    st.markdown("Play or sing some music near the microphone for 5–30 seconds, then stop.")
    ask_for_music()  # no echo cancellation, noise suppression or automatic gain: they are for voice calls
    take = st.audio_input("Record music", sample_rate=22050, key="audio_input")
    remember_recording(take.getvalue() if take else None, "audio_input")
    st.markdown("**Another recorder**")
    st.caption("This button records until it is clicked again. It takes a mouse click, not the keyboard.")
    # A long pause_threshold: the recorder stops when clicked again, not at the first quiet bar.
    remember_recording(
        audio_recorder(
            text="Click to start, click again to stop ",
            pause_threshold=60.0,
            sample_rate=22050,
            icon_size="2x",
            key="recorder",
        ),
        "recorder",
    )
    data = st.session_state.get(RECORDING)
    return Given("recording.wav", data) if data else None


def choose_example(example_id: str) -> None:
    st.session_state[CHOSEN] = example_id


def part_label(part: str | None) -> str:
    return PART_LABELS.get(part, "not in this split")


def shipped_gallery(chosen: str | None) -> None:
    """The recordings that ship with the app, as named buttons by kind; a click classifies one."""
    st.markdown("Recordings that ship with the app (none is from GTZAN). Click one to hear and classify it.")
    st.caption(
        "GTZAN's ten genres were chosen around 2000: music made since, or music that mixes styles, often gets a "
        "“not sure” answer — that is the model being honest, not broken."
    )
    for kind, heading in KINDS.items():
        st.markdown(f"**{heading}**")
        with st.container(horizontal=True):
            for shipped in examples_of(kind):
                st.button(
                    shipped.name,
                    key=f"example_{shipped.id}",
                    icon=ICONS[kind],
                    type="primary" if chosen == shipped.id else "secondary",
                    on_click=choose_example,
                    args=(shipped.id,),
                    help=shipped.credit,
                )


def gtzan_picker(audio: dict, model: str, split: str, chosen: str | None) -> None:
    """The dataset's clips with audio, by genre, each marked for the chosen run: test tracks first."""
    parts = split_parts(split)
    st.markdown(
        f"**GTZAN clips** (the dataset is on this server). Each is marked for {run_label(model, split)}: "
        "a *test track* is music this model never heard, a *training track* one it learnt from."
    )
    genres = [genre for genre in GENRES if any(genre_of(track) == genre for track in audio)]
    left, middle = st.columns([1, 2], vertical_alignment="bottom")
    genre = left.selectbox("Genre", genres, key="gtzan_genre")
    order = ("test", "valid", "train", None)
    tracks = sorted((t for t in audio if genre_of(t) == genre), key=lambda t: (order.index(parts.get(t)), t))
    if st.session_state.get("gtzan_track") not in (*tracks, None):
        del st.session_state["gtzan_track"]  # another genre: start again on its first test track
    track = middle.selectbox(
        "Clip",
        tracks,
        key="gtzan_track",
        format_func=lambda t: f"{t} · {part_label(parts.get(t))}",
        help="\n\n".join(f"**{label}**: {GLOSSARY[label]}" for label in PART_LABELS.values()),
    )
    st.button(  # on a line of its own: beside the clip's name, a narrow column cut its label at 1024 px
        "Classify this clip",
        key="gtzan_go",
        icon=":material/play_arrow:",
        type="primary" if chosen == track else "secondary",
        on_click=choose_example,
        args=(track,),
    )


def example_audio(gtzan: mgc.GTZAN | None, model: str, split: str) -> Given | None:
    """The gallery (and the dataset's clips where it is here); the chosen example's bytes and what to say of it."""
    chosen = st.session_state.get(CHOSEN)
    shipped_gallery(chosen)
    audio = gtzan.audio if gtzan is not None else {}
    if audio:
        gtzan_picker(audio, model, split, chosen)
    if chosen is None:
        return None
    if (shipped := example(chosen)) is not None:
        about = shipped.credit
        if shipped.catalogued_as:
            about += f" Its source files it under *{shipped.catalogued_as}* (not a GTZAN label)."
        return Given(shipped.file_name, shipped.file.read_bytes(), about, chosen)
    if chosen in audio:
        label = part_label(split_parts(split).get(chosen))
        about = (
            f"{chosen}: GTZAN labels this clip **{genre_of(chosen)}**. For {run_label(model, split)} it is a "
            f"**{label}** — {GLOSSARY.get(label, GLOSSARY['not in split'])}"
        )
        return Given(audio[chosen].name, audio[chosen].read_bytes(), about, chosen)
    return None


@contextmanager
def admitted(given: Given, model: str, split: str):
    """Decode and classify within the server-wide limit (`mgc.serve.admission`): while every slot is busy, the
    page says how many are ahead with a progress bar that fills as the queue moves. A session that has its
    result already (a rerun: a click, an expander) does not queue again; its answers come from the caches."""
    key = (given.name, len(given.data), model, split)
    done = st.session_state.setdefault("admitted", set())
    if key in done:
        yield
        return
    waiting, first = st.empty(), []

    def show(ahead: int, seconds: float) -> None:
        first.append(ahead)
        place = f"{ahead} ahead" if ahead else "next in line"
        with waiting.container():
            # Streamlit's turning "running" figure hidden while the bar says what happens (back once the wait
            # ends): it cost each waiting tab's browser ~0.02 of a core (`redrawn_when_moved` says more)
            st.markdown(HIDE_RUNNING, unsafe_allow_html=True)
            st.progress(1 - ahead / (first[0] + 1), text=f"Waiting for a free slot — {place} (waited {seconds:.0f} s)")

    with admission().slot(redrawn_when_moved(show)):
        waiting.empty()
        yield
    done.add(key)


def show_result(given: Given, model: str, split: str, recorded: bool = False) -> None:
    with admitted(given, model, split):
        digest, decoded = decode(given.data)
        audio = decoded.audio
        prediction = classify(digest, model, split, audio)
    st.audio(given.data, format=mimetypes.guess_type(given.name)[0] or "audio/wav")
    if given.about:
        st.caption(given.about)
    answer = st.container(key="answer")  # scrolled into view once per new answer (keep_in_view, below)
    # the genre's column is the widest: "classical or country" (not sure) was cut in a third of 1024 px
    genre_column, confidence_column, time_column = answer.columns([3, 1, 1])
    if prediction.verdict == "unsure":
        genre_column.metric(
            "Not sure", f"{prediction.genre} or {prediction.runner_up}", help=words.GLOSSARY["not sure"]
        )
    else:
        label = "Closest genre" if prediction.verdict == "not music" else "Top genre"
        genre_column.metric(label, prediction.genre)
    confidence_column.metric("Confidence", f"{prediction.confidence:.0%}")
    time_column.metric(
        "Answered in",
        f"{time.perf_counter() - PAGE_STARTED:.1f} s",
        help=f"From the moment this server started on your click to the answer ({prediction.seconds:.1f} s of audio): "
        f"reading the file took {decoded.seconds:.2f} s, the model {prediction.elapsed:.2f} s (0 when the answer was "
        "already known). Sending a recording to the server and drawing the page come on top.",
    )
    keep_in_view("answer", f"{digest}:{model}:{split}")
    if not prediction.is_music:
        st.warning(
            "**This does not sound like music** — " + "; ".join(prediction.gate.reasons) + ". The model always "
            f"answers with one of its ten genres, so read the answer as “closest to {prediction.genre}”, "
            f"not “{prediction.genre}”.",
            icon=":material/warning:",
        )
    elif prediction.verdict == "unsure":
        st.info(
            f"**Not sure: {prediction.genre} or {prediction.runner_up}.** The two are "
            f"{prediction.confidence - prediction.top(2)[1][1]:.0%} apart; on the tracks this model was checked on, "
            f"its top genre is right less than half the time when they are closer than "
            f"{prediction.unsure_margin:.0%}.",
            icon=":material/help:",
        )
    for notice in prediction.notices:
        st.info(notice)
    if recorded and prediction.is_music:
        suggest_for_recordings(model, split)

    inputs = words.run_inputs(model, split)
    features_only = set(inputs.values()) == {"features"}
    if features_only:  # one answer for the whole clip: a flat "genre over time" would say nothing
        plot(charts.top_genres_figure(prediction.probabilities), key="top_genres")
        st.caption(f"{model} answers once for the whole clip, so there is no genre-over-time chart.")
    else:
        bars, timeline = st.columns([2, 3])
        plot(charts.top_genres_figure(prediction.probabilities), key="top_genres", where=bars)
        plot(charts.timeline_figure(prediction.timeline), key="timeline", where=timeline)

    show_taggram(digest, audio)

    st.markdown(f"**What the model reads.** {words.what_it_reads(model, split)}")
    plot(charts.waveform_figure(audio.samples, audio.sample_rate), key="waveform")
    reads_picture = bool({"picture", "both"} & set(inputs.values()))
    title = None if reads_picture else f"The sound as a mel spectrogram ({model} does not read it)"
    plot(charts.picture_figure(prediction.picture, *([title] if title else [])), key="picture")
    explained_by = explain.saliency_model(model, split)
    if explained_by is None:
        reads = words.run_reads_short(model, split)
        st.caption(f"No saliency view: {model} reads {reads}, not this spectrogram.")
    else:
        heat = saliency(prediction.picture, explained_by, split, prediction.genre)
        plot(charts.saliency_figure(heat, prediction.genre), key="saliency")
        by = "" if explained_by == model else f" (drawn for {explained_by}, the spectrogram model inside {model})"
        st.caption(
            "Gradient × input: how much each point of the spectrogram raised (red) or lowered (blue) "
            f"the model's score for {prediction.genre}{by}.",
            help=words.GLOSSARY["saliency"],
        )
    show_embedding_map(prediction, model, split)
    show_downloads(prediction, given, split)


def suggest_for_recordings(model: str, split: str) -> None:
    """After a recording: name the run that hears music through a speaker, a room and a microphone measurably
    better than this one (the classroom chain of `python -m mgc robustness`, on the same test clips), if any."""
    try:
        suggestion = better_for_recordings(all_robustness(), model, split)
    except CheckpointError:  # a damaged robustness.json: the result stands; the Evaluation page names the file
        return
    if suggestion is None:
        return
    st.info(
        f"**Playing music to the microphone through a speaker?** Through our classroom chain (a phone speaker, a "
        f"room, a talking class, a laptop microphone, a 32-kbit/s MP3) **{suggestion.model}** gets "
        f"{suggestion.correct} of {suggestion.clips} test clips right, {model} {suggestion.current_correct} "
        "— on the very same clips, a difference unlikely to be luck"
        + (f" (McNemar p = {suggestion.p_value:.2f})" if st.session_state.get("classify_all_models") else "")
        + ". See Evaluation → Real-world conditions.",
        icon=":material/campaign:",
    )
    st.button(
        f"Classify with {suggestion.model}",
        on_click=select_model,
        args=("classify", suggestion.model),
        key="use_robust",
    )


def show_taggram(digest: str, audio: mgc.Audio, top: int = 10) -> None:
    """musicnn's tags of the audio, in an expander drawn only when opened: the network loads on first need."""
    box = st.expander(
        "What a network trained on ~200,000 songs hears", icon=":material/hearing:", key="taggram", on_change="rerun"
    )
    if not box.open:
        return
    heard = taggram(digest, audio)
    top_tags = heard.top_tags(top)
    bars, heatmap = box.columns([2, 3])
    plot(charts.top_tags_figure(top_tags), key="top_tags", where=bars)
    plot(charts.taggram_figure(heard.timeline, list(top_tags.index)), key="taggram_chart", where=heatmap)
    box.caption(TAGGRAM_CAPTION)


def show_downloads(prediction: mgc.Prediction, given: Given, split: str) -> None:
    """The result to keep: the timeline as CSV, everything as JSON."""
    stem = given.example or re.sub(r"[^A-Za-z0-9_-]+", "-", Path(given.name).stem).strip("-")[:60] or "audio"
    name = f"mgc-{stem}-{prediction.model}-{split}"
    record = prediction.record(split, source=given.example or given.name)
    st.markdown("**Keep this result**")
    with st.container(horizontal=True):
        st.download_button(
            "Timeline (CSV)",
            prediction.timeline_csv(),
            file_name=f"{name}.csv",
            mime="text/csv",
            key="download_csv",
            icon=":material/download:",
            on_click="ignore",
            help="One row per window: start and end (s), the ten probabilities, the top genre",
        )
        st.download_button(
            "Everything (JSON)",
            json.dumps(record, indent=2),
            file_name=f"{name}.json",
            mime="application/json",
            key="download_json",
            icon=":material/download:",
            on_click="ignore",
            help="Model, split, verdict, genre, confidence, probabilities, timeline, notices and what the "
            "not-music gate heard",
        )
    if given.example:
        st.caption(":material/link: The page's address names this model, split and example: copy it to share the view.")


def show_embedding_map(prediction: mgc.Prediction, model: str, split: str) -> None:
    test_map = cached_embedding_map(model, split)
    if test_map is None:
        st.caption(
            "This model has no map of the test tracks yet.",
            help=f"`python -m mgc evaluate --model {model} --split {split}` draws it.",
        )
        return
    if len(test_map.mean) != len(prediction.embedding):
        st.caption("The embedding map was drawn by another version of this model; rebuild it.")
        return
    figure = charts.embedding_map_figure(test_map.points, test_map.project(prediction.embedding))
    plot(figure, key="embedding_map")
    st.caption(
        "Each dot is a GTZAN test track; nearby dots sound alike to the model, and the star is your audio.",
        help=f"The model's embeddings, flattened to two axes by PCA; the axes keep {sum(test_map.explained):.0%} of "
        "their variance.",
    )


PAGE_STARTED = time.perf_counter()  # this run began: the "Answered in" time is what the visitor waited here
close_sessions_that_left()  # uploads of tabs that have gone are let go (Streamlit keeps them otherwise)
st.title("Classify")
fresh = arrived("classify")
try:
    default = classify_default(all_robustness(), "random")  # the measured rule: robustness.listening_default
except CheckpointError:  # a damaged robustness.json: the table's default, unmeasured; Evaluation names the file
    default = classify_default({}, "random")
run = pick_run("classify", default=default.model)
if run is not None and run[0] == default.model and default.measured:
    reason = default.reason()  # the test's name and p-value for experts (All models); the words for a class
    expert = st.session_state.get("classify_all_models")
    st.caption(f":material/hearing: {reason if expert else in_plain_words(reason)}")
gtzan = dataset()
wanted = from_url("classify", "example", fresh)
if wanted is not None:
    if example(wanted) is not None or (gtzan is not None and wanted in gtzan.audio):
        st.session_state["source"] = EXAMPLE
        choose_example(wanted)
        if example(wanted) is None:
            st.session_state["gtzan_genre"], st.session_state["gtzan_track"] = genre_of(wanted), wanted
    else:
        link_note("example", wanted, "choose one of those below")
source = st.radio("Audio from", [UPLOAD, RECORD, EXAMPLE], horizontal=True, key="source")
if source == UPLOAD:
    given = uploaded_audio()
elif source == RECORD:
    given = recorded_audio()
else:
    given = example_audio(gtzan, *run) if run is not None else None
if run is not None:
    to_url("classify", example=given.example if given is not None else None)

if run is not None and given is not None:
    try:
        show_result(given, *run, recorded=source == RECORD)
    except mgc.AudioError as error:  # about the visitor's input; other errors are the page boundary's (app.py)
        st.error(str(error), icon=":material/error:")
elif run is not None:
    st.info("Choose some audio above to classify it.")
