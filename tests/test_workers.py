"""The one-thread torch workers (mgc.models.workers) and what runs on them: musicnn's patches, and the gate's
measurements beside them (mgc.serve.prediction.listen) — the same numbers as run in one thread, one after the other."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from mgc.models import workers
from mgc.models.workers import each, submit


def _count_in_new_thread() -> int:
    counts = []
    thread = threading.Thread(target=lambda: counts.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    return counts[0]


def test_workers_run_torch_on_one_thread_and_leave_every_other_threads_count_alone():
    before, new_before = torch.get_num_threads(), _count_in_new_thread()
    pool = workers.workers()
    counts = [f.result() for f in [pool.submit(torch.get_num_threads) for _ in range(4 * workers.worker_count())]]
    assert set(counts) == {1}
    assert torch.get_num_threads() == before
    assert _count_in_new_thread() == new_before  # the app's page threads start with the process's count, not 1


def test_work_handed_out_from_a_worker_runs_there_and_errors_reach_the_caller():
    # a worker that hands out pieces of its own must not wait on a pool it occupies (two levels, every worker busy)
    nested = [submit(lambda k=k: each(lambda i: (k, i, workers.in_worker()), range(3))) for k in range(8)]
    assert [f.result(timeout=60) for f in nested] == [[(k, i, True) for i in range(3)] for k in range(8)]
    with pytest.raises(ZeroDivisionError):
        submit(lambda: 1 / 0).result(timeout=60)
    assert each(lambda i: i * i, range(5)) == [0, 1, 4, 9, 16]  # in order


def _tone_audio(seconds: float = 9.5):
    from mgc.data.audio import Audio

    rate = 22050
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) / 2).astype(np.float32)
    samples += 0.01 * np.random.default_rng(0).standard_normal(len(samples)).astype(np.float32)
    return Audio(samples, rate, seconds, rate, 1)


def test_musicnn_pass_on_the_workers_equals_the_network_run_whole_in_this_thread():
    from mgc.frontends import MUSICNN_INPUT
    from mgc.models.musicnn import load_musicnn
    from mgc.models.musicnn_pass import musicnn_pass

    patches = MUSICNN_INPUT.from_audio(_tone_audio())
    assert len(patches) == 3
    with torch.inference_mode():
        whole = load_musicnn()(torch.from_numpy(patches))
    served = musicnn_pass(patches)
    np.testing.assert_allclose(served.embedding, whole["embedding"].numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(served.taggram, whole["taggram"].numpy(), atol=1e-5, rtol=0)


def test_listen_gives_the_pass_and_the_gate_that_are_made_one_after_the_other():
    from mgc.gate import check
    from mgc.models.musicnn_pass import MUSICNN_PASS
    from mgc.serve.prediction import listen

    audio = _tone_audio()
    the_pass, gate = listen(audio)
    alone = MUSICNN_PASS.from_audio(audio)
    np.testing.assert_allclose(the_pass.embedding, alone.embedding, atol=1e-6, rtol=0)
    expected = check(audio.samples, audio.sample_rate, embeddings=alone.embedding)
    assert gate.measurements == expected.measurements
    assert gate.kind == expected.kind and gate.is_music == expected.is_music
    for name, p in expected.probabilities.items():
        assert gate.probabilities[name] == pytest.approx(p, abs=1e-9)
    given, _ = listen(audio, musicnn=alone)  # a pass made already is read, not made again
    assert given is alone
    assert _count_in_new_thread() == torch.get_num_threads()  # loading the voice detector left the count alone
