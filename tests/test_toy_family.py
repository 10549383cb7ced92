"""A new model family that reads a new input, added the way docs/architecture.md says — and nothing more.

In a copy of the package the test takes exactly the steps of the page's "A new family that reads a new input": a
front end (a toy input: each 50-ms frame's loudness and zero-crossing rate, a second at a time), the network, one
line of the family registry, the recipe with its trainer (and its line in `mgc.train.TRAINERS`), and one row of the
run table. Then, in a fresh Python on the copy, the toy run is trained and evaluated through the CLI on a tiny
synthetic folder, classifies a clip through `mgc.classify`, and every consumer of the table knows it: the CLI's
choices and the zoo, the ensembles' default members, the words for students, the short picker, the results report
— and the run table's own tests (every consumer knows every row; no run name written outside the table) pass on
the copy. The page's paragraph names the files the steps touch; the test fails when the two differ.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NAME = "toy"
"""The toy run's and family's name."""

FRONT_END = '''"""A toy input: each 50-ms frame's loudness (dB) and zero-crossing rate, 20 frames at a time."""

from __future__ import annotations

import numpy as np

from .audio_mel import AudioFrontEnd

FRAME = 1102  # samples of 22050-Hz audio: 50 ms
WINDOW = 20  # frames: 1 s
SECONDS = WINDOW * FRAME / 22050


