"""What a page shows while it waits for a free slot (`mgc.serve.admission`)."""

HIDE_RUNNING = "<style>[data-testid='stStatusWidget'] {display: none}</style>"
"""CSS that hides Streamlit's turning "running" figure (top right) while a page's own progress bar says what
happens: eight waiting headless Chromium tabs used 0.24 of a core with it and ~0.1 without
(`python -m benchmarks.waiting_tabs`). Drawn inside the waiting note's placeholder, it goes when the note does."""
