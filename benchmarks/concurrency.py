"""`python -m benchmarks.concurrency`: a classroom of long uploads at once, and the server's memory during and after.

    python -m benchmarks.concurrency [--sessions 16] [--minutes 10] [--settle 60] [--timeout 1500] [--out FILE.json]

Starts `streamlit run app.py` on 127.0.0.1 only (`benchmarks.harness.app_server`), lets one visitor classify a
30-s clip (torch and the default model loaded: the level a served app idles at), then drives `sessions` browser
sessions at once (`harness.concurrent_sessions`), each uploading a different `minutes`-long MP3 made here at run
time with ffmpeg from GTZAN clips (or the shipped examples where the dataset is absent; nothing is kept). The
files differ only in a short ID3 tag, so each is decoded and classified on its own (the app's caches key on the
bytes). Reported: errors, answers checked against `mgc.classify` of the same bytes, the peak resident memory of
the server and its children (ffmpeg decoders) sampled every 0.2 s, the server's own peak (VmHWM), and its RSS
every 5 s for `settle` seconds after the last session closed. The budget is issue 28's: the hosted page's
~690 MB plus the models' own memory (the served level minus the idle level). Every wait is bounded (the
harness's per-step timeout, `--timeout` for the whole run), and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.harness import (
    RENDERED,
    WAIT_MS,
    answer_or_error,
    app_server,
    browser_ready,
    concurrent_sessions,
    launch,
    painted,
    rss_mb,
    run_async,
    settle,
)

HOSTED_MB = 690.0
"""The hosted page's memory (issue 28)."""


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants now, in MB (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):  # it ended meanwhile
            total += rss_mb(current)
        todo.extend(children.get(current, []))
    return total


def rss_parts_mb(pid: int) -> dict[str, float]:
    """The server's resident memory by kind (Linux /proc): `anon` (the heaps: Python, numpy, torch, and what the
    allocator keeps) and `file` (pages of mapped files: libraries and weights, which the kernel may drop)."""
    return {kind: rss_mb(pid, f"Rss{kind.capitalize()}") for kind in ("anon", "file")}


def cache_mb(url: str) -> dict[str, float]:
    """What Streamlit's caches hold, in MB, from its `/_stcore/metrics` (cache_memory_bytes): by cache type
    (st_cache_data, st_cache_resource, st_session_state, media and uploads) with the largest functions named;
    {} where the server does not say."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30) as answer:
            text = answer.read().decode(errors="replace")
    except OSError:
        return {}
    held: dict[str, float] = {}
    for line in text.splitlines():
        found = re.match(r'cache_memory_bytes\{cache_type="([^"]*)"(?:,cache="([^"]*)")?\} (\S+)', line)
        if found:
            kind, name, size = found.group(1), found.group(2), float(found.group(3)) / 2**20
            held[kind] = held.get(kind, 0.0) + size
            if name and size >= 1.0:
                key = f"{kind}:{name.rsplit('.', 1)[-1]}"
                held[key] = held.get(key, 0.0) + size
    return held


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far, with those of the children it has waited for (ffmpeg)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core, not idle or waiting for the disk), from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class PeakSampler:
    """The largest `tree_rss_mb(pid)` seen, sampled every `every` seconds on a thread until stopped, and the
    largest of each `span` seconds (`spans`: seconds since the start, MB), to say when the peak came."""

    def __init__(self, pid: int, every: float = 0.2, span: float = 10.0):
        self.pid, self.every, self.span, self.peak = pid, every, span, 0.0
        self.spans: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.perf_counter()
        while not self._stop.is_set():
            now = tree_rss_mb(self.pid)
            self.peak = max(self.peak, now)
            at = (time.perf_counter() - started) // self.span * self.span
            if not self.spans or self.spans[-1][0] != at:
                self.spans.append((at, now))
            else:
                self.spans[-1] = (at, max(self.spans[-1][1], now))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(5)


def music_sources(count: int) -> list[Path]:
    """Up to `count` music files: GTZAN clips of every genre in turn, else the shipped examples."""
    from mgc.data.gtzan import default_data_dir

    root = default_data_dir()
    clips = sorted((root / "genres_original").glob("*/*.*")) if root is not None else []
    if clips:
        by_genre: dict[str, list[Path]] = {}
        for clip in clips:
            by_genre.setdefault(clip.parent.name, []).append(clip)
        mixed = [clip for group in zip(*by_genre.values()) for clip in group]
        return mixed[:count]
    examples = Path(__file__).resolve().parent.parent / "examples"
    return sorted(p for p in examples.glob("*") if p.suffix in {".ogg", ".mp3", ".flac", ".wav"})[:count]


def long_mp3(folder: Path, minutes: float) -> Path:
    """One `minutes`-long 128-kbit/s MP3 of music, concatenated from `music_sources` by ffmpeg (run-time only)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("needs ffmpeg on the PATH")
    sources = music_sources(40)
    if not sources:
        raise SystemExit("no music to build the upload from (neither the GTZAN folder nor examples/)")
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p.resolve()}'\n" for p in sources))
    out = folder / "long.mp3"
    command = [ffmpeg, "-v", "error", "-nostdin", "-y", "-stream_loop", "-1", "-f", "concat", "-safe", "0"]
    command += ["-i", str(listing), "-t", str(minutes * 60), "-ac", "2", "-ar", "44100", "-b:a", "128k", str(out)]
    subprocess.run(command, check=True, timeout=600)
    return out


