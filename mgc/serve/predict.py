"""The `predict` command: classify a file, or every audio file in a folder, into a table and a CSV."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.gtzan import AUDIO_EXTENSIONS
from ..errors import AudioError, MgcError
from .prediction import classify


def audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder`, by extension, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def _predict_row(file: Path, model: str, split: str) -> dict:
    """One file's row of the `predict` table (an error message instead of a genre for bad input)."""
    try:
        prediction = classify(file, model=model, split=split)
    except AudioError as error:
        return {"file": str(file), "genre": "", "confidence": np.nan, "error": str(error)}
    for notice in prediction.notices:  # e.g. only the first 10 minutes were analysed
        print(f"note: {file.name}: {notice}", file=sys.stderr)
    top = prediction.top(3)
    return {
        "file": str(file),
        "genre": prediction.genre,
        "confidence": prediction.confidence,
        "runner_up": f"{top[1][0]} {top[1][1]:.0%}",
        "seconds": round(prediction.seconds, 1),
        "error": "",
        **prediction.probabilities,
    }


def predict_command(path: Path, model: str, split: str, csv: Path | None, jobs: int | None = None) -> int:
    """Print a table of predictions for a file or a folder; write one CSV row per file to `csv`.

    A folder is classified by `jobs` threads (default: one per CPU), each running torch on one thread:
    decoding, drawing and the model release Python's lock, so the cores work side by side.
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm.auto import tqdm

    if path.is_dir():
        files = audio_files(path)
        if not files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {path}")
    else:
        files = [path]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    if jobs > 1:
        import torch

        torch.set_num_threads(1)
    with ThreadPoolExecutor(jobs) as pool:
        rows = list(
            tqdm(
                pool.map(lambda file: _predict_row(file, model, split), files),
                total=len(files),
                desc="classifying",
                unit="file",
                disable=len(files) < 2,
            )
        )
    table = pd.DataFrame(rows)
    shown = table[[c for c in ("file", "genre", "confidence", "runner_up", "error") if c in table]].copy()
    shown["file"] = [Path(f).name for f in shown["file"]]
    shown["confidence"] = [f"{c:.0%}" if c == c else "" for c in shown["confidence"]]
    print(shown.fillna("").to_string(index=False))
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(csv, index=False)
        print(f"wrote {len(table)} rows to {csv}")
    failed = (table["error"] != "").sum()
    if len(files) == 1 and failed:
        raise MgcError(table["error"].iloc[0])
    return 0
