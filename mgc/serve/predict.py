"""The `predict` command: classify a file, or every audio file in a folder, into a table and a CSV."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.gtzan import AUDIO_EXTENSIONS
from ..errors import AudioError, MgcError
from .prediction import classify

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""Control characters (ANSI escapes, carriage returns), bidirectional overrides and the surrogates that
stand for undecodable bytes in file names: none may reach a terminal as they are."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP's list for CSV injection)."""


def printable(text: str) -> str:
    """`text` with every unprintable character written as its escape (`\\x1b`, `\\u202e`), so that a file
    name cannot move the cursor, recolour or rewrite the terminal, or print as something it is not."""
    return _UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape", "backslashreplace").decode(), text)


def spreadsheet_safe(cell):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' (shown, not run); others as they are."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def scan_folder(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Audio files below `folder` (by extension, sorted), and the audio-named entries that were skipped
    with why: symbolic link loops, broken links, pipes and devices, folders that cannot be read.
    Symbolic links to folders are not followed (they could lead back up)."""
    files, skipped = [], []

    def unreadable(error: OSError) -> None:
        skipped.append((Path(error.filename or folder), f"a folder that cannot be read ({error.strerror})"))

    for root, _, names in os.walk(folder, onerror=unreadable):
        for name in names:
            path = Path(root, name)
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            try:
                mode = path.stat().st_mode
            except OSError as error:
                why = {errno.ELOOP: "a symbolic link loop", errno.ENOENT: "a broken symbolic link"}
                skipped.append((path, why.get(error.errno, f"cannot be read ({error.strerror})")))
                continue
            if stat.S_ISREG(mode):
                files.append(path)
            else:
                skipped.append((path, "not a regular file (a pipe or a device)"))
    return sorted(files), sorted(skipped)


def audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder`, by extension, sorted (see `scan_folder`)."""
    return scan_folder(folder)[0]


def _predict_row(file: Path, model: str, split: str) -> dict:
    """One file's row of the `predict` table (an error message instead of a genre for bad input)."""
    try:
        prediction = classify(file, model=model, split=split)
    except AudioError as error:
        return {"file": str(file), "answer": "", "genre": "", "confidence": np.nan, "error": str(error)}
    for notice in prediction.notices:  # e.g. only the first 10 minutes were analysed
        print(printable(f"note: {file.name}: {notice}"), file=sys.stderr)
    top = prediction.top(3)
    return {
        "file": str(file),
        "answer": prediction.headline,
        "genre": prediction.genre,
        "confidence": prediction.confidence,
        "runner_up": f"{top[1][0]} {top[1][1]:.0%}",
        "verdict": prediction.verdict,
        "is_music": prediction.is_music,
        "sounds_like": prediction.gate.kind if prediction.gate else "",
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

    skipped = []
    if path.is_dir():
        files, skipped = scan_folder(path)
        for entry, why in skipped:
            print(printable(f"skipped: {entry}: {why}"), file=sys.stderr)
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
    shown = table[[c for c in ("file", "answer", "confidence", "runner_up", "error") if c in table]].copy()
    shown["file"] = [printable(Path(f).name) for f in shown["file"]]
    shown["error"] = [printable(e) for e in shown["error"]]
    shown["confidence"] = [f"{c:.0%}" if c == c else "" for c in shown["confidence"]]
    print(shown.fillna("").to_string(index=False))
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        table.map(spreadsheet_safe).to_csv(csv, index=False)
        print(printable(f"wrote {len(table)} rows to {csv}"))
    if skipped:
        print(f"skipped {len(skipped)} entries that are not readable files (listed above)", file=sys.stderr)
    failed = (table["error"] != "").sum()
    if len(files) == 1 and failed:
        raise MgcError(table["error"].iloc[0])
    return 0
