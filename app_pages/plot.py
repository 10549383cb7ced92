"""How every page shows a chart: in the charts' own style, not Streamlit's theme."""

from __future__ import annotations

import streamlit as st

from mgc import charts


def plot(figure, key: str, where=None) -> None:
    """Show a `mgc.charts` figure in `where` (a column, tab or container; default the page) with the charts' own
    style (`theme=None`: Streamlit's theme would turn their 16-px near-black text into 12.75-px grey) and without
    the mode bar over the title (`charts.PLOTLY_CONFIG`)."""
    (where or st).plotly_chart(figure, theme=None, config=charts.PLOTLY_CONFIG, key=key)
