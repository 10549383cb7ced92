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


WAIT_REDRAW_SECONDS = 15.0
"""How often a waiting page redraws its note when its place in the queue has not changed (`redrawn_when_moved`)."""


def redrawn_when_moved(show: Callable[[int, float], None], every: float = WAIT_REDRAW_SECONDS):
    """An `on_wait` that calls `show(ahead, seconds)` only when the place in the queue changed or `every` seconds
    after it last did (the "waited" count): not at every `WAIT_POLL_SECONDS` poll.

    Why: every redraw costs the visitor's browser a layout. Eight headless Chromium tabs, each redrawn every 0.5 s
    while Streamlit's "running" figure turned, used 0.98 of a core (0.26 with no redraw, 0.10 drawn once with that
    figure hidden, 0.05 idle; `python -m benchmarks.waiting_tabs`): 16 such waiting tabs, as
    `python -m benchmarks.concurrency` drives on the server's own two cores, left the server little to classify
    with. A stopped page (its tab closed) still leaves the queue at its next redraw, at most `every` seconds
    later, or when its turn comes."""
    last: tuple[int, float] | None = None  # the place and the waited seconds last shown

    def on_wait(ahead: int, seconds: float) -> None:
        nonlocal last
        if last is None or last[0] != ahead or seconds - last[1] >= every:
            last = (ahead, seconds)
            show(ahead, seconds)

    return on_wait


def default_slots() -> int:
    """`$MGC_SLOTS` where it is a positive whole number, else the number of cores this process may use."""
    wanted = os.environ.get("MGC_SLOTS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


HEAVY_SECONDS = 120.0
"""Audio longer than this is classified holding every slot (`Admission.weight_for`). A 10-minute upload's classification
raised the server's memory by ~320 MB (the decode ~50 MB, musicnn's log-mel of the whole piece ~270 MB; measured
with /proc's peak reset before each step), a 30-s clip's by a twentieth of that: two long ones at once took a
served app from 520 MB to 1,154 MB (`python -m benchmarks.concurrency --sessions 2`). The log-mel is drawn a few
patches at a time since (+55 MB; `python -m benchmarks.request_memory`), but one at a time stays: the cores are not
idle, the model and the gate use every core themselves, so two at once would only hold twice the memory."""


class Admission:
    """At most `slots` held at once, the callers served first come, first served.

    `with admission.slot(on_wait):` waits for a slot; while it waits, `on_wait(ahead, seconds)` is called every
    `WAIT_POLL_SECONDS` with how many callers are before it in the queue and how long it has waited. A caller
    may ask for `weight` slots (at most all of them): a long piece of audio costs several times a short one's
    memory while it is classified (`weight_for`). A thread that holds slots and asks again gets them at once
    (decoding and classifying one upload nest); if it asks for more than it holds, it gives back what it holds
    and waits at the front of the queue for the more, so two threads widening at once cannot wait for each other.
    A caller whose wait ends in an exception (a closed page) leaves the queue.
    """

    def __init__(self, slots: int):
        if slots < 1:
            raise ValueError(f"an admission limit needs at least one slot, not {slots}")
        self.slots = slots
        self._changed = threading.Condition()
        self._busy = 0
        self._queue: deque[object] = deque()
        self._weights: dict[object, int] = {}
        self._held = threading.local()

    @property
    def busy(self) -> int:
        """Slots held now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Callers in the queue now."""
        return len(self._queue)

    def weight_for(self, seconds: float) -> int:
        """Slots a piece of `seconds` holds while it is classified: all of them past `HEAVY_SECONDS`, else one."""
        return self.slots if seconds > HEAVY_SECONDS else 1

    def _ahead(self, ticket: object) -> int | None:
        """Callers before `ticket` in the queue; None when it may go (first in line and its slots are free)."""
        ahead = self._queue.index(ticket)
        return None if ahead == 0 and self._busy + self._weights[ticket] <= self.slots else ahead

    def _acquire(self, weight: int, on_wait, front: bool) -> None:
        ticket, started = object(), time.monotonic()
        with self._changed:
            self._weights[ticket] = weight
            if front:
                self._queue.appendleft(ticket)
            else:
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
                        del self._weights[ticket]
                        self._busy += weight
                        self._changed.notify_all()  # the next in line may be first now
                        return
                if on_wait is not None:  # outside the lock: a page draws here, and may be stopped here
                    on_wait(ahead, time.monotonic() - started)
        except BaseException:
            with self._changed:
                if ticket in self._queue:
                    self._queue.remove(ticket)
                    del self._weights[ticket]
                self._changed.notify_all()
            raise

    def _release(self, count: int) -> None:
        with self._changed:
            self._busy -= count
            self._changed.notify_all()

    @contextmanager
    def slot(self, on_wait: Callable[[int, float], None] | None = None, weight: int = 1) -> Iterator[None]:
        """Hold `weight` slots (1 to `slots`) for the block (see the class)."""
        weight = max(1, min(weight, self.slots))
        held = getattr(self._held, "weight", 0)
        if held >= weight:  # this thread holds enough already
            yield
            return
        if held:  # widen: give back what is held, wait at the front for the more
            self._held.weight = 0
            self._release(held)
        self._acquire(weight, on_wait, front=bool(held))
        self._held.weight = weight
        try:
            yield
        finally:
            now = self._held.weight  # less than `weight` where a nested widening was stopped while it waited
            self._held.weight = min(held, now)  # back to what the outer block holds (none outside any)
            self._release(now - self._held.weight)


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
