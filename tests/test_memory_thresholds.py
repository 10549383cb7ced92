"""glibc's thresholds fixed by the app (app_pages/memory.py, `fixed_thresholds`): a thread's heap gives its freed
top back, even after big blocks have come and gone (which otherwise raise the thresholds for good)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# In a fresh Python: a 20-MB array freed (glibc would raise its thresholds to 20 and 40 MB), the app's
# thresholds set, then a thread fills its own heap with 60 MB of 100-kB arrays and frees them; the MB still
# resident after a malloc_trim.
KEPT_AFTER_A_THREAD = """
import ctypes, sys, threading
from pathlib import Path
import numpy as np
from app_pages.memory import fixed_thresholds

def rss_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024

big = np.ones(20_000_000 // 8)
del big
assert fixed_thresholds()
before = rss_mb()

def work():
    blocks = [np.ones(100_000 // 8) for _ in range(600)]
    del blocks

thread = threading.Thread(target=work)
thread.start()
thread.join()
ctypes.CDLL("libc.so.6").malloc_trim(0)
print(rss_mb() - before)
"""


def glibc() -> bool:
    import ctypes

    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallopt")
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux") or not glibc(), reason="glibc's mallopt and Linux's /proc")
def test_a_threads_freed_heap_goes_back_after_big_blocks_came_and_went():
    done = subprocess.run(
        [sys.executable, "-c", KEPT_AFTER_A_THREAD], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    kept = float(done.stdout.strip())
    assert kept < 3.0, f"{kept:.1f} MB of the thread's freed 60 MB still resident"  # glibc's own thresholds: ~10+
