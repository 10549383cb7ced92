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


class Recent:
    """A few values by key, each dropped `ttl` seconds after it was last used, by a clock of its own.

    For what a page needs while a person looks at it and not after (an upload's decoded audio: 53 MB for 10
    minutes): Streamlit's caches drop an expired entry only when the next call looks it up, so on a quiet server
    the last uploads stay in memory for their whole ttl. Here a daemon thread drops them on time.
    """

    def __init__(self, entries: int, ttl: float, every: float = 5.0):
        self.entries, self.ttl, self.every = entries, ttl, every
        self._values: dict[object, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key, make: Callable[[], object]):
        """The value kept for `key` (its clock restarts), or `make()`'s, kept (the oldest dropped past `entries`)."""
        with self._lock:
            if key in self._values:
                value = self._values.pop(key)[1]
                self._values[key] = (time.monotonic(), value)
                return value
        value = make()  # outside the lock: decoding takes seconds, other keys need not wait
        with self._lock:
            self._values.pop(key, None)
            self._values[key] = (time.monotonic(), value)
            while len(self._values) > self.entries:
                self._values.pop(next(iter(self._values)))
            if self._sweeper is None:
                self._sweeper = threading.Thread(target=self._sweep, name="mgc-recent", daemon=True)
                self._sweeper.start()
        return value

    def drop_expired(self) -> None:
        """Drop every value unused for `ttl` seconds."""
        now = time.monotonic()
        with self._lock:
            for key in [key for key, (used, _) in self._values.items() if now - used >= self.ttl]:
                del self._values[key]

    def _sweep(self) -> None:
        while True:
            time.sleep(self.every)
            self.drop_expired()


DECODED_KEPT_SECONDS = 60.0
"""How long an upload's decoded audio is kept after the page last used it (a rerun, the taggram): a page that
comes back later decodes it again (a few seconds, within a slot)."""

_decoded: Recent | None = None


def recent_decodes() -> Recent:
    """The process's store of decoded uploads: as many as there are slots, each kept `DECODED_KEPT_SECONDS`."""
    global _decoded
    with _lock:
        if _decoded is None:
            _decoded = Recent(max(2, default_slots()), DECODED_KEPT_SECONDS)
        return _decoded
