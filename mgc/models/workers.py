"""Worker threads that each run torch on one thread: how one request uses the machine's cores.

torch splits each operation over its OpenMP threads, which wait for one another at the end of every operation.
When another program (or another visitor's request) takes a core, one of them is descheduled and the others spin
until it comes back, at every operation. Measured on this project's 2-core machine with other work running (load
≈ 20; one script timing both ways in turn, six times): musicnn's network over a 30-s clip's ten patches took 11.8 s
with two OpenMP threads, 4.7 s as five pieces on two one-thread workers (CPU time 2.6 s against 1.2 s: the rest was
spinning); Silero VAD, the gate's voice detector, 7.8 s against 0.47 s.

So the pieces of one request — musicnn's patches (`mgc.models.musicnn_pass`), the gate's measurements, the mel
picture, the model (`mgc.serve.prediction.classify`, `listen`) — go to these workers instead, one thread of torch
each, side by side where they do not need each other, and the operating system shares the cores among them
without any spinning. The answers do not change (to float rounding: tests/test_workers.py compares them).

`workers()` starts them on first use, one per core this process may run on. `submit` and `each` run the work
in the calling thread instead when it is a worker already, so a piece of work that hands out pieces of its own
can never wait on itself.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_LOCAL = threading.local()


def worker_count() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _one_torch_thread() -> None:
    import torch

    torch.get_num_threads()  # this thread's count is set from the process's on first use: make that happen now,
    torch.set_num_threads(1)  # so that this thread keeps 1 when `workers` puts the process's count back
    _LOCAL.worker = True


def in_worker() -> bool:
    """Whether the calling thread is one of the workers."""
    return getattr(_LOCAL, "worker", False)


def workers() -> ThreadPoolExecutor:
    """The process's workers (started on first use): `worker_count()` threads, one torch thread each."""
    global _POOL
    with _LOCK:
        if _POOL is None:
            import torch

            before = torch.get_num_threads()
            count = worker_count()
            pool = ThreadPoolExecutor(count, thread_name_prefix="mgc-worker", initializer=_one_torch_thread)
            started = threading.Barrier(count)
            list(pool.map(lambda _: started.wait(), range(count)))  # every worker running, its count set to 1
            # A worker's torch.set_num_threads(1) also set the count that threads started later begin with (the
            # app's page threads): put the process's back, from a thread of its own so no worker's changes.
            restore = threading.Thread(target=torch.set_num_threads, args=(before,))
            restore.start()
            restore.join()
            _POOL = pool
        return _POOL


def submit(function: Callable[..., Any], *args, **kwargs) -> Future:
    """`function(*args, **kwargs)` on a worker (at once in this thread when it is a worker): its Future."""
    if not in_worker():
        return workers().submit(function, *args, **kwargs)
    future: Future = Future()
    try:
        future.set_result(function(*args, **kwargs))
    except BaseException as error:  # handed to whoever asks for the result, as the pool would
        future.set_exception(error)
    return future


def each(function: Callable[[Any], Any], items: Iterable) -> list:
    """`[function(item) for item in items]`, the items shared among the workers (in this thread when it is one)."""
    if in_worker():
        return [function(item) for item in items]
    return list(workers().map(function, items))
