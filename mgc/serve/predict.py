"""The `predict` command: classify a file, or every audio file in a folder, into a table and a CSV."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from pathlib import Path

import pandas as pd

from ..data.gtzan import AUDIO_EXTENSIONS, GENRES
from ..errors import AudioError, CheckpointError, MgcError
from .prediction import classify

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""Control characters (ANSI escapes, carriage returns), bidirectional overrides and the surrogates that
stand for undecodable bytes in file names: none may reach a terminal as they are."""
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a CSV cell as a formula (OWASP's list for CSV injection)."""
COLUMNS = (
    "file",
    "answer",
    "genre",
    "confidence",
    "runner_up",
    "verdict",
    "is_music",
    "sounds_like",
    "seconds",
    "error",
    *GENRES,
)
"""The `predict` CSV's columns, in order: every row has them all (a file that failed: its error, the rest empty)."""


def escaped(text: str) -> str:
    """`text` with the bytes that a file name may hold but UTF-8 cannot (Python's surrogate escapes, as `os.walk`
    and `sys.argv` hand them over) written as `\\xe9`: text that any file, terminal or table can hold, and the same
    text for the same name every time (so an interrupted CSV is resumed by it)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte: written as its code
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def file_text(path: Path | str) -> str:
    """A file's path as the `predict` CSV's `file` column writes it (`escaped`)."""
    return escaped(str(path))


def printable(text: str) -> str:
    """`text` with every unprintable character written as its escape (`\\x1b`, `\\u202e`), so that a file
    name cannot move the cursor, recolour or rewrite the terminal, or print as something it is not."""
    return _UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape", "backslashreplace").decode(), text)


def spreadsheet_safe(cell):
    """A text cell that a spreadsheet would run as a formula, prefixed with ' (shown, not run); others as they are."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell


def as_written(cell):
    """The inverse of `spreadsheet_safe` for a cell read back from the CSV."""
    if isinstance(cell, str) and cell.startswith("'") and cell[1:].startswith(_FORMULA_START):
        return cell[1:]
    return cell


def earlier_rows(csv: Path | None, files: list[Path]) -> dict[str, dict]:
    """The rows an earlier, interrupted `predict` into the same CSV has already written for `files`, by file:
    those without an error (a failed file is tried again). None when there is no such CSV, or it is not one
    that `predict` writes."""
    if csv is None or not csv.is_file():
        return {}
    try:
        table = pd.read_csv(csv, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return {}
    if list(table.columns) != list(COLUMNS):
        return {}
    table = table.map(as_written)
    for column in ("confidence", "seconds", *GENRES):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    wanted = {file_text(file) for file in files}
    return {row["file"]: row for row in table.to_dict("records") if row["file"] in wanted and row["error"] == ""}


def _cell(value):
    return spreadsheet_safe(escaped(value)) if isinstance(value, str) else value


def _write_rows(csv: Path, rows: list[dict], mode: str = "w") -> None:
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).map(_cell)
    frame.to_csv(csv, mode=mode, header=mode == "w", index=False)


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
    """One file's row of the `predict` table (an error message instead of a genre for bad input, and for anything
    else that goes wrong with this file: one file never costs the others their rows)."""
    try:
        prediction = classify(file, model=model, split=split)
    except AudioError as error:
        return {"file": file_text(file), "error": escaped(str(error))}
    except CheckpointError:  # the run itself is missing or damaged: every file would say so
        raise
    except Exception as error:  # a bug or a resource, shown against its file: the folder goes on
        return {"file": file_text(file), "error": escaped(f"could not be classified ({type(error).__name__}: {error})")}
    for notice in prediction.notices:  # e.g. only the first 10 minutes were analysed
        print(printable(escaped(f"note: {file.name}: {notice}")), file=sys.stderr)
    top = prediction.top(3)
    return {
        "file": file_text(file),
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
    decoding, drawing and the model release Python's lock, so the cores work side by side. Rows reach the
    CSV as they are done, and a run into a CSV that an interrupted run left behind classifies only the
    files it has no row for (or an error); the finished CSV lists the files in sorted order either way.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm.auto import tqdm

    skipped = []
    if path.is_dir():
        files, skipped = scan_folder(path)
        for entry, why in skipped:
            print(printable(escaped(f"skipped: {entry}: {why}")), file=sys.stderr)
        if not files:
            raise AudioError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {path}")
    else:
        files = [path]
    done = earlier_rows(csv, files)
    to_classify = [file for file in files if file_text(file) not in done]
    if done:
        resuming = (
            f"resuming {csv}: {len(done)} of {len(files)} files are in it; classifying the other {len(to_classify)}"
        )
        print(printable(escaped(f"{resuming} {len(to_classify)}")), file=sys.stderr)
    if csv is not None:
        csv.parent.mkdir(parents=True, exist_ok=True)
        _write_rows(csv, [done[file_text(file)] for file in files if file_text(file) in done])
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(to_classify)))
    if jobs > 1:
        import torch

        torch.set_num_threads(1)
    rows = dict(done)
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(_predict_row, file, model, split) for file in to_classify]
        for future in tqdm(
            as_completed(futures),  # each row reaches the CSV as soon as its file is done, not in file order
            total=len(to_classify),
            desc="classifying",
            unit="file",
            disable=len(to_classify) < 2,
        ):
            row = future.result()
            rows[row["file"]] = row
            if csv is not None:
                _write_rows(csv, [row], mode="a")
    rows = [rows[file_text(file)] for file in files]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["error"] = table["error"].fillna("")
    shown = table[[c for c in ("file", "answer", "confidence", "runner_up", "error") if c in table]].copy()
    shown["file"] = [printable(Path(f).name) for f in shown["file"]]
    shown["error"] = [printable(e) for e in shown["error"]]
    shown["confidence"] = [f"{c:.0%}" if c == c else "" for c in shown["confidence"]]
    print(shown.astype(object).fillna("").to_string(index=False))
    if csv is not None:
        _write_rows(csv, rows)  # in the files' order, whatever order earlier runs left them in
        print(printable(escaped(f"wrote {len(table)} rows to {csv}")))
    if skipped:
        print(f"skipped {len(skipped)} entries that are not readable files (listed above)", file=sys.stderr)
    failed = (table["error"] != "").sum()
    if len(files) == 1 and failed:
        raise MgcError(table["error"].iloc[0])
    return 0
