"""`python -m benchmarks.app`: the app's speed and memory in a real browser, on this machine.

    python -m benchmarks.app [--parts app,load,models] [--sessions 8] [--load-sessions 24] [--models all|short]
                             [--out FILE.json]

* **app** — `streamlit run app.py` to a healthy server; each page opened in a new browser session (with an empty
  browser cache and with the app's code cached) and page switches within one — when its heading shows and when it
  is complete (`harness.RENDERED`); every tab of every page; the server's memory (RSS) after each; then `sessions`
  browser sessions at once, each uploading a different clip, checked against `mgc.classify` of the same file.
* **load** — memory under load and after it, on a server of its own: idle, after one visitor, the peak while
  `load_sessions` sessions upload at once, and its RSS every 5 s for a minute after they closed.
* **models** — one session trying every model of the random split on one upload (`--models short`: only the short
  picker's, as a class sees them, without turning on "All models"): the server's RSS after each, its peak, and a
  minute after.

Needs Playwright and Debian's chromium (`/usr/bin/chromium`); a part says why it is skipped where they are
missing. Nothing here is a test: the figures depend on the machine (docs/performance.md quotes them). The speed
of the library itself is `python -m mgc bench`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.harness import (
    ANSWER_LABELS,
    PAGES,
    RENDERED,
    TAB_RENDERED,
    WAIT_MS,
    app_server,
    browser_ready,
    choose,
    concurrent_sessions,
    launch,
    painted,
    rss_mb,
    run_async,
    session_files,
    settle,
)
from mgc.bench import machine, print_table, write_results

PARTS = ("app", "load", "models")


async def _app_pages(url: str, pid: int) -> dict:
    from playwright.async_api import async_playwright

    first_paint, switches, tab_switches = {}, {}, {}
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        returning = await browser.new_context()  # one browser profile: its HTTP cache holds the app's code
        for title, (path, heading) in PAGES.items():  # each page first in a session of its own
            context = await browser.new_context()  # an empty cache: a first-ever visit
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(f"{url}/{path}")
            first_paint[title] = await painted(page, heading, started)
            await context.close()
            page = await returning.new_page()  # a new tab is a new session too
            started = time.perf_counter()
            await page.goto(f"{url}/{path}")
            first_paint[title]["cached_complete_s"] = (await painted(page, heading, started))["complete_s"]
            first_paint[title]["server_rss_mb"] = rss_mb(pid)
            await page.close()
        await returning.close()
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(url)
        await painted(page, PAGES["Home"][1])
        for title, (_, heading) in [*list(PAGES.items())[1:], ("Home", PAGES["Home"])]:
            started = time.perf_counter()
            await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            switches[title] = {**await painted(page, heading, started), "server_rss_mb": rss_mb(pid)}
        for title, (_, heading) in PAGES.items():  # then every tab of every page, in the same session
            await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            await painted(page, heading)
            tabs = page.get_by_test_id("stTab")
            for index in range(1, await tabs.count()):
                name = (await tabs.nth(index).inner_text()).strip()
                started = time.perf_counter()
                await tabs.nth(index).click()
                await page.wait_for_function(TAB_RENDERED, timeout=WAIT_MS)
                tab_switches[f"{title} › {name}"] = time.perf_counter() - started
        await context.close()
        await browser.close()
    return {"first_paint": first_paint, "page_switch": switches, "tab_switch": tab_switches}


def app(sessions: int) -> dict:
    """Server start-up, page paints and switches, memory, and concurrent sessions."""
    if why := browser_ready():
        return {"skipped": why}
    with app_server() as (url, process, healthy), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        result = {"healthy_s": healthy, "server_rss_mb_idle": rss_mb(process.pid)}
        result.update(run_async(_app_pages(url, process.pid)))
        files = session_files(Path(folder), sessions + 1)
        first = concurrent_sessions(url, process.pid, files[:1])  # one visitor: loads torch and the model
        result["one_session"] = {k: first[k] for k in ("wall_s", "server_rss_mb_after", "all_match")}
        result["concurrent"] = concurrent_sessions(url, process.pid, files[1:])
        result["server_rss_mb_peak"] = rss_mb(process.pid, "VmHWM")
    return result


def load_test(sessions: int, settle_s: float = 60.0) -> dict:
    """Memory under load and after it, on a server of its own: its RSS idle (started, no visitor); after one
    session classified (torch and the default model loaded: the level a served app idles at); its peak while
    `sessions` browser sessions upload different clips at once (answers checked, errors counted); and its RSS
    `settle_s` seconds after the last of them closed."""
    if why := browser_ready():
        return {"skipped": why}
    with app_server() as (url, process, _), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        pid = process.pid
        result = {"sessions": sessions, "server_rss_mb_idle": rss_mb(pid)}
        files = session_files(Path(folder), sessions + 1)
        first = concurrent_sessions(url, pid, files[:1])
        time.sleep(5.0)  # the first visitor's session closed, its script done
        result["server_rss_mb_served"] = rss_mb(pid)
        result["first_errors"] = first["errors"]
        load = concurrent_sessions(url, pid, files[1:])
        result["peak_mb"] = rss_mb(pid, "VmHWM")  # the peak since the server started: the load's
        result.update({k: load[k] for k in ("wall_s", "errors", "all_match", "results")})
        result["settle"] = settle(pid, settle_s)
        result["server_rss_mb_settled"] = result["settle"][-1][1]
    return result


async def _every_model(url: str, pid: int, file: Path, models: list[str], expert: bool = True) -> list[dict]:
    from playwright.async_api import async_playwright

    rows = []
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        await page.goto(f"{url}/classify")
        await painted(page, "Classify")
        await page.locator("input[type=file]").set_input_files(file)
        metrics = page.get_by_test_id("stMetric")
        genre = metrics.filter(has_text=ANSWER_LABELS).get_by_test_id("stMetricValue").first
        await genre.wait_for(timeout=WAIT_MS)
        await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        if expert:
            await page.get_by_text("All models", exact=True).click()  # the picker lists the short list until then
            await page.wait_for_timeout(500)
            await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        for model in models:
            started = time.perf_counter()
            await choose(page, "Model", model)
            errors = (
                await page.get_by_test_id("stException").count()
                + await page.get_by_test_id("stAlertContentError").count()
            )
            shown = (await genre.inner_text()).strip().split(" or ")[0] if await genre.count() else ""
            rows.append(
                {
                    "model": model,
                    "genre": shown,
                    "seconds": time.perf_counter() - started,
                    "errors": errors,
                    "server_rss_mb": rss_mb(pid),
                }
            )
        await context.close()
        await browser.close()
    return rows


def short_picker_models(split: str = "random") -> list[str]:
    """The models Classify's short picker offers on `split` (`mgc.explain.words.student_models`, as the page
    chooses them from the trained runs' metrics)."""
    from mgc.errors import MgcError
    from mgc.explain.words import student_models
    from mgc.runs import trained_models
    from mgc.runs.run import resolve

    metrics = {}
    for model in trained_models(split):
        try:
            metrics[(model, split)] = resolve(model, split).metrics()
        except MgcError:
            metrics[(model, split)] = {}
    return student_models(metrics, split)


