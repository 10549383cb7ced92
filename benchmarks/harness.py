"""What drives the app in a real browser: a Streamlit server on a free port, headless Chromium through Playwright,
Streamlit's "painted" markers, and browser sessions uploading at once. Used by `python -m benchmarks.app` and by
the browser tests (`tests/test_browser.py`); not part of the installed package.

Needs Playwright (requirements-dev.txt) and Debian's chromium at `/usr/bin/chromium`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from mgc.bench import download_mp3, music_clips, page_default_model  # the page's measured default, one rule
from mgc.data.gtzan import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PAGES = {
    "Home": ("", "Which genre is this music?"),
    "Classify": ("classify", "Classify"),
    "Evaluation": ("evaluation", "Evaluation"),
    "Model comparison": ("model_comparison", "Model comparison"),
    "Dataset": ("dataset", "Dataset"),
}
"""Page title → (URL path, the heading that shows it has painted)."""


WAIT_MS = 180_000
"""The longest a browser waits for one step: the first classification on 2 cores loads torch and the models."""


ANSWER_LABELS = re.compile("Top genre|Closest genre|Not sure")
"""The labels of the Classify page's answer: a genre, the genre closest to what is not music, or "X or Y"."""


RENDERED = (
    "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
    " && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')"
    " && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(c => c.querySelector('.main-svg'))"
)
"""Painted: the page's script has finished (Streamlit's own marker on stApp), no element is left over from
the previous run (stale), no element is still loading its code (skeleton), and every plotly chart has
drawn. Wait for something of the new page first (its heading): just after a click the old page is still
there, and finished."""


TAB_RENDERED = (
    f"document.querySelector('[role=tabpanel] [data-testid=stElementContainer]:not([data-stale=true])') && {RENDERED}"
)
"""A tab opened (the pages' tabs are lazy: a click reruns the script, which fills the open tab) and painted."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(timeout: float = 90.0, env: dict[str, str] | None = None, log: Path | None = None):
    """`streamlit run app.py` on a free local port: yields (url, process, seconds until healthy). `env`:
    variables added to this process's environment for the server (e.g. `MGC_MODELS_KEPT`). The server's
    output goes to the file `log` (a temporary file without it), never to a pipe: a pipe that nobody reads
    fills at 64 kB and then stops the server at its next log line."""
    port = free_port()
    started = time.perf_counter()
    output = open(log, "wb") if log is not None else tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as health:
                if health.read().strip() == b"ok":
                    break
            if process.poll() is not None or time.perf_counter() - started > timeout:
                process.kill()
                output.seek(0)
                said = output.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"streamlit did not start:\n{said}")
            time.sleep(0.05)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        output.close()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process now (`VmRSS`) or at its peak (`VmHWM`), from Linux's /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settle(pid: int, seconds: float, every: float = 5.0) -> list[tuple[float, float]]:
    """Wait `seconds` with nobody on the server: (seconds since, RSS in MB) every `every` seconds."""
    started = time.perf_counter()
    samples = [(0.0, rss_mb(pid))]
    while (elapsed := time.perf_counter() - started) < seconds:
        time.sleep(min(every, seconds - elapsed))
        samples.append((time.perf_counter() - started, rss_mb(pid)))
    return samples


def browser_ready() -> str | None:
    """Why the browser parts cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401  (only to say early when it is missing)
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def run_async(coroutine):
    """Run a coroutine to its end in a thread of its own: the caller may already be inside an event loop
    (Playwright's sync API, as the browser tests use it, runs one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def launch(playwright, extra_args=()):
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + list(extra_args)
    )


async def painted(page, heading: str, started: float | None = None) -> dict:
    """Wait for the page's heading, then for the page to be complete (RENDERED); seconds since `started`."""
    await page.get_by_role("heading", name=heading).first.wait_for(timeout=WAIT_MS)
    shown = time.perf_counter()
    await page.wait_for_function(RENDERED, timeout=WAIT_MS)
    done = time.perf_counter()
    return {} if started is None else {"heading_s": shown - started, "complete_s": done - started}


