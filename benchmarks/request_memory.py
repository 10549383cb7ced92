"""`python -m benchmarks.request_memory FILE`: what each step of the Classify page's request costs in memory and time.

    python -m benchmarks.request_memory /tmp/long10.mp3 [--model musicnn-gru]

The steps the page runs for an upload (`app_pages/classify.py`: decode, `serve.prediction.listen` = musicnn's input
and network beside the gate's measurements, then `classify` with both given), one after another in this process,
each after a warm-up on the file's first 30 s (torch, the weights and Silero loaded). For each: wall seconds and
how far the resident memory rose above what was resident before it — at its peak (Linux's VmHWM, reset before
the step through /proc/self/clear_refs) and after it. Linux only.
"""

from __future__ import annotations

import argparse
import gc
import time
from dataclasses import replace
from pathlib import Path


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def _step(name: str, work, rows: list[dict]):
    gc.collect()
    before = _status_mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    started = time.perf_counter()
    out = work()
    rows.append(
        {
            "step": name,
            "seconds": time.perf_counter() - started,
            "peak_mb": _status_mb("VmHWM") - before,
            "after_mb": _status_mb("VmRSS") - before,
        }
    )
    return out


def measure(file: Path, model: str) -> list[dict]:
    """One row per step (see the module's docstring)."""
    import mgc
    from mgc.frontends.musicnn_input import MUSICNN_INPUT
    from mgc.gate import check
    from mgc.gate.measurements import _vad, measure
    from mgc.models.musicnn_pass import MUSICNN_PASS, musicnn_pass

    audio = mgc.load_audio(file)
    head = replace(audio, samples=audio.samples[: audio.sample_rate * 30])
    _vad()
    MUSICNN_PASS.from_audio(head)
    measure(head.samples, head.sample_rate)
    mgc.classify(head, model=model)
    del audio
    rows: list[dict] = []
    audio = _step("decode", lambda: mgc.load_audio(file), rows)
    patches = _step("musicnn's input (log-mel patches)", lambda: MUSICNN_INPUT.from_audio(audio), rows)
    passed = _step("musicnn's network (the workers)", lambda: musicnn_pass(patches), rows)
    measured = _step("the gate's measurements", lambda: measure(audio.samples, audio.sample_rate), rows)
    gate = _step(
        "the gate's verdict",
        lambda: check(audio.samples, audio.sample_rate, embeddings=passed.embedding, measured=measured),
        rows,
    )
    _step(
        f"classify ({model}, pass and gate given)", lambda: mgc.classify(audio, model, gate=gate, musicnn=passed), rows
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.request_memory", description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--model", default="musicnn-gru")
    args = parser.parse_args(argv)
    for row in measure(args.file, args.model):
        peak, after = f"peak +{row['peak_mb']:4.0f} MB", f"after +{row['after_mb']:4.0f} MB"
        print(f"{row['step']:45s} {row['seconds']:6.1f} s   {peak}   {after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
