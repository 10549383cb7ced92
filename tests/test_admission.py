"""The server-wide admission limit (mgc/serve/admission.py): at most `slots` at once, first come first served,
each waiter told how many are ahead, a cancelled waiter gone from the queue, nested use by one thread free."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from mgc.serve import admission as admission_module
from mgc.serve.admission import Admission, default_slots


def run_together(limit: Admission, count: int, hold: float, on_wait=None) -> tuple[int, list[int]]:
    """`count` threads each holding a slot for `hold` s: the most that held one at once, and the order they got in."""
    inside, most, order, lock = 0, 0, [], threading.Lock()

    def work(number: int) -> None:
        nonlocal inside, most
        with limit.slot(on_wait):
            with lock:
                inside += 1
                most = max(most, inside)
                order.append(number)
            time.sleep(hold)
            with lock:
                inside -= 1

    threads = []
    for number in range(count):
        threads.append(threading.Thread(target=work, args=(number,)))
        threads[-1].start()
        time.sleep(0.02)  # arrive in order
    for thread in threads:
        thread.join(10)
    return most, order


def test_no_more_than_the_slots_run_at_once_and_first_come_is_first_served(monkeypatch):
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    most, order = run_together(Admission(2), 8, hold=0.1)
    assert most == 2
    assert order == list(range(8))


def test_a_waiter_hears_how_many_are_ahead_until_its_turn(monkeypatch):
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    limit, heard, started = Admission(1), [], threading.Event()

    def hold() -> None:
        with limit.slot():
            started.set()
            time.sleep(0.3)

    first = threading.Thread(target=hold)
    first.start()
    started.wait(5)
    second = threading.Thread(target=hold)
    second.start()
    time.sleep(0.05)
    with limit.slot(lambda ahead, seconds: heard.append(ahead)):
        assert limit.busy == 1
    first.join(5)
    second.join(5)
    assert heard and heard[0] == 1 and heard[-1] == 0  # one waiter ahead, then none (next in line)
    assert heard == sorted(heard, reverse=True)


def holding_a_slot(limit: Admission) -> tuple[threading.Thread, threading.Event]:
    """Another visitor holding one of `limit`'s slots until the event is set (then join the thread)."""
    release = threading.Event()

    def hold() -> None:
        with limit.slot():
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    return holder, release


def closed_page(ahead: int, seconds: float) -> None:
    """A waiting page's progress callback once its tab has closed: what a stopped Streamlit script raises inside
    a page's drawing."""
    raise KeyboardInterrupt


def test_a_waiter_that_gives_up_leaves_the_queue(monkeypatch):
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    limit = Admission(1)
    holder, release = holding_a_slot(limit)

    with pytest.raises(KeyboardInterrupt), limit.slot(closed_page):
        pass
    assert limit.waiting == 0
    release.set()
    holder.join(5)
    with limit.slot():  # the queue is not stuck behind the one that left
        assert limit.busy == 1
    assert limit.busy == 0


def test_one_thread_nests_without_waiting_for_itself():
    limit = Admission(1)
    with limit.slot(), limit.slot():
        assert limit.busy == 1
    assert limit.busy == 0


def test_the_default_is_one_slot_per_core_unless_told(monkeypatch):
    monkeypatch.delenv("MGC_SLOTS", raising=False)
    assert default_slots() >= 1
    monkeypatch.setenv("MGC_SLOTS", "3")
    assert default_slots() == 3
    monkeypatch.setenv("MGC_SLOTS", "zero")
    assert default_slots() >= 1


def test_recent_values_are_dropped_on_time_without_a_lookup():
    from mgc.serve.admission import Recent

    kept, made = Recent(entries=2, ttl=0.2, every=0.05), []

    def make(value):
        made.append(value)
        return value

    assert kept.get("a", lambda: make(1)) == 1
    assert kept.get("a", lambda: make(2)) == 1  # kept: not made again
    kept.get("b", lambda: make(3))
    kept.get("c", lambda: make(4))  # past two entries: the oldest goes
    assert len(kept) == 2 and kept.get("b", lambda: make(5)) == 3
    time.sleep(0.5)  # nobody looks: the clock drops them
    assert len(kept) == 0
    assert made == [1, 3, 4]


