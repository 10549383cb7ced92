"""`python -m benchmarks.spectrogram_draw`: how long the browser takes to draw a long piece's spectrogram.

    python -m benchmarks.spectrogram_draw [--minutes 10] [--runs 3]

The Classify page's spectrogram (`mgc.charts.picture_figure`) of a `minutes`-long piece (128 bands, one column per
`COLUMN_SECONDS`; random colour indices: a heatmap's cost is its cells, not their values), drawn by plotly.js (the
copy in the plotly package) in headless Chromium: every column, and the columns the chart now draws
(`MAX_DRAWN_COLUMNS`, neighbours averaged). For each: the figure's JSON size and the median of `runs` draws
(`Plotly.newPlot` until it resolves, in the page). Streamlit draws with its own plotly.js; this measures the
same library without the page around it.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

DRAW = """async ([data, layout]) => {
  const div = document.getElementById("chart");
  Plotly.purge(div);
  const started = performance.now();
  await Plotly.newPlot(div, data, layout);
  return performance.now() - started;
}"""


def figures(minutes: float) -> dict[str, object]:
    """The spectrogram figure of a `minutes`-long piece, with every column and as the chart draws it."""
    from mgc import charts

    columns = round(minutes * 60 / charts.COLUMN_SECONDS)
    picture = np.random.default_rng(0).integers(0, 256, size=(128, columns)).astype(np.uint8)
    drawn = charts.picture_figure(picture)
    every = charts.picture_figure(picture)
    every.data[0].update(z=picture.astype(np.float32), x=np.arange(columns) * charts.COLUMN_SECONDS)
    return {f"every column ({columns:,})": every, f"as drawn ({len(drawn.data[0].x):,})": drawn}


def measure(minutes: float, runs: int) -> list[dict]:
    """One row per figure: its JSON size in MB and the median milliseconds of `runs` draws."""
    import json
    from pathlib import Path

    import plotly
    from playwright.sync_api import sync_playwright

    from benchmarks.harness import CHROMIUM, CHROMIUM_ARGS

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_content('<div id="chart" style="width:1300px;height:330px"></div>')
            page.add_script_tag(path=str(plotly_js))
            for name, figure in figures(minutes).items():
                text = figure.to_json()
                spec = json.loads(text)
                times = [page.evaluate(DRAW, [spec["data"], spec["layout"]]) for _ in range(runs)]
                rows.append({"figure": name, "json_mb": len(text) / 1e6, "draw_ms": statistics.median(times)})
        finally:
            browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.spectrogram_draw", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    for row in measure(args.minutes, args.runs):
        print(f"{row['figure']}: {row['json_mb']:.2f} MB of JSON, drawn in {row['draw_ms']:.0f} ms (median)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