async def choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`, and wait for the page's rerun to finish."""
    await page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    await page.get_by_role("option", name=option, exact=True).click()
    await page.wait_for_timeout(500)  # the rerun has started (its elements turn stale)
    await page.wait_for_function(RENDERED, timeout=WAIT_MS)


class PageError(Exception):
    """The page showed an error box (or Streamlit's exception box) where an answer was awaited."""


async def answer_or_error(page, timeout: float = WAIT_MS):
    """Wait for Classify's answer (the genre metric) or an error box, whichever comes first; return the genre's
    locator, or raise `PageError` with the box's text. Waiting for the answer alone turned a refusal shown at once
    (the loader's decode deadline) into a timeout minutes later that did not say what the page said."""
    genre = page.get_by_test_id("stMetric").filter(has_text=ANSWER_LABELS).get_by_test_id("stMetricValue").first
    failed = page.get_by_test_id("stException").or_(page.get_by_test_id("stAlertContentError"))
    await genre.or_(failed).first.wait_for(timeout=timeout)
    if await failed.count():
        raise PageError(" | ".join(" ".join(text.split()) for text in await failed.all_inner_texts())[:500])
    return genre


async def _classify_in_browser(browser, url: str, file: Path) -> dict:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)  # many sessions at once on 2 cores: a page may take a while to load
    try:
        page = await context.new_page()
        await page.goto(f"{url}/classify")
        await painted(page, "Classify")
        started = time.perf_counter()
        await page.locator("input[type=file]").set_input_files(file)
        metrics = page.get_by_test_id("stMetric")
        genre = await answer_or_error(page)
        await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        seconds = time.perf_counter() - started
        confidence = metrics.filter(has_text="Confidence").get_by_test_id("stMetricValue")
        errors = (
            await page.get_by_test_id("stException").count() + await page.get_by_test_id("stAlertContentError").count()
        )
        return {
            "file": file.name,
            "genre": (await genre.inner_text()).strip().split(" or ")[0],
            "confidence": (await confidence.inner_text()).strip(),
            "seconds": seconds,
            "errors": errors,
        }
    finally:
        await context.close()


async def _sessions(url: str, files: list[Path]) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            return list(
                await asyncio.gather(*(_classify_in_browser(browser, url, f) for f in files), return_exceptions=True)
            )
        finally:
            await browser.close()


def concurrent_sessions(url: str, pid: int, files: list[Path]) -> dict:
    """One browser session per file, all at once, each uploading its file on Classify; every answer is
    checked against `mgc.classify` of the same bytes with the page's default model (`page_default_model`)."""
    from mgc.serve import classify

    model = page_default_model()

    before = rss_mb(pid)
    started = time.perf_counter()
    answers = run_async(_sessions(url, files))
    wall = time.perf_counter() - started
    results = []
    for file, answer in zip(files, answers):
        expected = classify(file.read_bytes(), model=model)
        if isinstance(answer, BaseException):
            results.append({"file": file.name, "error": f"{type(answer).__name__}: {answer}", "matches": False})
            continue
        answer["expected"] = f"{expected.genre} {expected.confidence:.0%}"
        answer["matches"] = (answer["genre"], answer["confidence"]) == (expected.genre, f"{expected.confidence:.0%}")
        results.append(answer)
    return {
        "sessions": len(files),
        "wall_s": wall,
        "server_rss_mb_before": before,
        "server_rss_mb_after": rss_mb(pid),
        "all_match": all(r["matches"] for r in results),
        "errors": sum(1 for r in results if r.get("error") or r.get("errors")),
        "results": results,
    }


def session_files(folder: Path, count: int, seconds: float = 15.0) -> list[Path]:
    """`count` different MP3s of music (different genres when the dataset is here) written to `folder`."""
    files = []
    for name, samples in music_clips(count, seconds):
        path = folder / f"{name}.mp3"
        path.write_bytes(download_mp3(samples))
        files.append(path)
    return files
