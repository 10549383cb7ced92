"""How many loaded models a process keeps: a bounded cache shared by every caller (the app's sessions too)."""

import os
import subprocess
import sys

import pytest

from mgc.data.gtzan import REPO_ROOT
from mgc.runs import checkpoints, is_ensemble, load_model, trained_models


@pytest.mark.parametrize(
    "value, kept",
    [(None, 8), ("3", 3), ("0", 1), ("-2", 1), ("many", 8), ("", 8)],
    ids=["unset", "three", "zero", "negative", "not a number", "empty"],
)
def test_models_kept_reads_mgc_models_kept_and_falls_back_to_eight(monkeypatch, value, kept):
    if value is None:
        monkeypatch.delenv("MGC_MODELS_KEPT", raising=False)
    else:
        monkeypatch.setenv("MGC_MODELS_KEPT", value)
    assert checkpoints.models_kept() == kept


def test_the_cache_of_loaded_models_holds_models_kept():
    assert checkpoints._load_model.cache_info().maxsize == checkpoints.models_kept()


def test_a_process_forgets_the_least_recently_used_model_beyond_the_limit():
    """With MGC_MODELS_KEPT=2 a third model evicts the least recently used one: asked again, it is loaded anew
    (another object), while the one used since is the same object."""
    single = [m for m in trained_models("random") if not is_ensemble(m, "random") and m != "hybrid"][:3]
    if len(single) < 3:
        pytest.skip("fewer than three trained single models in checkpoints/")
    script = (
        "from mgc.runs import load_model\n"
        f"a, b, c = {single!r}\n"
        "first = load_model(a)[0]; second = load_model(b)[0]\n"
        "assert load_model(a)[0] is first\n"  # a used again: b is now the least recently used
        "load_model(c)\n"
        "assert load_model(a)[0] is first\n"
        "assert load_model(b)[0] is not second\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "MGC_MODELS_KEPT": "2"},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_a_loaded_model_is_shared_by_every_caller():
    assert load_model("crnn", "random")[0] is load_model("crnn", "random")[0]