def variants(mp3: Path, count: int, folder: Path) -> list[Path]:
    """`count` copies of `mp3` that differ in a short ID3 tag: different bytes (and digests), the same music."""
    music = mp3.read_bytes()
    files = []
    for number in range(count):
        text = f"session {number}".encode()
        frame = b"TIT2" + (len(text) + 1).to_bytes(4, "big") + b"\x00\x00" + b"\x00" + text
        tag = b"ID3\x03\x00\x00" + bytes((len(frame) >> s) & 0x7F for s in (21, 14, 7, 0)) + frame
        path = folder / f"long-{number:02d}.mp3"
        path.write_bytes(tag + music)
        files.append(path)
    return files


async def _upload_together(url: str, files: list[Path]) -> list:
    """One browser session per file: every Classify page opened first, one after another (16 pages loading at once
    on two shared cores timed out in the page load itself, before any upload), then every file uploaded at the same
    moment; each session's shown answer, its seconds from the upload, or the exception that ended it."""
    import asyncio

    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            pages = []
            for _ in files:
                context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                context.set_default_timeout(WAIT_MS)
                page = await context.new_page()
                await page.goto(f"{url}/classify")
                await painted(page, "Classify")
                pages.append(page)

            async def one(page, file: Path) -> dict:
                started = time.perf_counter()
                await page.locator("input[type=file]").set_input_files(file)
                metrics = page.get_by_test_id("stMetric")
                genre = await answer_or_error(page, timeout=WAIT_MS * 3)  # the last in the queue waits for 15
                answered = time.perf_counter() - started
                await page.wait_for_function(RENDERED, timeout=WAIT_MS)
                seconds = time.perf_counter() - started
                confidence = metrics.filter(has_text="Confidence").get_by_test_id("stMetricValue")
                errors = await page.get_by_test_id("stException").count()
                errors += await page.get_by_test_id("stAlertContentError").count()
                answer = {"file": file.name, "genre": (await genre.inner_text()).strip().split(" or ")[0]}
                answer.update(confidence=(await confidence.inner_text()).strip(), seconds=seconds, errors=errors)
                answer["answered_s"] = answered
                await page.context.close()  # the session ends as a visitor's tab closes
                return answer

            return list(await asyncio.gather(*(one(p, f) for p, f in zip(pages, files)), return_exceptions=True))
        finally:
            await browser.close()


