"""Giving the memory that finished page runs freed back to the system.

glibc's allocator keeps what Python, numpy and torch free in its heaps for reuse, one heap (arena) per busy
thread, and Streamlit runs every page run in a thread of its own: after 24 visitors at once the server held
~130 MB of free memory that nothing would use again. `malloc_trim(0)` hands the free pages of every arena
back (`python -m benchmarks.app --parts load`; figures in docs/performance.md, Memory). `MALLOC_ARENA_MAX=2`
must be set before the server starts, which Community Cloud does not let us do; `mallopt` from here, at run
time, was measured and did not lower the peak.
"""

from __future__ import annotations

import ctypes
import threading
import time

TRIM_EVERY_S = 10.0
"""How often the free pages go back: a trim takes ~1 ms; a minute after a burst they are long gone."""
_trimmer: threading.Thread | None = None
_starting = threading.Lock()


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library is not glibc (macOS, musl)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def give_back_freed_memory(every: float = TRIM_EVERY_S) -> threading.Thread | None:
    """Start, once per process, a thread that hands the heaps' free pages back to the system every `every`
    seconds; the thread (None without glibc). A module-level guard, not `st.cache_resource`: clearing the
    caches must not start a second thread."""
    global _trimmer
    trim = _malloc_trim()
    if trim is None:
        return None
    with _starting:
        if _trimmer is None or not _trimmer.is_alive():

            def trim_forever() -> None:
                while True:
                    time.sleep(every)
                    trim(0)

            _trimmer = threading.Thread(target=trim_forever, name="mgc-give-back-memory", daemon=True)
            _trimmer.start()
    return _trimmer


def give_back_now() -> None:
    """Hand the heaps' free pages back at once: at the end of each page run, whose thread's arena holds what
    the run freed (a model switch frees the last answer's arrays), rather than up to `TRIM_EVERY_S` later."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