class ToyLoudness(AudioFrontEnd):
    """float32 (2, frames): loudness and zero-crossing rate per frame; short audio is repeated to one window."""

    version = "toy-loudness-v1"
    kind = "loudness"
    reads = "how loud the sound is and how often it crosses zero, every 50 ms, a second at a time"
    reads_short = "its loudness, a second at a time"

    def from_audio(self, audio) -> np.ndarray:
        samples = np.asarray(audio.samples, dtype=np.float32)
        frames = max(len(samples) // FRAME, WINDOW)
        framed = np.resize(samples, frames * FRAME).reshape(frames, FRAME)
        loudness = 10 * np.log10((framed**2).mean(axis=1) + 1e-10)
        crossings = (np.signbit(framed[:, 1:]) != np.signbit(framed[:, :-1])).mean(axis=1)
        return np.stack([loudness, crossings]).astype(np.float32)

    def batches(self, model_input: np.ndarray):
        import torch

        count = model_input.shape[1] // WINDOW
        windows = model_input[:, : count * WINDOW].reshape(2, count, WINDOW).transpose(1, 0, 2)
        yield (torch.from_numpy(np.ascontiguousarray(windows)),)

    def window_times(self, model_input: np.ndarray, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        starts = np.arange(model_input.shape[1] // WINDOW) * SECONDS
        return starts, np.minimum(starts + SECONDS, seconds)


TOY_INPUT = ToyLoudness()
'''

NETWORK = '''"""A toy network: the mean and spread of each row of its input over a window, through one hidden layer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ToyConfig:
    rows: int = 2
    hidden: int = 16
    classes: int = 10


class Toy(nn.Module):
    """Windows (batch, rows, frames) → {"logits", "embedding"}; standardises its rows inside (`mean`, `scale`)."""

    Config = ToyConfig

    def __init__(self, config: ToyConfig | None = None):
        super().__init__()
        self.config = config or ToyConfig()
        c = self.config
        self.register_buffer("mean", torch.zeros(c.rows))
        self.register_buffer("scale", torch.ones(c.rows))
        self.hidden = nn.Sequential(nn.Linear(2 * c.rows, c.hidden), nn.ReLU())
        self.head = nn.Linear(c.hidden, c.classes)

    def forward(self, windows: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (windows - self.mean[:, None]) / self.scale[:, None]
        embedding = self.hidden(torch.cat([x.mean(dim=2), x.std(dim=2)], dim=1))
        return {"logits": self.head(embedding), "embedding": embedding}
'''

RECIPE = '''"""The toy family's recipe: each one-second window of a train clip is an example with the clip's genre."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..data.gtzan import GTZAN, labels_of
from ..models import build_model, family
from .common import tracks_with_audio, validate_per_track, validation_scores
from .loop import Job, MinibatchRecipe, fit


@dataclass
class ToyTrainConfig:
    epochs: int = 30
    lr: float = 1e-2
    batch_size: int = 16
    patience: int = 10
    seed: int = 0


class WindowsRecipe(MinibatchRecipe):
    """Shuffled mini-batches of the train clips' windows; validated as a clip is answered (its windows' mean)."""

    def __init__(self, name, frontend, train, valid, config: ToyTrainConfig):
        super().__init__()
        self.name, self.frontend, self.config = name, frontend, config
        examples = [(w, label) for x, label in zip(*train) for (batch,) in frontend.batches(x) for w in batch]
        self.windows = torch.stack([w for w, _ in examples])
        self.labels = torch.tensor([int(label) for _, label in examples])
        self.valid_inputs, self.valid_labels = valid
        self.epochs, self.patience, self.batch_size = config.epochs, config.patience, config.batch_size
        self.generator = torch.Generator().manual_seed(config.seed)

    def build(self):
        model = build_model(self.name)
        model.mean.copy_(self.windows.mean(dim=(0, 2)))
        model.scale.copy_(self.windows.std(dim=(0, 2)) + 1e-6)
        return model

    def optimiser(self, model):
        return torch.optim.Adam(model.parameters(), lr=self.config.lr)

    def logits(self, model, batch):
        return model(self.windows[batch])["logits"]

    def validate(self, model, device):
        probabilities = validate_per_track(model, self.frontend, self.valid_inputs, device)
        return validation_scores(probabilities, self.valid_labels)


def train_toy(name: str, split: str, config: ToyTrainConfig | None = None, **job) -> Path:
    """Train run `name` of the toy family on `split` from the clips that have audio; returns its run folder."""
    job = Job(name, split, **job)
    config = job.config(config or ToyTrainConfig())
    frontend = family(name).frontend
    dataset = GTZAN(job.data)
    parts = dataset.split(split)
    examples = {}
    for part in ("train", "valid"):
        tracks, inputs = zip(*tracks_with_audio(dataset, frontend, parts.part(part), f"reading audio, {part}"))
        examples[part] = (list(inputs), labels_of(tracks))
    recipe = WindowsRecipe(name, frontend, examples["train"], examples["valid"], config)
    fitted = fit(recipe, job.device, seed=config.seed)
    return job.save(name, fitted, asdict(config), train_seconds=fitted.seconds, train_tracks=len(tracks))
'''

TRAINER = "loudness-windows"
"""The toy recipe's name in `mgc.train.TRAINERS` (a trainer is named for how it trains, not after a run)."""
ROW = f'''    Row(
        "{NAME}",
        "{NAME}",
        "A toy: how loud the sound is, a second at a time.",
        zoo=True,
        candidate=True,
        picker=9,
    ),
'''


def insert(path: Path, text: str, *, before: str = "", after: str = "") -> None:
    """`text` inserted in `path` just before the first `before`, or just after the first `after`."""
    source = path.read_text(encoding="utf-8")
    anchor = before or after
    assert anchor in source, f"{path}: {anchor!r} not found"
    path.write_text(source.replace(anchor, text + anchor if before else anchor + text, 1), encoding="utf-8")


def add_toy_family(root: Path) -> set[str]:
    """The steps of docs/architecture.md, taken in the copy of the package at `root`; the files they touch."""
    (root / "mgc/frontends/toy_loudness.py").write_text(FRONT_END, encoding="utf-8")
    (root / "mgc/models/toy.py").write_text(NETWORK, encoding="utf-8")
    registry = root / "mgc/models/__init__.py"
    insert(
        registry, "from ..frontends.toy_loudness import TOY_INPUT\nfrom .toy import Toy\n", before="from .cnn import"
    )
    insert(registry, f'        Family("{NAME}", Toy, TOY_INPUT, "{TRAINER}"),\n', after="    for family in (\n")
    (root / "mgc/train/toy.py").write_text(RECIPE, encoding="utf-8")
    trainers = root / "mgc/train/__init__.py"
    insert(trainers, "from .toy import train_toy\n", before="from .tabular import")
    insert(trainers, f'    "{TRAINER}": train_toy,\n', after="TRAINERS = {\n")
    insert(root / "mgc/runs/table.py", ROW, before='    _ensemble("sum"')  # the ensembles last: built from the rest
    return TOUCHED


TOUCHED = {
    "mgc/frontends/toy_loudness.py",
    "mgc/models/toy.py",
    "mgc/models/__init__.py",
    "mgc/train/toy.py",
    "mgc/train/__init__.py",
    "mgc/runs/table.py",
}
"""The files the steps write or change."""


def architecture_steps() -> set[str]:
    """The files docs/architecture.md's "A new family that reads a new input" names, placeholders as the toy's."""
    page = (REPO / "docs/architecture.md").read_text(encoding="utf-8")
    section = page.split("**A new family that reads a new input**", 1)[1].split("\n\nThen ", 1)[0]
    named = set(re.findall(r"`(mgc/[\w/<>]+\.py)`", section))
    toy = {"<input>": "toy_loudness", "<family>": NAME}
    return {re.sub(r"<\w+>", lambda m: toy[m.group(0)], path) for path in named}


def test_the_architecture_page_names_the_files_a_new_family_touches():
    assert architecture_steps() == TOUCHED


CHECK = f'''
import json, sys
from pathlib import Path

from mgc import cli
from mgc.runs.table import TABLE, ZOO

data = sys.argv[1]
assert cli.main(["train", "--model", "{NAME}", "--split", "filtered", "--data", data, "--epochs", "3"]) in (0, None)
assert cli.main(["evaluate", "--model", "{NAME}", "--split", "filtered", "--data", data]) in (0, None)

import mgc
from mgc.evaluate.report import results_table
from mgc.explain import words
from mgc.runs import ensembles, locate

run = locate("{NAME}", "filtered")
metrics = run.metrics()
clip = sorted((Path(data) / "genres_original").glob("*/*.wav"))[0]
prediction = mgc.classify(clip.read_bytes(), model="{NAME}", split="filtered")
print(json.dumps({{
    "test_tracks": metrics["test_tracks"],
    "predictions": len(run.predictions()),
    "classified": prediction.model,
    "probabilities": float(sum(prediction.probabilities.values())),
    "description": words.describe_model("{NAME}"),
    "row": TABLE["{NAME}"].description,
    "kind": words.input_kind("{NAME}"),
    "reads": words.what_it_reads("{NAME}", "filtered"),
    "zoo": "{NAME}" in ZOO,
    "members": "{NAME}" in ensembles.DEFAULT_MEMBERS,
    "picker": words.student_models({{("{NAME}", "filtered"): metrics}}, "filtered"),
    "report": list(results_table().model),
}}))
'''


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """A copy of the package, the app's pages and the run table's tests, with the toy family added."""
    root = tmp_path_factory.mktemp("toy-family") / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("mgc", "app_pages"):
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)
    (root / "tests").mkdir()
    for file in ("pyproject.toml", "tests/conftest.py", "tests/test_run_table.py"):
        shutil.copyfile(REPO / file, root / file)
    add_toy_family(root)
    return root


def in_copy(root: Path, *args: str, cwd: Path | None = None, env: dict | None = None, timeout: int = 900):
    """Run `python args…` in a fresh interpreter that imports the copy's `mgc`."""
    env = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd or root, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_a_toy_family_with_a_new_input_is_trained_evaluated_and_classified_with_and_every_consumer_knows_it(
    copy, tmp_path
):
    from tests.conftest import tiny_gtzan

    data = tiny_gtzan(tmp_path / "gtzan", features=True)
    env = {"MGC_CHECKPOINTS": str(tmp_path / "checkpoints"), "MGC_CACHE": str(tmp_path / "cache")}
    (tmp_path / "checkpoints" / "gate").mkdir(parents=True)  # classify asks the shipped not-music gate first
    shutil.copyfile(REPO / "checkpoints" / "gate" / "gate.json", tmp_path / "checkpoints" / "gate" / "gate.json")
    output = in_copy(copy, "-c", CHECK, str(data), env=env)
    found = json.loads(output.strip().splitlines()[-1])
    assert found["test_tracks"] == found["predictions"] == 10  # one test clip per genre
    assert found["classified"] == NAME and found["probabilities"] == pytest.approx(1.0, abs=1e-6)
    assert found["description"] == found["row"]
    assert found["kind"] == "loudness" and "how loud the sound is" in found["reads"]
    assert found["zoo"] and found["members"]
    assert found["picker"] == [NAME]  # its own place in the short picker, the only run trained here
    assert found["report"] == [NAME]
    assert (tmp_path / "checkpoints" / NAME / "filtered" / "model.pt").is_file()


def test_the_run_tables_own_tests_pass_with_the_toy_family(copy):
    in_copy(
        copy,
        "-m",
        "pytest",
        "tests/test_run_table.py",
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "every_consumer_knows_every_row or no_run_is_named or files_are_named",
    )
