"""The table of named runs (`mgc.runs.table`) is the one place that knows them: every consumer knows every row, and
no run's name is written as a string anywhere else in the library or the app."""

from __future__ import annotations

import ast
import json
from itertools import pairwise
from pathlib import Path

import pytest

from mgc.runs import table
from mgc.runs.table import RUNS, TABLE

REPO = Path(__file__).resolve().parent.parent


def test_every_consumer_knows_every_row(monkeypatch):
    import app_pages.picker  # noqa: F401  (the picker reads the table through words and is_ensemble_name)
    import mgc.train
    from mgc import charts, cli
    from mgc.explain import words
    from mgc.models import FAMILIES
    from mgc.runs import ensembles

    parser = cli.build_parser()
    trained = {}
    monkeypatch.setattr(mgc.train, "build_ensemble", lambda name, split, **_: trained.setdefault(name, "ensemble"))
    for trainer in mgc.train.TRAINERS:
        monkeypatch.setitem(
            mgc.train.TRAINERS, trainer, lambda name, split, trainer=trainer, **_: trained.setdefault(name, trainer)
        )
    every_trained = {(r.name, "random"): {"accuracy": 0.5} for r in RUNS}
    shown_first = words.student_models(every_trained, "random")

    for r in RUNS:
        assert parser.parse_args(["train", "--model", r.name]).model == r.name, r.name  # a CLI choice
        assert words.describe_model(r.name) == r.description != words.describe_model("no-such-run"), r.name
        assert table.is_ensemble_name(r.name) == r.is_ensemble == (r.name in ensembles.ENSEMBLES), r.name
        assert (r.name in ensembles.DEFAULT_MEMBERS) == r.candidate, r.name
        assert (r.name in cli.ZOO) == r.zoo, r.name
        assert charts.RECURRENT_LAYERS.get(r.name, "") == r.recurrent_layer and bool(r.recurrent_layer) == bool(
            r.recurrent_place
        ), r.name
        if r.picker:  # a place in the short picker: the row, or (a shared place) the best of its rows
            sharing = [other.name for other in RUNS if other.picker == r.picker]
            assert set(sharing) & set(shown_first), r.name
        mgc.train.train(r.name, "random")
        if r.is_ensemble:
            assert r.family is None and r.rule in ensembles.RULES and trained[r.name] == "ensemble", r.name
            assert not r.candidate, f"{r.name}: an ensemble is not a member of another"
        else:
            assert r.family in FAMILIES and trained[r.name] == FAMILIES[r.family].trainer, r.name
            kind = words.input_kind(r.family)
            assert r.frontend is FAMILIES[r.family].frontend and kind in words.READS and kind in words.READS_SHORT
            assert isinstance(r.frontend.reads, str) and isinstance(r.frontend.reads_short, str), r.name
    assert tuple(r.name for r in RUNS if r.zoo) == cli.ZOO
    assert table.default_run("uploads") in TABLE and table.default_run("recordings") in TABLE
    ensemble_or_not = [TABLE[name].is_ensemble for name in cli.ZOO]
    assert ensemble_or_not == sorted(ensemble_or_not), "the zoo's ensembles come last: they are built from the others"


SHIPPED_MLP_RECIPES = {
    "mlp-256": ((256, 128, 64), {"optimiser": "adam", "lr": 1e-3, "momentum": 0.0}),
    "mlp-512-adam": ((512, 256, 128, 64), {"optimiser": "adam", "lr": 1e-3, "momentum": 0.0}),
    "mlp-512-sgd": ((512, 256, 128, 64), {"optimiser": "sgd", "lr": 1e-2, "momentum": 0.9}),
    "mlp-1024-rmsprop": ((1024, 512, 256, 128, 64), {"optimiser": "rmsprop", "lr": 1e-3, "momentum": 0.0}),
}
"""The four MLP recipes of the tabular seed, as the shipped runs' training.json records them (`model_config.hidden`;
`train_config`: every one 600 epochs at most, batch 128, patience 50, seed 0)."""


def test_an_mlp_variants_row_holds_the_recipe_it_is_trained_with():
    from mgc.train.tabular import MLP_VARIANTS, TabularTrainConfig

    assert set(MLP_VARIANTS) == set(SHIPPED_MLP_RECIPES) == {r.name for r in RUNS if r.family == "mlp" and r.overrides}
    for name, (hidden, recipe) in SHIPPED_MLP_RECIPES.items():
        model_config, train_config = MLP_VARIANTS[name]
        assert model_config == {"hidden": hidden}, name
        assert train_config == TabularTrainConfig(**recipe, epochs=600, batch_size=128, patience=50, seed=0), name
    # The values above are the shipped runs' own: each training.json records the network and recipe it was
    # trained with (`mlp` is a copy of the best variant on the split's validation, which it names).
    checked = 0
    for folder in sorted((REPO / "checkpoints").glob("mlp*/*")):
        if (folder / "training.json").is_file():
            record = json.loads((folder / "training.json").read_text())
            hidden, recipe = SHIPPED_MLP_RECIPES[record.get("variant", folder.parent.name)]
            assert record["model_config"]["hidden"] == list(hidden), folder
            assert {key: record["train_config"][key] for key in recipe} == recipe, folder
            checked += 1
    assert checked >= len(SHIPPED_MLP_RECIPES)