def every_model(settle_s: float = 60.0, which: str = "all") -> dict:
    """One session, on a server of its own, classifying one upload with every model of the random split in
    turn (the Classify page's model picker; `which="short"`: the short picker's models only, "All models" left
    off): the server's RSS after each, its peak, and `settle_s` seconds after the session closed."""
    from mgc.runs import trained_models

    if why := browser_ready():
        return {"skipped": why}
    if which == "short":
        models = short_picker_models()
    else:
        models = sorted(trained_models("random"), key=lambda m: (m != "crnn", m))
    with app_server() as (url, process, _), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        pid = process.pid
        result = {"server_rss_mb_idle": rss_mb(pid)}
        (file,) = session_files(Path(folder), 1)
        result["models"] = run_async(_every_model(url, pid, file, models, expert=which != "short"))
        result["which"] = which
        result["errors"] = sum(row["errors"] + (row["genre"] == "") for row in result["models"])
        result["peak_mb"] = rss_mb(pid, "VmHWM")
        result["settle"] = settle(pid, settle_s)
        result["server_rss_mb_settled"] = result["settle"][-1][1]
    return result


# ------------------------------------------------------------------------------------------------ report
def _report_app(app_results: dict) -> None:
    if "skipped" in app_results:
        print(f"\n## App\n\nskipped: {app_results['skipped']}")
        return
    print(
        f"\n## App\n\nhealthy server after {app_results['healthy_s']:.1f} s, "
        f"RSS {app_results['server_rss_mb_idle']:.0f} MB"
    )
    print_table(
        "Each page opened in a new session (s): heading shown, page complete (script done, charts "
        "drawn) with an empty browser cache and with the app's code cached; server RSS after (MB)",
        [
            {
                "page": p,
                "heading": v["heading_s"],
                "complete": v["complete_s"],
                "complete, cached": v["cached_complete_s"],
                "server MB": v["server_rss_mb"],
            }
            for p, v in app_results["first_paint"].items()
        ],
    )
    print_table(
        "Page switches within a session (s): heading shown, page complete",
        [
            {"to": p, "heading": v["heading_s"], "complete": v["complete_s"], "server MB": v["server_rss_mb"]}
            for p, v in app_results["page_switch"].items()
        ],
    )
    print_table(
        "Tab switches within a page (s): tab clicked → its content complete",
        [{"tab": t, "complete": v} for t, v in app_results.get("tab_switch", {}).items()],
    )
    one = app_results["one_session"]
    print(
        f"\nOne session uploading an MP3 (the server's first classification): {one['wall_s']:.1f} s, "
        f"server RSS after {one['server_rss_mb_after']:.0f} MB, answer matches mgc.classify: {one['all_match']}"
    )
    concurrent = app_results["concurrent"]
    print_table(
        f"{concurrent['sessions']} sessions at once, each uploading an MP3 "
        f"({concurrent['wall_s']:.1f} s in all; server {concurrent['server_rss_mb_before']:.0f} → "
        f"{concurrent['server_rss_mb_after']:.0f} MB; peak {app_results['server_rss_mb_peak']:.0f} MB)",
        [
            {k: r.get(k) for k in ("file", "genre", "confidence", "expected", "matches", "seconds", "error")}
            for r in concurrent["results"]
        ],
    )


