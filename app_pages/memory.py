"""Giving the memory that finished page runs freed back to the system.

glibc's allocator keeps what Python, numpy and torch free in its heaps for reuse, one heap (arena) per busy
thread, and Streamlit runs every page run in a thread of its own: after 24 visitors at once the server held
~130 MB of free memory that nothing would use again. `malloc_trim(0)` hands the free pages of every arena
back (`python -m benchmarks.app --parts load`; figures in docs/performance.md, Memory). `MALLOC_ARENA_MAX=2`
must be set before the server starts, which Community Cloud does not let us do (15 heaps exist before this module
is imported, and glibc fixes their limit once 8 do: `mallopt(M_ARENA_MAX)` from here changes nothing).

What `malloc_trim` cannot give back is the free top of a thread's heap: glibc shrinks it only when more than its
trim threshold is free there, and raises that threshold to twice the largest block it ever handed back to the
system (up to 64 MB): after a classroom's uploads, heaps that held 0-3 MB of live data kept 20-28 MB each.
`fixed_thresholds` sets both thresholds once (which also stops glibc moving them): 8 sessions of 3-minute uploads
left the server 120 MB above its served level 60 s after they closed, 18 MB with them, and peaked at 639 MB, not
792 (`python -m benchmarks.concurrency --sessions 8 --minutes 3`). The price: blocks from 1 MB on are fresh pages
each time, ~8 % more time in musicnn's network (docs/survive.md).
"""

from __future__ import annotations

import ctypes
import threading
import time

TRIM_EVERY_S = 10.0
"""How often the free pages go back: a trim takes ~1 ms; a minute after a burst they are long gone."""
TRIM_THRESHOLD = 128 * 1024
"""Free bytes at the top of a heap above which glibc gives them back at once (its own starting value)."""
MMAP_THRESHOLD = 1024 * 1024
"""Blocks from this size on get memory of their own from the system, handed back whole when freed (numpy's
arrays of audio and spectrograms), rather than a place in a heap."""
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
_trimmer: threading.Thread | None = None
_starting = threading.Lock()


def _malloc_trim():
    """glibc's malloc_trim, or None where the C library is not glibc (macOS, musl)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def fixed_thresholds() -> bool:
    """Set glibc's trim and mmap thresholds (`TRIM_THRESHOLD`, `MMAP_THRESHOLD`) so that it no longer raises them
    as big blocks come and go (see the module's docstring); whether glibc took both (False without glibc)."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) & bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def give_back_freed_memory(every: float = TRIM_EVERY_S) -> threading.Thread | None:
    """Start, once per process, a thread that hands the heaps' free pages back to the system every `every`
    seconds, with glibc's thresholds fixed first (`fixed_thresholds`); the thread (None without glibc). A
    module-level guard, not `st.cache_resource`: clearing the caches must not start a second thread."""
    global _trimmer
    trim = _malloc_trim()
    if trim is None:
        return None
    with _starting:
        if _trimmer is None or not _trimmer.is_alive():
            fixed_thresholds()

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
