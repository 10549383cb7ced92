"""Recorders that ask the browser for the sound as it is, not as a voice call.

audio-recorder-streamlit (0.0.8, and 0.0.10, the newest) asks for the microphone with `{audio: true}`, so
Chromium applies its processing for voice calls — echo cancellation, noise suppression, automatic gain —
which pumps and thins music (the same metal clip through a fake microphone: correlation 0.52 with the
source, "hiphop or reggae", against 1.00 and metal with the processing off). No release lets a caller
switch it off, and its JavaScript is not ours to fork. The button runs in an iframe of this server's own
origin, so the page can wrap that iframe's `getUserMedia` before the button is clicked: the same request
with the three switched off (`MUSIC_CONSTRAINTS`). Nothing else in the component changes. Streamlit's own
recorder asks for 22050 Hz and nothing about processing; Chromium leaves the processing off to meet that
rate from a 44.1-kHz microphone, but perhaps not from a 48-kHz one — so the page wraps its own
`getUserMedia` the same way, and both recorders ask for the music as it is wherever they run.
"""

from __future__ import annotations

import json

import streamlit as st

MUSIC_CONSTRAINTS = {"echoCancellation": False, "noiseSuppression": False, "autoGainControl": False}
RECORDER_FRAMES = "iframe[title*='audio_recorder']"
"""How Streamlit titles the component's iframe (its module and function name)."""

_WRAP_GET_USER_MEDIA = """
<script>
(() => {
  if (window.mgcMusicRecorder) return;  // once per browser tab; each rerun renders this again
  window.mgcMusicRecorder = true;
  const music = %(constraints)s;
  const wrap = (page) => {
    try {
      const media = page && page.navigator.mediaDevices;
      if (!media || media.mgcMusic) return;
      const ask = media.getUserMedia.bind(media);
      media.getUserMedia = (constraints = {}) => {
        const audio = constraints.audio;
        if (audio) constraints = {...constraints, audio: {...(audio === true ? {} : audio), ...music}};
        return ask(constraints);
      };
      media.mgcMusic = true;
    } catch (error) {}  // a frame of another origin: not the recorder
  };
  const wrapAll = () => document.querySelectorAll(%(frames)s).forEach((frame) => {
    wrap(frame.contentWindow);
    if (!frame.mgcWatched) {
      frame.mgcWatched = true;
      frame.addEventListener("load", () => wrap(frame.contentWindow));
    }
  });
  wrap(window);  // Streamlit's own recorder asks from the page itself
  wrapAll();
  new MutationObserver(wrapAll).observe(document.body, {childList: true, subtree: true});
})();
</script>
"""


def ask_for_music() -> None:
    """Make every recorder on the page ask the browser for the sound as it is (`MUSIC_CONSTRAINTS`): Streamlit's
    recorder in the page, audio-recorder-streamlit's in its iframe. Call it before the recorders."""
    st.html(
        _WRAP_GET_USER_MEDIA % {"constraints": json.dumps(MUSIC_CONSTRAINTS), "frames": json.dumps(RECORDER_FRAMES)},
        unsafe_allow_javascript=True,
    )