def _report_memory(results: dict) -> None:
    if "load" in results:
        load = results["load"]
        if "skipped" in load:
            print(f"\n## Load\n\nskipped: {load['skipped']}")
        else:
            settled_after = load["settle"][-1][0]
            print(
                f"\n## {load['sessions']} sessions at once, each uploading an MP3 (server memory, MB)\n\n"
                f"idle {load['server_rss_mb_idle']:.0f}; after one visitor {load['server_rss_mb_served']:.0f}; "
                f"peak under load {load['peak_mb']:.0f}; {settled_after:.0f} s after the sessions closed "
                f"{load['server_rss_mb_settled']:.0f} "
                f"({load['server_rss_mb_settled'] - load['server_rss_mb_served']:+.0f} against after one visitor)\n"
                f"errors {load['errors']}, answers equal to mgc.classify: {load['all_match']}, "
                f"{load['wall_s']:.1f} s in all; RSS while settling: "
                + ", ".join(f"{mb:.0f}" for _, mb in load["settle"])
            )
    if "models" in results:
        models = results["models"]
        if "skipped" in models:
            print(f"\n## Every model\n\nskipped: {models['skipped']}")
        else:
            print_table(
                f"One session trying {'the short picker' if models.get('which') == 'short' else 'every model'} on "
                f"one upload (server idle {models['server_rss_mb_idle']:.0f} MB, "
                f"peak {models['peak_mb']:.0f} MB, {models['settle'][-1][0]:.0f} s after it closed "
                f"{models['server_rss_mb_settled']:.0f} MB; errors {models['errors']})",
                [{k: row[k] for k in ("model", "genre", "seconds", "server_rss_mb")} for row in models["models"]],
            )


def report(results: dict) -> None:
    """Print the results of the parts that ran as tables."""
    print(f"benchmarks.app — {results['machine']}")
    if "app" in results:
        _report_app(results["app"])
    _report_memory(results)


def run(
    parts: list[str], sessions: int = 8, load_sessions: int = 24, out: Path | None = None, models: str = "all"
) -> dict:
    """Run the chosen parts (app, load, models), print them and write the JSON file."""
    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    if "app" in parts:
        results["app"] = app(sessions)
    if "load" in parts:
        results["load"] = load_test(load_sessions)
    if "models" in parts:
        results["models"] = every_model(which=models)
    report(results)
    write_results(results, out)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated: " + ", ".join(PARTS))
    parser.add_argument("--sessions", type=int, default=8, help="browser sessions classifying at once (app)")
    parser.add_argument("--load-sessions", type=int, default=24, help="browser sessions classifying at once (load)")
    parser.add_argument(
        "--models", choices=("all", "short"), default="all", help="models: every model, or the short picker's"
    )
    parser.add_argument("--out", type=Path, default=Path("bench-app.json"), help="where to write the figures (JSON)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    if unknown := [p for p in parts if p not in PARTS]:
        parser.error(f"unknown part {', '.join(unknown)}: choose from {', '.join(PARTS)}")
    run(parts, sessions=args.sessions, load_sessions=args.load_sessions, out=args.out, models=args.models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
