#!/usr/bin/env python3
"""Each crafted upload of tests/bad_audio.py (`CRAFTED`, then issue 28's `SECOND_ROUND`) through `load_audio`
alone in a fresh Python: wall seconds, the loader's and the largest ffmpeg child's peak memory, and what the
person is told.

    python tools/crafted_uploads.py

The figures of the README's reliability paragraph. The same measurement, with its bounds (30 s, 1 GB),
is `pytest tests/test_bad_input.py -k crafted`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_bad_input import CRAFTED_CORPUS, DECODE_IN_A_FRESH_PROCESS, SECOND  # noqa: E402


def main() -> None:
    print("| crafted upload | bytes | seconds | loader peak, MB | ffmpeg peak, MB | told |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for case in CRAFTED_CORPUS + SECOND:  # the crafted uploads, then issue 28's second round
            path = Path(folder) / case.filename
            path.write_bytes(case.data)
            done = subprocess.run(
                [sys.executable, "-c", DECODE_IN_A_FRESH_PROCESS, str(path)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            seconds, own_kb, child_kb, said = done.stdout.strip().split("\n", 3)
            told = said.split("' ", 1)[-1]  # without the file's name
            print(
                f"| {case.name} | {len(case.data):,} | {float(seconds):.2f} | {int(own_kb) / 1024:.0f} "
                f"| {int(child_kb) / 1024:.0f} | {told[:60]}… |"
            )


if __name__ == "__main__":
    main()