def log_summary(log: Path) -> dict:
    """What the server's log says: its lines, and the first few that report a traceback, an error or a warning."""
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    marked = [line for line in lines if re.search(r"Traceback|Error|WARNING|Exception", line)]
    return {"log": str(log), "log_lines": len(lines), "log_problems": len(marked), "log_first_problems": marked[:5]}


def measure(
    sessions: int, minutes: float, settle_s: float, env: dict[str, str] | None = None, log: Path | None = None
) -> dict:
    """The measurement described in the module's docstring, as plain data; the server's output goes to `log`
    (a temporary file without it), summed up in the result (`log_summary`)."""
    if why := browser_ready():
        return {"skipped": why}
    with tempfile.TemporaryDirectory(prefix="mgc-concurrency-") as folder:
        folder = Path(folder)
        log = log or folder / "server.log"
        started = time.perf_counter()
        upload = long_mp3(folder, minutes)
        files = variants(upload, sessions, folder)
        first = folder / "first.mp3"
        subprocess.run(
            [shutil.which("ffmpeg"), "-v", "error", "-nostdin", "-y", "-i", str(upload), "-t", "30", str(first)],
            check=True,
            timeout=120,
        )
        result = {
            "sessions": sessions,
            "upload_mb": upload.stat().st_size / 1e6,
            "upload_minutes": minutes,
            "slots": os.environ.get("MGC_SLOTS") or os.cpu_count(),
            "made_in_s": time.perf_counter() - started,
        }
        with app_server(env=env, log=log) as (url, process, _):
            pid = process.pid
            result["server_rss_mb_idle"] = rss_mb(pid)
            one = concurrent_sessions(url, pid, [first])
            time.sleep(5.0)
            result["server_rss_mb_served"] = rss_mb(pid)
            result["served_rss_parts_mb"] = rss_parts_mb(pid)
            result["served_cache_mb"] = cache_mb(url)
            result["first_errors"] = one["errors"]
            with PeakSampler(pid) as sampler:
                server_cpu, machine_cpu = process_cpu_seconds(pid), machine_cpu_seconds()
                began = time.perf_counter()
                # Not the harness's concurrent_sessions: its check against mgc.classify in this process would decode
                # 16 x 10 minutes here, competing with the server it measures (and it hit the loader's 20-s deadline
                # on the shared machine); the 16 files hold the same music, so the answers are checked against each
                # other.
                answers = run_async(_upload_together(url, files))
                result["wall_s"] = time.perf_counter() - began
                result["cpu_s_server"] = process_cpu_seconds(pid) - server_cpu
                result["cpu_s_machine"] = machine_cpu_seconds() - machine_cpu
            result["cpu_s_available"] = result["wall_s"] * (os.cpu_count() or 1)
            result["peak_mb_server_and_children"] = sampler.peak
            result["peak_mb_by_10_s"] = sampler.spans
            result["peak_mb_server_vmhwm"] = rss_mb(pid, "VmHWM")
            results = [
                {"file": f.name, "error": f"{type(a).__name__}: {a}"} if isinstance(a, BaseException) else a
                for f, a in zip(files, answers)
            ]
            result["failures"] = [r for r in results if r.get("error") or r.get("errors")]
            result["errors"] = len(result["failures"])
            shown = {(r["genre"], r["confidence"]) for r in results if "genre" in r}
            result["answers"] = sorted(f"{genre} {confidence}" for genre, confidence in shown)
            result["all_match"] = len(shown) == 1 and not result["failures"]
            result["seconds_per_session"] = sorted(r["seconds"] for r in results if "seconds" in r)
            result["settle"] = settle(pid, settle_s)
            result["server_rss_mb_after_settle"] = result["settle"][-1][1]
            result["after_rss_parts_mb"] = rss_parts_mb(pid)
            result["after_cache_mb"] = cache_mb(url)
        result.update(log_summary(log))
    models = max(0.0, result["server_rss_mb_served"] - result["server_rss_mb_idle"])
    result["budget_mb"] = HOSTED_MB + models
    result["within_budget"] = result["peak_mb_server_and_children"] <= result["budget_mb"]
    return result


