"""`python -m benchmarks.waiting_tabs`: what a Streamlit tab that waits costs the browser that shows it.

    python -m benchmarks.waiting_tabs [--tabs 8] [--seconds 20]

`python -m benchmarks.concurrency` drives 16 headless Chromium tabs on the same two cores as the server it
measures, and 15 of them wait in the admission queue most of the time. This serves a one-file Streamlit app
(written to a temporary folder) whose script, for each mode, does what a waiting Classify page does, opens `tabs`
tabs of it and reports the CPU the browser (all Chromium processes, exited children included) used per second of
wall time, in cores, over `seconds`:

- `idle`: the script has finished (the floor);
- `running`: the script sleeps (Streamlit's turning "running" figure in the corner);
- `redrawn`: a progress bar and its text redrawn every 0.5 s while running (the Classify page's waiting note
  until 2026-12-05);
- `hidden`: the progress bar drawn once, the "running" figure hidden (`app_pages.waiting.HIDE_RUNNING`), as the
  page waits now (redrawn only when the queue moves, `mgc.serve.admission.redrawn_when_moved`).

CPU seconds are what the browser used, so the figures hold roughly on a busy machine too, where wall times do not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import browser_ready, free_port, launch, run_async

MODES = ("idle", "running", "redrawn", "hidden")

APP = """
import time
import streamlit as st

mode = st.query_params.get("mode", "idle")
st.title("Waiting")
note = st.empty()
if mode == "running":
    time.sleep(600)
elif mode == "redrawn":
    for step in range(1200):
        note.progress(step % 100 / 100, text=f"Waiting for a free slot — 3 ahead (waited {step / 2:.0f} s)")
        time.sleep(0.5)
elif mode == "hidden":
    with note.container():
        st.markdown(HIDE_RUNNING, unsafe_allow_html=True)
        st.progress(0.3, text="Waiting for a free slot — 3 ahead (waited 0 s)")
    time.sleep(600)
"""


def browser_cpu_seconds() -> float:
    """User + system CPU seconds of every Chromium process now, with the children each has reaped (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"chrom" in command:
            fields = stat.rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / tick
    return total


async def _measure(url: str, tabs: int, seconds: float) -> dict[str, float]:
    from playwright.async_api import async_playwright

    cores = {}
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            for mode in MODES:
                pages = []
                for _ in range(tabs):
                    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = await context.new_page()
                    await page.goto(f"{url}/?mode={mode}")
                    await page.get_by_role("heading", name="Waiting").wait_for(timeout=120_000)
                    pages.append(page)
                await asyncio.sleep(3)  # the pages' loading is not counted
                used, started = browser_cpu_seconds(), time.perf_counter()
                await asyncio.sleep(seconds)
                cores[mode] = (browser_cpu_seconds() - used) / (time.perf_counter() - started)
                for page in pages:
                    await page.context.close()
        finally:
            await browser.close()
    return cores


def measure(tabs: int = 8, seconds: float = 20.0) -> dict[str, float]:
    """Cores the browser used per mode (see the module's docstring)."""
    from app_pages.waiting import HIDE_RUNNING

    if why := browser_ready():
        raise SystemExit(why)
    with tempfile.TemporaryDirectory(prefix="mgc-waiting-tabs-") as folder:
        app = Path(folder) / "app.py"
        app.write_text(f"HIDE_RUNNING = {HIDE_RUNNING!r}\n{APP}")
        port = free_port()
        command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true"]
        command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(8)  # the server starts
            return run_async(_measure(f"http://127.0.0.1:{port}", tabs, seconds))
        finally:
            server.terminate()
            server.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.waiting_tabs", description=__doc__.split("\n")[0])
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    for mode, cores in measure(args.tabs, args.seconds).items():
        print(f"{mode:8s} {args.tabs} tabs: the browser used {cores:.2f} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
