"""Sessions whose tab has gone are closed after `DISCONNECTED_KEPT_SECONDS`, their uploads and media with them.

Streamlit 1.67 keeps a disconnected session for a reconnect (`server.disconnectedSessionTTL`, 120 s, in a TTL cache)
and never shuts an expired one down: nothing calls `AppSession.shutdown`, so the session's uploaded file (the
`UploadedFileManager` keys files by session) and its media (`st.audio`'s copy of the upload) stay for the server's
life — ~19 MB for each visitor who uploaded a 10-minute MP3 and closed the tab (issue 28: 16 such sessions left a
served app at 792 MB instead of 510). Here a thread looks every `SWEEP_SECONDS` at the sessions kept for a
reconnect, and closes on Streamlit's event loop (where its session storage is touched) each one that has been
disconnected for `DISCONNECTED_KEPT_SECONDS`: its tab, if it comes back later, starts a fresh session.
"""

from __future__ import annotations

import logging
import threading
import time

import streamlit as st

DISCONNECTED_KEPT_SECONDS = 30.0
"""How long a session whose tab has gone is kept for a reconnect (a network blip, a phone's locked screen) before
its upload and media are let go. Under the 60 s in which issue 28 asks the server's memory to settle."""
SWEEP_SECONDS = 5.0

_LOG = logging.getLogger(__name__)


class Disconnected:
    """When each session was first seen disconnected; which are due to close."""

    def __init__(self, kept: float = DISCONNECTED_KEPT_SECONDS):
        self.kept = kept
        self._since: dict[str, float] = {}

    def due(self, disconnected: set[str], now: float) -> list[str]:
        """The sessions in `disconnected` seen so for `kept` seconds by now; one that reconnected starts again."""
        self._since = {key: self._since.get(key, now) for key in disconnected}
        return [key for key, since in self._since.items() if now - since >= self.kept]


def _sweep_once(runtime, disconnected: Disconnected) -> None:
    """On the event loop: close the sessions that have been disconnected for long enough."""
    try:
        manager = runtime._session_mgr  # private: Streamlit keeps no public handle on it
        active = {info.session.id for info in manager.list_active_sessions()}
        stored = {info.session.id for info in manager.list_sessions()} - active
        for session_id in disconnected.due(stored, time.monotonic()):
            manager.close_session(session_id)  # storage's entry deleted and the session shut down: files, media
    except Exception as error:  # never the event loop's problem: one line in the log, the app goes on
        _LOG.warning("closing disconnected sessions failed: %s", error)


def _sweep_forever(runtime) -> None:
    disconnected = Disconnected()
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            loop = runtime._get_async_objs().eventloop  # private too
            if loop.is_closed():
                return
            loop.call_soon_threadsafe(_sweep_once, runtime, disconnected)
        except Exception as error:  # another Streamlit: the sweeper stops, the app goes on (as before it)
            _LOG.warning("closing disconnected sessions stopped: %s", error)
            return


@st.cache_resource(show_spinner=False)
def close_sessions_that_left() -> threading.Thread | None:
    """Start the sweeper (once per server); None where there is no Streamlit runtime (a bare script, AppTest)."""
    from streamlit import runtime

    if not runtime.exists():
        return None
    sweeper = threading.Thread(
        target=_sweep_forever, args=(runtime.get_instance(),), name="mgc-close-sessions", daemon=True
    )
    sweeper.start()
    return sweeper
