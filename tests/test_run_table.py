"""The table of named runs (`mgc.runs.table`) is the one place that knows them: every consumer knows every row, and
no run's name is written as a string anywhere else in the library or the app."""

from __future__ import annotations

import ast
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from mgc.runs import table
from mgc.runs.table import RUNS, TABLE

REPO = Path(__file__).resolve().parent.parent


def test_every_consumer_knows_every_row(monkeypatch):
    import app_pages.picker  # noqa: F401  (the picker reads the table through words and is_ensemble_name)
    import mgc.train
    from mgc import cli
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


def test_an_mlp_variants_row_holds_the_recipe_it_is_trained_with():
    from mgc.train.tabular import MLP_VARIANTS, TabularTrainConfig

    variants = {r.name for r in RUNS if r.family == "mlp" and r.overrides}
    assert variants == set(MLP_VARIANTS)
    for name, (model_config, recipe) in MLP_VARIANTS.items():
        assert dict(TABLE[name].overrides) == model_config, name
        assert replace(TabularTrainConfig(), **dict(TABLE[name].training)) == recipe, name


def test_an_unknown_run_is_refused_by_train_naming_the_known_ones():
    from mgc.train import train

    with pytest.raises(KeyError, match="unknown run 'no-such-run'; known: crnn"):
        train("no-such-run", "random")


# --- no run's name outside the table -------------------------------------------------------------------------------

ALLOWED = {Path("mgc/runs/table.py"), Path("mgc/models/__init__.py")}
"""The table, and the family registry (a family is named where its network class is)."""
REMAINING = {
    # Owned by others, moved to the table by them (issue 27): each count may only go down.
    "mgc/bench.py": 9,  # the benchmark's default runs, and the pretrained musicnn (a network, also a run's name)
    "mgc/charts.py": 5,  # RECURRENT_LAYERS, per picture run
    "mgc/models/crnn.py": 1,  # the cell type "lstm", not a run
    "mgc/models/hybrid.py": 1,  # the hybrid's default picture run
    "mgc/train/__init__.py": 1,  # the trainer "hybrid" (`Family.trainer`), not a run
    "mgc/train/hybrid.py": 5,
    "mgc/train/musicnn_head.py": 4,
    "mgc/train/musicnn_gru.py": 3,
    "mgc/train/tabular.py": 14,  # MLP_VARIANTS (also in the table: the test above holds them equal)
}
"""Files that still write a run's name, and how many times: a new one, or one more, fails the test."""


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
        if len(hits) > REMAINING.get(str(relative), 0):
            found[str(relative)] = hits
    assert not found, (
        "a run's name written as a string (read it from mgc.runs.table: row(), names(), default_run(), "
        f"is_ensemble_name(), reads_run() …): {found}"
    )