def report(result: dict) -> None:
    if "skipped" in result:
        print(f"skipped: {result['skipped']}")
        return
    print(
        f"{result['sessions']} sessions at once, each a {result['upload_minutes']:g}-minute MP3 "
        f"({result['upload_mb']:.1f} MB), {result['slots']} slots"
    )
    print(f"errors: {result['errors']} (first visitor: {result['first_errors']}); answers match: {result['all_match']}")
    times = result["seconds_per_session"] or [float("nan")]
    print(f"wall: {result['wall_s']:.0f} s; per session {min(times):.0f}–{max(times):.0f} s")
    print(f"shown: {result['answers']}")
    print(
        f"server RSS: idle {result['server_rss_mb_idle']:.0f} MB, served {result['server_rss_mb_served']:.0f} MB, "
        f"peak {result['peak_mb_server_and_children']:.0f} MB with children "
        f"({result['peak_mb_server_vmhwm']:.0f} MB server VmHWM), "
        f"{result['settle'][-1][0]:.0f} s after: {result['server_rss_mb_after_settle']:.0f} MB"
    )
    if "cpu_s_server" in result:
        answered = max(1, len(result["seconds_per_session"]))
        print(
            f"CPU during the sessions: the server {result['cpu_s_server']:.0f} s "
            f"({result['cpu_s_server'] / answered:.0f} s per answered session), everything else (the browser's tabs, "
            f"anything else running) {result['cpu_s_machine'] - result['cpu_s_server']:.0f} s, of "
            f"{result['cpu_s_available']:.0f} s the cores had"
        )
    if "after_rss_parts_mb" in result:
        served, after = result["served_rss_parts_mb"], result["after_rss_parts_mb"]
        print(
            "what the server holds, served → after: "
            + ", ".join(f"{kind} {served[kind]:.0f} → {after[kind]:.0f} MB" for kind in served)
            + "; Streamlit's caches "
            + ", ".join(
                f"{kind} {result['served_cache_mb'].get(kind, 0.0):.1f} → {mb:.1f} MB"
                for kind, mb in sorted(result["after_cache_mb"].items())
            )
        )
    spans = result.get("peak_mb_by_10_s") or [(0.0, float("nan"))]
    at = max(spans, key=lambda span: span[1])[0]
    print(f"the peak came {at:.0f}–{at + 10:.0f} s after the uploads; largest of each minute: ", end="")
    print(
        ", ".join(
            f"{max(mb for t, mb in spans if t // 60 == minute):.0f}" for minute in sorted({t // 60 for t, _ in spans})
        )
    )
    print(f"server log: {result['log_lines']} lines, {result['log_problems']} naming an error or a warning")
    for line in result["log_first_problems"]:
        print(f"  {line[:200]}")
    print(
        f"budget: {HOSTED_MB:.0f} MB + models {result['budget_mb'] - HOSTED_MB:.0f} MB = {result['budget_mb']:.0f} MB: "
        + ("within" if result["within_budget"] else "OVER")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.concurrency", description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds watched after the load")
    parser.add_argument("--timeout", type=int, default=1500, help="seconds for the whole run, then it stops")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON")
    parser.add_argument("--log", type=Path, help="keep the server's output in this file (default: beside --out)")
    args = parser.parse_args(argv)

    def too_long(*_) -> None:
        raise TimeoutError(f"the benchmark ran past --timeout {args.timeout} s and was stopped")

    signal.signal(signal.SIGALRM, too_long)  # the server is stopped on the way out (app_server's finally)
    signal.alarm(args.timeout)
    log = args.log or (args.out.with_suffix(".server.log") if args.out else None)
    result = measure(args.sessions, args.minutes, args.settle, log=log)
    signal.alarm(0)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    report(result)
    return 0 if not result.get("errors") else 1


if __name__ == "__main__":
    raise SystemExit(main())