def test_a_heavy_caller_holds_every_slot_and_light_ones_wait_for_it(monkeypatch):
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    limit, inside, most, lock = Admission(2), [], [0], threading.Lock()

    def work(weight: int, hold: float) -> None:
        with limit.slot(weight=weight):
            with lock:
                inside.append(weight)
                most[0] = max(most[0], sum(inside))
            time.sleep(hold)
            with lock:
                inside.remove(weight)

    heavy = threading.Thread(target=work, args=(2, 0.3))
    heavy.start()
    time.sleep(0.05)
    assert limit.busy == 2
    light = [threading.Thread(target=work, args=(1, 0.1)) for _ in range(3)]
    for thread in light:
        thread.start()
    time.sleep(0.1)
    assert limit.busy == 2 and limit.waiting == 3  # none squeezed in beside the heavy one
    for thread in [heavy, *light]:
        thread.join(5)
    assert most[0] == 2 and limit.busy == 0 and limit.waiting == 0


def test_two_threads_widening_at_once_both_finish(monkeypatch):
    """Decoding holds one slot, classifying a long piece asks for both: two uploads doing this together must not
    each keep one slot waiting for the other's."""
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    limit, both_in, done, most = Admission(2), threading.Barrier(2, timeout=5), [], [0]

    def upload(name: str) -> None:
        with limit.slot():
            both_in.wait()  # each holds one slot now
            with limit.slot(weight=2):
                most[0] = max(most[0], limit.busy)
                time.sleep(0.1)
            assert limit.busy >= 1  # back to its one slot
        done.append(name)

    threads = [threading.Thread(target=upload, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert sorted(done) == ["a", "b"] and most[0] == 2 and limit.busy == 0


def test_a_widening_stopped_while_it_waits_gives_back_nothing_twice(monkeypatch):
    monkeypatch.setattr(admission_module, "WAIT_POLL_SECONDS", 0.02)
    limit = Admission(2)
    holder, release = holding_a_slot(limit)

    with pytest.raises(KeyboardInterrupt), limit.slot(), limit.slot(closed_page, weight=2):
        pass
    assert limit.busy == 1 and limit.waiting == 0  # the holder's slot only
    release.set()
    holder.join(5)
    assert limit.busy == 0


def test_only_long_audio_is_heavy():
    from mgc.serve.admission import HEAVY_SECONDS

    assert Admission(2).weight_for(30.0) == 1
    assert Admission(2).weight_for(600.0) == 2
    assert Admission(4).weight_for(HEAVY_SECONDS + 1) == 4


def test_a_waiting_page_is_redrawn_when_its_place_moves_or_now_and_then_not_at_every_poll():
    """The admission polls every 0.5 s; a waiting tab's browser pays for every redraw (benchmarks.waiting_tabs)."""
    from mgc.serve.admission import redrawn_when_moved

    drawn = []
    on_wait = redrawn_when_moved(lambda ahead, seconds: drawn.append((ahead, seconds)), every=15.0)
    for poll in range(120):  # a minute of polls: 3 ahead for 20 s, 2 ahead for 30 s, then next in line
        seconds = poll / 2
        on_wait(3 if seconds < 20 else 2 if seconds < 50 else 0, seconds)
    assert drawn == [(3, 0.0), (3, 15.0), (2, 20.0), (2, 35.0), (0, 50.0)]


@pytest.mark.parametrize("part", ["concurrency", "app", "load", "models", "seed_style"])
def test_bench_sends_a_moved_part_to_a_module_that_exists_with_options_it_takes(part):
    """`python -m mgc bench --parts concurrency` names the command that measures simultaneous sessions: a module in
    benchmarks/ whose parser accepts every option the message gives."""
    import importlib
    import shlex

    from mgc import MgcError, bench

    with pytest.raises(MgcError, match="run `python -m benchmarks"):
        bench.check_parts([part])
    words = shlex.split(bench.MOVED[part])
    module = importlib.import_module(words[2])
    options = [word for word in words[3:] if word.startswith("--")]
    source = Path(module.__file__).read_text()
    assert all(f'"{option}"' in source for option in options), (part, options)