def test_an_unknown_run_is_refused_by_train_naming_the_known_ones():
    from mgc.train import train

    with pytest.raises(KeyError, match="unknown run 'no-such-run'; known: crnn"):
        train("no-such-run", "random")


# --- no run's name outside the table -------------------------------------------------------------------------------

ALLOWED = {Path("mgc/runs/table.py"), Path("mgc/models/__init__.py")}
"""The table, and the family registry (a family is named where its network class is)."""


def run_name_literals(source: str, names) -> list[tuple[int, str]]:
    """(line, name) of every string constant in `source` that is one of `names`, docstrings left out."""
    tree = ast.parse(source)
    bodies = [node.body for node in ast.walk(tree) if isinstance(getattr(node, "body", None), list)]
    docstrings = {
        id(body[0].value)
        for body in bodies
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    }
    docstrings |= {  # an attribute's docstring: the string right after an assignment
        id(after.value)
        for body in bodies
        for before, after in pairwise(body)
        if isinstance(before, (ast.Assign, ast.AnnAssign))
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
    }
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in docstrings
    )


def test_the_literal_finder_sees_a_name_in_code_and_not_in_a_docstring():
    source = (
        'def f(model="crnn"):\n    """The crnn."""\n    return model == "ensemble-sum" or "crnn-seed"\n'
        'X = 1\n"""crnn"""\n'
    )
    assert run_name_literals(source, {"crnn", "ensemble-sum", "crnn-seed"}) == [
        (1, "crnn"),
        (3, "crnn-seed"),
        (3, "ensemble-sum"),
    ]


def test_no_run_is_named_outside_the_table_and_the_family_registry():
    names = set(TABLE)
    found = {}
    for path in sorted([*REPO.glob("mgc/**/*.py"), *REPO.glob("app_pages/**/*.py")]):
        relative = path.relative_to(REPO)
        if relative in ALLOWED:
            continue
        hits = run_name_literals(path.read_text(encoding="utf-8"), names)
        if hits:
            found[str(relative)] = hits
    assert not found, (
        "a run's name written as a string (read it from mgc.runs.table: row(), names(), default_run(), "
        f"is_ensemble_name(), reads_run() …): {found}"
    )


# --- a run's files are named in one place ---------------------------------------------------------------------------

FILES_NAMED_IN = Path("mgc/runs/checkpoints.py")
FILES_REMAINING = {
    "mgc/bench.py": 1,  # the CSV that `python -m mgc predict` writes in a throwaway folder: not a run's file
}


def test_a_runs_files_are_named_only_in_checkpoints_and_read_through_the_run():
    from mgc.runs import checkpoints
    from mgc.runs.run import FILES

    names = {value for key, value in vars(checkpoints).items() if key.endswith("_FILE") and isinstance(value, str)}
    assert set(FILES.values()) <= names
    found = {}
    for path in sorted([*REPO.glob("mgc/**/*.py"), *REPO.glob("app_pages/**/*.py")]):
        relative = path.relative_to(REPO)
        if relative == FILES_NAMED_IN:
            continue
        hits = run_name_literals(path.read_text(encoding="utf-8"), names)
        if len(hits) > FILES_REMAINING.get(str(relative), 0):
            found[str(relative)] = hits
    assert not found, f"a run file named outside mgc/runs/checkpoints.py (use its *_FILE or mgc.runs.run.Run): {found}"


# --- a run resolved once ----------------------------------------------------------------------------------------


def _wav(samples, rate: int = 22050) -> bytes:
    import io

    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV")
    return buffer.getvalue()


def test_classify_reads_an_ensembles_recipe_once_and_hands_the_resolved_run_on(monkeypatch):
    import numpy as np

    import mgc
    from mgc.runs import available_runs, ensembles
    from mgc.runs.checkpoints import read_json

    if ("ensemble-best", "random") not in available_runs():
        pytest.skip("no ensemble-best for the random split")
    reads = []

    def counted(path):
        reads.append(Path(path).name)
        return read_json(path)

    monkeypatch.setattr(ensembles, "read_json", counted)
    t = np.arange(22050 * 4) / 22050
    audio = mgc.load_audio(_wav(0.3 * np.sin(2 * np.pi * 220 * t)))
    prediction = mgc.classify(audio, model="ensemble-best", split="random")
    assert reads == [ensembles.ENSEMBLE_FILE] and prediction.model == "ensemble-best"


def test_a_run_reads_its_own_files_and_names_a_damaged_one(tmp_path):
    from mgc.errors import CheckpointError
    from mgc.runs import available_runs, locate

    if ("crnn", "random") not in available_runs():
        pytest.skip("no trained crnn for the random split")
    shipped = locate("crnn", "random")
    assert shipped.metrics()["model"] == "crnn" and len(shipped.predictions()) == shipped.metrics()["test_tracks"]
    assert shipped.history() is not None and shipped.training()
    copy = locate("crnn", "random", tmp_path)
    copy.folder.mkdir(parents=True)
    assert copy.robustness() is None and copy.history() is None and copy.training() == {}
    with pytest.raises(CheckpointError):
        copy.metrics()
    lines = shipped.path("predictions").read_text().splitlines()
    copy.path("predictions").write_text("\n".join([*lines[:-1], lines[-1][:12]]) + "\n")  # cut short
    with pytest.raises(CheckpointError, match="cut short"):
        copy.predictions()
