"""Benchmarks that need more than the library: a browser, a Streamlit server, the seed projects' pipeline.

Not part of the installed package; run from the repository root, e.g. `python -m benchmarks.app`. The library's
own speed check is `python -m mgc bench`. Figures and how to read them: docs/performance.md.
"""
