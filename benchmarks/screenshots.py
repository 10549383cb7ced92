"""Screenshots of every page and tab, at a desktop's, a projector's and a phone's size, with and without the dataset.

    nice -n 19 python -m benchmarks.screenshots --out /tmp/mgc-shots

starts `streamlit run app.py` on a free port (once with the dataset as this checkout finds it, once with `MGC_DATA`
naming a folder that does not exist, as on the hosted page), and saves full-page screenshots of Home, Classify
after a click on the gallery's first example, every tab of Evaluation, Model comparison and Dataset, at 1280×800,
1024×768 and 390×844, to OUT/<data|nodata>/<width>x<height>/<page>-<tab>.png; and the window itself (not the whole
page) a moment after the example's answer appears, to show whether a class sees it without scrolling. Beside
them, problems.txt lists what a script can find on each painted page (`problems`): an exception, something cut
or wider than the screen, a faint caption, statistics jargon or a shell command in the student view, "None" or
"nan" in the text. A person still looks at every picture: colours, overlaps and empty charts are not in that list.

Needs Playwright and Debian's chromium (`benchmarks.harness`). Takes 10–40 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from benchmarks import harness

VIEWPORTS = {"1280x800": (1280, 800), "1024x768": (1024, 768), "390x844": (390, 844)}
"""A desktop, a classroom projector, a phone."""

WAIT_MS = 300_000  # the first classification on a loaded 2-core machine loads torch and musicnn

CUT = """(() => {
  const cut = (e) => e.scrollWidth > e.clientWidth + 1;
  const found = [];
  const main = document.querySelector('[data-testid=stMain]');
  if (cut(main)) found.push(`${main.scrollWidth - main.clientWidth} px wider than the screen`);
  for (const list of document.querySelectorAll('[role=tablist]'))
    if (cut(list)) found.push(`tabs need a scroll arrow: ${list.innerText.replace(/\\s+/g, ' ')}`);
  for (const table of document.querySelectorAll('[data-testid=stTable]')) {
    if (cut(table)) found.push(`a table is cut: ${table.innerText.slice(0, 40)}`);
    for (const cell of table.querySelectorAll('th, td')) if (cut(cell)) found.push(`a cell is cut: ${cell.innerText}`);
  }
  // a tab's panel clips what runs past it without a scroll bar: compare with the window's right edge
  const edge = Math.min(document.documentElement.clientWidth, main.getBoundingClientRect().right);
  const shown = '[data-testid=stTable] table, [data-testid=stMarkdownContainer], [data-testid=stMetric], button, ' +
    '[data-testid=stPlotlyChart], [data-testid=stImage] img';
  for (const e of main.querySelectorAll(shown)) {
    const box = e.getBoundingClientRect();
    if (box.width && box.right > edge + 1 && !e.closest('[role=tablist]'))
      found.push(`runs ${Math.round(box.right - edge)} px past the window's edge: ${e.innerText.slice(0, 40)}`);
  }
  for (const grid of document.querySelectorAll('[data-testid=stDataFrame] .dvn-scroller'))
    if (cut(grid)) found.push(`a table's columns run past its edge: ${grid.scrollWidth - grid.clientWidth} px`);
  for (const text of document.querySelectorAll('button p, [data-testid=stMetricValue] div, [data-testid=stTab] p'))
    if (cut(text)) found.push(`a label is cut: ${text.innerText}`);
  const linear = (c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
  const luminance = (rgb) => rgb.map(linear).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  for (const caption of document.querySelectorAll('[data-testid=stCaptionContainer]')) {
    const style = getComputedStyle(caption);
    const [r, g, b] = style.color.match(/[\\d.]+/g).map(Number);
    const alpha = Number(style.opacity);  // drawn over white: the colour mixed with the page by its opacity
    const seen = [r, g, b].map((c) => alpha * c + (1 - alpha) * 255);
    const ratio = 1.05 / (luminance(seen) + 0.05);
    if (ratio < 7) found.push(`a caption at ${ratio.toFixed(2)}:1: ${caption.innerText.slice(0, 40)}`);
  }
  return found;
})()"""
"""What a visitor could not read on the painted page: content wider than the screen, a table, text, button or chart
running past the window's right edge (inside a tab nothing scrolls: it is clipped), tabs behind a scroll arrow, a
table's cell, columns or a button's or tab's label cut short, a caption under 7:1 (WCAG AAA; Streamlit's own
captions, 4.95:1, wash out on a projector). An open st.dataframe draws its cells on a canvas, so it is checked as a
whole: its columns fit when its scroller does not scroll sideways."""

JARGON = re.compile(
    r"McNemar|\bECE\b|\bPCA\b|principal axis|Wilson|RT60|\bSNR\b|dBFS|python -m|Traceback|\bNone\b|\bnan\b|"
    r"roc_auc|average_precision"
)
"""Words a student should not meet in what the page shows without a click (tooltips and closed expanders are not
in the page's visible text): statistics jargon, shell commands, Python's empty values, raw keys, tracebacks."""


def problems(page) -> list[str]:
    """What is wrong with the painted page that a script can see: an exception shown, something cut (`CUT`), and
    jargon, a shell command or an empty value in the visible text (`JARGON`)."""
    found = [f"an exception is shown: {e.inner_text()[:80]}" for e in page.get_by_test_id("stException").all()]
    found += page.evaluate(CUT)
    text = page.get_by_test_id("stMain").inner_text()
    found += [
        f"visible text says “{m.group(0)}”: …{text[max(0, m.start() - 40) : m.end() + 40]}…"
        for m in JARGON.finditer(text)
    ]
    return [" ".join(problem.split()) for problem in found]


def rendered(page, tab: bool = False) -> None:
    """Until the script has finished and every chart has drawn (`harness.RENDERED`, `harness.TAB_RENDERED`)."""
    page.wait_for_timeout(500)
    page.wait_for_function(harness.TAB_RENDERED if tab else harness.RENDERED, timeout=WAIT_MS)


def full_page(page, path: Path) -> None:
    """The whole page: Streamlit scrolls an inner container, so grow the window to its height first, then back."""
    size = page.viewport_size
    height = size["height"]
    for _ in range(5):  # the height settles once charts and tables have laid out at the new size
        page.wait_for_timeout(1000)
        content = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        if content <= height:
            break
        height = min(content, 12000)
        page.set_viewport_size({"width": size["width"], "height": height})
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path)
    page.set_viewport_size(size)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def shoot_viewport(browser, url: str, folder: Path, size: tuple[int, int], log) -> None:
    """Every page and tab at one window size, then Classify after a click on the gallery's first example."""
    from mgc.data.examples import EXAMPLES

    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, is_mobile=width < 600, has_touch=width < 600
    )
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    try:
        for title, (path, heading) in harness.PAGES.items():
            if title == "Classify":
                continue  # below, with an answer on it
            page.goto(f"{url}/{path}")
            page.get_by_role("heading", name=heading).first.wait_for()
            rendered(page)
            tabs = page.get_by_test_id("stTab")
            names = [tabs.nth(i).inner_text().strip() for i in range(tabs.count())] or [""]
            for index, name in enumerate(names):
                if index:
                    tabs.nth(index).click()
                    rendered(page, tab=True)
                file = folder / f"{slug(title)}{'-' + slug(name) if name else ''}.png"
                log(file, problems(page))
                full_page(page, file)

        page.goto(f"{url}/classify")
        page.get_by_role("heading", name="Classify").first.wait_for()
        rendered(page)
        page.get_by_test_id("stRadio").get_by_text("Try an example", exact=True).click()
        rendered(page)
        full_page(page, folder / "classify-gallery.png")
        first = EXAMPLES[0]
        page.get_by_role("button", name=first.name).click()
        page.get_by_test_id("stMetric").filter(has_text=harness.ANSWER_LABELS).first.wait_for()
        page.wait_for_timeout(1000)  # the answer is scrolled into view within a second of appearing
        page.screenshot(path=folder / f"classify-{first.id}-window.png")
        rendered(page)
        file = folder / f"classify-{first.id}.png"
        log(file, problems(page))
        full_page(page, file)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/mgc-shots"), help="folder for the screenshots")
    parser.add_argument("--data", choices=["data", "nodata", "both"], default="both", help="with the dataset or not")
    parser.add_argument("--viewports", default=",".join(VIEWPORTS), help="comma-separated, of " + ", ".join(VIEWPORTS))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    wanted = [name.strip() for name in args.viewports.split(",")]
    unknown = [name for name in wanted if name not in VIEWPORTS]
    if unknown:
        parser.error(f"unknown viewport {', '.join(unknown)}: choose from {', '.join(VIEWPORTS)}")
    modes = ["data", "nodata"] if args.data == "both" else [args.data]
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / "problems.txt"
    started = time.perf_counter()

    def log(file: Path, found: list[str]) -> None:
        line = f"{file.relative_to(args.out)}: " + ("; ".join(found) if found else "nothing found")
        print(f"[{time.perf_counter() - started:5.0f} s] {line}", flush=True)
        with report.open("a") as out:
            out.write(line + "\n")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(harness.CHROMIUM), args=harness.CHROMIUM_ARGS)
        try:
            for mode in modes:
                env = {} if mode == "data" else {"MGC_DATA": str(args.out / "no-gtzan-here")}
                with harness.app_server(env=env, log=args.out / f"server-{mode}.log") as (url, _, _):
                    for name in wanted:
                        shoot_viewport(browser, url, args.out / mode / name, VIEWPORTS[name], log)
        finally:
            browser.close()
    print(f"screenshots in {args.out}; what a script found: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
