"""Classify: one piece of audio → top genres, the genre over time, what the model saw and where it listened."""

from __future__ import annotations

import hashlib
import mimetypes
import time
from typing import NamedTuple

import streamlit as st
from audio_recorder_streamlit import audio_recorder

import mgc
from app_pages.cached import cached_embedding_map, dataset, pick_run, picture_model
from mgc import charts, explain
from mgc.data.audio import MAX_SECONDS
from mgc.data.gtzan import genre_of

UPLOAD_TYPES = ["wav", "mp3", "flac", "ogg", "opus", "m4a"]
UPLOAD, RECORD, EXAMPLE = "Upload a file", "Record", "Try an example"
RECORDING = "recording"  # session-state key of the newest recording (wav bytes) from either recorder


class Decoded(NamedTuple):
    """An upload decoded once: its audio, or why it has none; and the seconds decoding took."""

    audio: mgc.Audio | None
    refusal: str
    seconds: float


# Keyed by a digest the page computes once (the bytes are not hashed again, `_data`), shared by every
# model and session, and failures are kept too: a crafted upload costs its decoding budget once, not
# once per rerun or retry. Four entries, each kept at most 10 minutes after decoding: 10 minutes of audio is
# 53 MB; an Audio is never modified.
@st.cache_resource(show_spinner="Decoding…", max_entries=4, ttl=600)
def _decoded(digest: str, _data: bytes) -> Decoded:
    started = time.perf_counter()
    try:
        return Decoded(mgc.load_audio(_data), "", time.perf_counter() - started)
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
    return mgc.classify(_audio, model=model, split=split)


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


def uploaded_audio() -> tuple[str, bytes] | None:
    file = st.file_uploader("Upload music", type=UPLOAD_TYPES, key="upload", help=upload_help())
    return (file.name, file.getvalue()) if file else None


def recorded_audio() -> tuple[str, bytes] | None:
    st.markdown("Play or sing some music near the microphone for 5–30 seconds. Use either recorder.")
    left, right = st.columns(2)
    with left:
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
    with right:
        take = st.audio_input("Or use Streamlit's recorder", sample_rate=22050, key="audio_input")
        remember_recording(take.getvalue() if take else None, "audio_input")
    data = st.session_state.get(RECORDING)
    return ("recording.wav", data) if data else None


def example_audio(examples: dict) -> tuple[str, bytes] | None:
    track = st.selectbox(
        "GTZAN clip", sorted(examples), key="example", help="The clips of the dataset folder that have audio"
    )
    st.caption(f"GTZAN labels this clip **{genre_of(track)}**.")
    return examples[track].name, examples[track].read_bytes()


def show_result(name: str, data: bytes, model: str, split: str) -> None:
    digest, decoded = decode(data)
    audio = decoded.audio
    prediction = classify(digest, model, split, audio)
    st.audio(data, format=mimetypes.guess_type(name)[0] or "audio/wav")
    genre_column, confidence_column, time_column = st.columns(3)
    genre_column.metric("Top genre", prediction.genre)
    confidence_column.metric("Confidence", f"{prediction.confidence:.0%}")
    time_column.metric(
        "Classified in",
        f"{decoded.seconds + prediction.elapsed:.2f} s",
        help=f"{prediction.seconds:.1f} s of audio, decoding included",
    )
    check = explain.music_check(audio.samples, prediction.probabilities, audio.sample_rate)
    if check.may_not_be_music:
        st.warning(
            "**This may not be music** — " + "; ".join(check.reasons) + ". The model always answers "
            "with one of its ten genres, so read the answer as “closest to”, not “is”.",
            icon=":material/warning:",
        )
    for notice in prediction.notices:
        st.info(notice)

    bars, timeline = st.columns([2, 3])
    bars.plotly_chart(charts.top_genres_figure(prediction.probabilities), key="top_genres")
    timeline.plotly_chart(charts.timeline_figure(prediction.timeline), key="timeline")

    st.plotly_chart(charts.waveform_figure(audio.samples, audio.sample_rate), key="waveform")
    st.plotly_chart(charts.picture_figure(prediction.picture), key="picture")
    explained_by = explain.saliency_model(model, split)
    if explained_by is None:
        st.caption(f"No saliency view: {model} reads 57 tabular features of the whole clip, not the spectrogram.")
    else:
        heat = saliency(prediction.picture, explained_by, split, prediction.genre)
        st.plotly_chart(charts.saliency_figure(heat, prediction.genre), key="saliency")
        by = "" if explained_by == model else f" (drawn for {explained_by}, the spectrogram model inside {model})"
        st.caption(
            "Gradient × input: how much each point of the spectrogram raised (red) or lowered (blue) "
            f"the model's score for {prediction.genre}{by}."
        )
    show_embedding_map(prediction, model, split)


def show_embedding_map(prediction: mgc.Prediction, model: str, split: str) -> None:
    test_map = cached_embedding_map(model, split)
    if test_map is None:
        st.caption(
            f"This run has no embedding map yet: `python -m mgc evaluate --model {model} --split {split}` draws it."
        )
        return
    if len(test_map.mean) != len(prediction.embedding):
        st.caption("The embedding map was drawn by another version of this model; rebuild it.")
        return
    figure = charts.embedding_map_figure(test_map.points, test_map.project(prediction.embedding))
    st.plotly_chart(figure, key="embedding_map")
    st.caption(
        f"Each dot is a GTZAN test track; nearby dots sound alike to the model. The two axes keep "
        f"{sum(test_map.explained):.0%} of the embeddings' variance."
    )


st.title("Classify")
run = pick_run("classify")
examples = dataset().audio if dataset() is not None else {}
sources = [UPLOAD, RECORD] + ([EXAMPLE] if examples else [])
source = st.radio("Audio from", sources, horizontal=True, key="source")
if source == UPLOAD:
    given = uploaded_audio()
elif source == RECORD:
    given = recorded_audio()
else:
    given = example_audio(examples)

if run is not None and given is not None:
    try:
        show_result(*given, *run)
    except mgc.AudioError as error:  # about the visitor's input; other errors are the page boundary's (app.py)
        st.error(str(error), icon=":material/error:")
elif run is not None:
    st.info("Choose some audio above to classify it.")
