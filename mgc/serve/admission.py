"""A server-wide limit on how many pieces of audio are decoded and classified at once.

Every upload is bounded on its own (`mgc.data.audio`), but not how many run together: 16 sessions each
uploading a 10-minute mp3 took the server from 0.8 to 2.75 GB, and each took 107–126 s because they shared
two cores. `Admission` lets `slots` of them run (by default one per core: more cannot run faster, they only
hold more decoded audio at once) and queues the rest in arrival order, telling each how many are ahead, so
a page can say "Waiting for a free slot — 3 ahead" instead of spinning. It is plain Python (threads and a
condition), so the library, the command line and the app share it; the app's page draws the waiting.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WAIT_POLL_SECONDS = 0.5
"""How often a waiting caller hears its place in the queue: a page redraws its progress at this rate, and a
session that was closed while waiting leaves the queue at its next redraw (Streamlit stops the script there)."""


def default_slots() -> int:
    """`$MGC_SLOTS` where it is a positive whole number, else the number of cores this process may use."""
    wanted = os.environ.get("MGC_SLOTS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Admission:
    """At most `slots` holders at once, the others served first come, first served.

    `with admission.slot(on_wait):` waits for a slot; while it waits, `on_wait(ahead, seconds)` is called every
    `WAIT_POLL_SECONDS` with how many callers are before it in the queue and how long it has waited. A thread
    that holds a slot and asks again gets it at once (decoding and classifying one upload nest), and a caller
    whose wait ends in an exception (a closed page) leaves the queue.
    """

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"an admission limit needs at least one slot, not {slots}")
        self.slots = slots
        self._changed = threading.Condition()
        self._busy = 0
        self._queue: deque[object] = deque()
        self._held = threading.local()

    @property
    def busy(self) -> int:
        """Slots held now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Callers in the queue now."""
        return len(self._queue)

    def _ahead(self, ticket: object) -> int | None:
        """Callers before `ticket` in the queue; None when it may go (first in line and a slot is free)."""
        ahead = self._queue.index(ticket)
        return None if ahead == 0 and self._busy < self.slots else ahead

    @contextmanager
    def slot(self, on_wait: Callable[[int, float], None] | None = None) -> Iterator[None]:
        """Hold one slot for the block (see the class)."""
        if getattr(self._held, "depth", 0):  # this thread holds one already
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        ticket, started = object(), time.monotonic()
        with self._changed:
            self._queue.append(ticket)
        try:
            while True:
                with self._changed:
                    ahead = self._ahead(ticket)
                    if ahead is not None:
                        self._changed.wait(WAIT_POLL_SECONDS)
                        ahead = self._ahead(ticket)
                    if ahead is None:
                        self._queue.remove(ticket)
                        self._busy += 1
                        self._changed.notify_all()  # the next in line may be first now
                        break
                if on_wait is not None:  # outside the lock: a page draws here, and may be stopped here
                    on_wait(ahead, time.monotonic() - started)
        except BaseException:
            with self._changed:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                self._changed.notify_all()
            raise
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()


_lock = threading.Lock()
_admission: Admission | None = None


def admission() -> Admission:
    """The process's one admission limit (`default_slots()` slots), made on first use."""
    global _admission
    with _lock:
        if _admission is None:
            _admission = Admission(default_slots())
        return _admission
