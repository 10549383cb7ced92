"""Fitting the gate on the labelled set's fit part, and judging it on the held-out part: `python -m mgc check-gate`.

`measure_set` measures every item and draws the musicnn embedding of each of its patches (≈ 800 items; the first run
takes tens of minutes on 2 busy cores, each item is then kept in `$MGC_CACHE/gate` and read back); `choose` picks
the features (musicnn's embedding, the measurements, or both) and the regularisation by cross-validation over the
fit part's sources; `fit_gate` fits the logistic regression (scikit-learn, items and classes weighted equally) on
the fit part, with the threshold that flags at most `MUSIC_FLAGGED_AT_MOST` of the fit part's music as judged by
gates fitted without it; `rates` counts how many items the gate calls "not music" per kind, source and condition,
with Wilson 95 % intervals. The gate is fitted and chiefly judged on the patches it reads on its own (`GATE_PATCHES`
of them, what a model without musicnn gives it: `own_patches`); the held-out part is also judged with every patch
read, as the default model's one musicnn pass gives them to it.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..models import PRETRAINED
from ..runs.checkpoints import checkpoints_root, read_json, write_json
from . import CLASSES, GATE_FILE, Gate, expanded, gate_file, load_gate, transformed
from .embedding import GATE_PATCHES, patch_embeddings, spread
from .labelled_set import FIT, HELD_OUT, Item, labelled_set
from .measurements import NAMES, measure

MUSIC_FLAGGED_AT_MOST = 0.02
"""The share of the fit part's music that the threshold may flag (the held-out part is judged, not tuned)."""
REGULARISATION = 1.0
"""scikit-learn's C: the inverse strength of the L2 penalty on the weights."""


MEASURE_VERSION = "gate-measure-v4"
"""Part of each cached row's key: change it when a measurement, the embedding or an item's recipe changes."""


def _cache_file(cache: Path, item: Item) -> Path:
    """Where an item's row is kept: keyed by its name and its part too, since a source moved to the other part is
    heard in that part's measured rooms and noise beds under the same name."""
    import hashlib

    return cache / (hashlib.sha1(f"{MEASURE_VERSION}/{item.part}/{item.name}".encode()).hexdigest() + ".npz")


def measure_item(item: Item) -> tuple[dict, np.ndarray, int]:
    """An item's measurements, the musicnn embedding of each of its patches (`own_patches` picks those the gate
    reads on its own) and the patch count."""
    samples = item.make()
    embeddings = patch_embeddings(samples, most=None)
    return {"seconds": len(samples) / 22050} | measure(samples).as_dict(), embeddings, len(embeddings)


def measure_set(items: list[Item], progress: bool = True, cache: Path | None = None) -> pd.DataFrame:
    """One row per item: name, kind, part, source, condition, seconds, the measurements (`NAMES`), `embeddings`
    (the musicnn embedding of each of the input's patches, as the default model's musicnn pass gives them) and
    `patches` (how many). With `cache` (a folder), each item's row is kept there and
    read back next time. Torch runs on one thread meanwhile: hundreds of small inputs go faster so than with
    threads that wait on each other."""
    import torch
    from tqdm import tqdm

    rows = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    if cache is not None:
        Path(cache).mkdir(parents=True, exist_ok=True)
    try:
        for item in tqdm(items, desc="measuring the gate's labelled set", disable=not progress, unit="sound"):
            stored = _cache_file(Path(cache), item) if cache is not None else None
            if stored is not None and stored.is_file():
                with np.load(stored) as saved:
                    measured = dict(zip(["seconds", *NAMES], saved["measured"].tolist()))
                    embeddings, count = saved["embeddings"], int(saved["patches"])
            else:
                measured, embeddings, count = measure_item(item)
                if stored is not None:
                    np.savez(
                        stored,
                        measured=np.array([measured["seconds"], *(measured[n] for n in NAMES)]),
                        embeddings=embeddings,
                        patches=count,
                    )
            rows.append(
                {"name": item.name, "kind": item.kind, "part": item.part, "source": item.source}
                | {"condition": item.condition}
                | measured
                | {"embeddings": embeddings, "patches": count}
            )
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def own_patches(table: pd.DataFrame) -> pd.DataFrame:
    """The table with each row's embeddings cut to the patches the gate reads on its own (`GATE_PATCHES` of them,
    spread over the input, as `patch_embeddings` draws them for a model without musicnn)."""
    own = [np.asarray(e)[spread(len(e), GATE_PATCHES)] for e in table.embeddings]
    return table.assign(embeddings=own)


EMBEDDINGS_ONLY = PRETRAINED
"""The features choice that weighs the pretrained musicnn network's patch embeddings alone (the network, not a run)."""
FEATURES = ("musicnn + measurements", EMBEDDINGS_ONLY, "measurements")
"""What a gate may weigh: musicnn's patch embeddings, the measurements (`NAMES`), or both."""


def _groups(table: pd.DataFrame) -> np.ndarray:
    """What must stay on one side of a cross-validation fold: a GTZAN track (clip, excerpt and conditions
    together), otherwise the source."""
    tracks = table.name.str.extract(r"^(?:gtzan|excerpt)/([a-z]+\.\d+)")[0]
    return np.where(tracks.notna(), tracks, table.source).astype(str)


def _embeddings(table: pd.DataFrame) -> list[np.ndarray]:
    return [np.asarray(e, dtype=np.float64) for e in table.embeddings]


def fit_gate(
    table: pd.DataFrame,
    features: str = "musicnn + measurements",
    regularisation: float = REGULARISATION,
    pairs: bool = False,
    threshold: float | None = None,
    music_weight: float = 1.0,
) -> Gate:
    """The gate fitted on the table's fit-part music, speech and other sounds: a logistic regression over each
    musicnn patch (its embedding beside the input's measurements, as `features` says; `pairs` adds the
    measurements' pairwise products), every item weighing the same whatever its patches, the three classes
    weighing the same but music `music_weight` times as much. The threshold (unless given) flags at most
    `MUSIC_FLAGGED_AT_MOST` of the fit part's music (never above 0.5)."""
    from sklearn.linear_model import LogisticRegression

    if features not in FEATURES:
        raise ValueError(f"unknown features {features!r}; known: {', '.join(FEATURES)}")
    fit = table[(table.part == FIT) & table.kind.isin(CLASSES)]
    x = transformed(fit[list(NAMES)].to_numpy())
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    measured = (x - mean) / scale
    measured = expanded(measured) if pairs else measured
    if features == EMBEDDINGS_ONLY:
        measured = np.zeros_like(measured)
    labels = fit.kind.map(CLASSES.index).to_numpy()
    per_class = np.bincount(labels, minlength=len(CLASSES)).astype(np.float64)
    if features == "measurements":
        rows, design, emb_mean, emb_scale = np.arange(len(fit)), measured, None, None
        weights = np.ones(len(fit))
    else:
        embeddings = _embeddings(fit)
        counts = np.array([len(e) for e in embeddings])
        rows = np.repeat(np.arange(len(fit)), counts)
        stacked = np.concatenate(embeddings)
        emb_mean, emb_scale = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
        design = np.hstack([measured[rows], (stacked - emb_mean) / emb_scale])
        weights = 1.0 / counts[rows]
    weights = weights * (len(fit) / (len(CLASSES) * per_class[labels[rows]]))
    weights = weights * np.where(labels[rows] == CLASSES.index("music"), music_weight, 1.0)
    model = LogisticRegression(C=regularisation, max_iter=5000)
    model.fit(design, labels[rows], sample_weight=weights)
    coefficients = model.coef_.copy()
    if features == EMBEDDINGS_ONLY:
        coefficients[:, : measured.shape[1]] = 0.0
    least_change = 0.5 * float(fit[fit.kind == "music"].spectral_change.min())
    gate = Gate(mean, scale, coefficients, model.intercept_, 0.5, emb_mean, emb_scale, pairs, least_change)
    if threshold is not None:
        return replace(gate, threshold=threshold)
    music = fit[fit.kind == "music"]
    p_music = gate.probabilities(music[list(NAMES)].to_numpy(), _read(gate, music))[:, 0]
    threshold = min(0.5, float(np.quantile(p_music, MUSIC_FLAGGED_AT_MOST)))
    return replace(gate, threshold=threshold)


def _read(gate: Gate, table: pd.DataFrame) -> list[np.ndarray] | None:
    return _embeddings(table) if gate.reads_embedding else None


def music_probability(gate: Gate, table: pd.DataFrame) -> np.ndarray:
    """P(music) of each row."""
    return gate.probabilities(table[list(NAMES)].to_numpy(), _read(gate, table))[:, 0]


def flagged(gate: Gate, table: pd.DataFrame) -> np.ndarray:
    """Whether the gate calls each row "not music"."""
    return ~gate.music(music_probability(gate, table), table.spectral_change.to_numpy())


def cross_validated(table: pd.DataFrame, folds: int = 5, **options) -> pd.DataFrame:
    """The fit part, each row judged by a gate fitted (`fit_gate(…, **options)`) on the other folds: folds by
    source (a GTZAN track with its excerpt and conditions), so a source is never on both sides. For choosing
    features and regularisation without looking at the held-out part."""
    from sklearn.model_selection import GroupKFold

    fit = table[(table.part == FIT) & table.kind.isin(CLASSES)].reset_index(drop=True)
    result, p_music = np.zeros(len(fit), dtype=bool), np.zeros(len(fit))
    for train, test in GroupKFold(folds).split(fit, groups=_groups(fit)):
        gate = fit_gate(fit.iloc[train], **options)
        p_music[test] = music_probability(gate, fit.iloc[test])
        result[test] = ~gate.music(p_music[test], fit.iloc[test].spectral_change.to_numpy())
    return fit.assign(flagged=result, p_music=p_music)


def rates(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group of `by` (a table with a `flagged` column): items, how many are flagged as not music, the share and
    its Wilson 95 % interval."""
    from ..evaluate.metrics import wilson_interval

    rows = []
    for key, group in table.groupby(by, sort=True):
        hits, n = int(group.flagged.sum()), len(group)
        low, high = wilson_interval(hits, n)
        key = key if isinstance(key, tuple) else (key,)
        rows.append(dict(zip(by, key)) | {"items": n, "flagged": hits, "share": hits / n, "low": low, "high": high})
    return pd.DataFrame(rows)


def check_table(gate: Gate, table: pd.DataFrame) -> pd.DataFrame:
    """Per part and kind: items, how many are flagged as not music, the share and its Wilson 95 % interval."""
    table = table.assign(flagged=flagged(gate, table))
    report = rates(table, ["part", "kind"])
    order = {FIT: 0, HELD_OUT: 1}
    return report.sort_values(["part", "kind"], key=lambda c: c.map(order) if c.name == "part" else c)


REGULARISATIONS = (0.1, 1.0)
"""The regularisations (scikit-learn's C) `choose` tries with each of `FEATURES`."""
MUSIC_WEIGHTS = (1.0, 3.0)
"""How much more than speech or other sounds music weighs in fitting (`fit_gate`), as `choose` tries it."""


def cv_error(judged: pd.DataFrame) -> float:
    """The cost `choose` minimises over cross-validated fit-part rows: the mean of the music flagged, the speech
    missed and the other sounds missed, music's share counted twice (flagging a song is the worse mistake)."""
    missed = {kind: float((group.flagged != (kind != "music")).mean()) for kind, group in judged.groupby("kind")}
    return (2 * missed.get("music", 0.0) + missed.get("speech", 0.0) + missed.get("other", 0.0)) / 4


def choose(table: pd.DataFrame, progress: bool = True) -> tuple[dict, list[dict]]:
    """The features and regularisation with the lowest cross-validated cost (`cv_error`, `cross_validated`) on the
    fit part only, and every candidate's figures."""
    tried = []
    for features, regularisation, music_weight in itertools.product(FEATURES, REGULARISATIONS, MUSIC_WEIGHTS):
        options = {"features": features, "regularisation": regularisation, "music_weight": music_weight}
        judged = cross_validated(table, **options)
        shares = {kind: float(g.flagged.mean()) for kind, g in judged.groupby("kind")}
        tried.append(
            options | {"cv_error": cv_error(judged)} | {f"flagged_{kind}": share for kind, share in shares.items()}
        )
        if progress:
            print(
                f"  {features:24} C={regularisation:<4} music ×{music_weight:<3} cross-validated cost "
                f"{tried[-1]['cv_error']:.3f}"
            )
    best = min(tried, key=lambda t: t["cv_error"])
    return {key: best[key] for key in ("features", "regularisation", "music_weight")}, tried


def gate_cache_dir() -> Path:
    """Where `check-gate` keeps each item's measurements and embeddings (`$MGC_CACHE/gate`)."""
    from ..frontends.picture import default_cache_dir

    return default_cache_dir() / "gate"


def _misjudged(judged: pd.DataFrame) -> pd.DataFrame:
    """The rows (with `flagged`) the gate got wrong: music flagged, speech or other sounds passed. Speech over music
    is never wrong (either answer is defensible)."""
    return judged[(judged.flagged != (judged.kind != "music")) & (judged.kind != "speech over music")]


EVERY_PATCH = "kind, the gate given every patch (the default model's musicnn pass)"
"""The report of the held-out part judged as the default model's requests are: the gate reads the embedding of every
patch of the input, not only its own `GATE_PATCHES` (a model without musicnn)."""


def check_gate(
    data=None, fit: bool = False, progress: bool = True, cache: Path | None = None
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Measure the labelled set (kept in `cache`, default `gate_cache_dir()`), (re)fit the gate when `fit` (the
    features and regularisation chosen by `choose` on the fit part), and report it on the held-out part: per
    kind, per source, per kind and condition (the gate reading its own patches), and per kind with every patch read.
    The reports and the misjudged held-out items are written beside the gate (`check.json`)."""
    items = labelled_set(data)
    every = measure_set(items, progress, cache=cache or gate_cache_dir())
    table = own_patches(every)
    if fit:
        chosen, tried = choose(table, progress)
        # the threshold from the cross-validated P(music) of the fit part's music: fitted on itself, a model over
        # 200 dimensions is surer of its own music than it will be of music it has not heard
        judged = cross_validated(table, **chosen)
        music = judged[judged.kind == "music"].p_music
        threshold = min(0.5, float(np.quantile(music, MUSIC_FLAGGED_AT_MOST)))
        gate = fit_gate(table, **chosen, threshold=threshold)
        saved = gate.to_json() | {
            **chosen,
            "fitted_on": {kind: int(((table.part == FIT) & (table.kind == kind)).sum()) for kind in CLASSES},
            "fitted_sources": sorted(set(table[table.part == FIT].source)),
            "music_flagged_at_most": MUSIC_FLAGGED_AT_MOST,
            "chosen_by": "the lowest cross-validated cost on the fit part (mgc.gate.fit.choose); the threshold flags "
            "at most music_flagged_at_most of the fit part's music, each judged by a gate fitted without its fold",
            "candidates": tried,
        }
        write_json(checkpoints_root() / GATE_FILE, saved)
    gate = load_gate()
    judged = table.assign(flagged=flagged(gate, table), p_music=music_probability(gate, table))
    held = judged[judged.part == HELD_OUT]
    held_every = every[every.part == HELD_OUT]
    held_every = held_every.assign(flagged=flagged(gate, held_every))
    reports = {
        "kind": check_table(gate, table),
        "source": rates(held, ["kind", "source"]),
        "condition": rates(held, ["kind", "condition"]),
        EVERY_PATCH: rates(held_every, ["kind"]),
    }
    wrong, wrong_every = _misjudged(held), _misjudged(held_every)
    write_json(
        gate_file().with_name("check.json"),
        {
            "threshold": gate.threshold,
            "rates": reports["kind"].to_dict("records"),
            "held_out_by_source": reports["source"].to_dict("records"),
            "held_out_by_condition": reports["condition"].to_dict("records"),
            "misjudged_held_out": wrong.name.tolist(),
            "held_out_every_patch": reports[EVERY_PATCH].to_dict("records"),
            "misjudged_every_patch": wrong_every.name.tolist(),
            "items": len(table),
        },
    )
    return reports, wrong


def printable_report(reports: dict[str, pd.DataFrame]) -> str:
    """The reports of `check_gate` as text tables: flagged = called "not music" (wanted for speech and other
    sounds, not for music)."""
    blocks = []
    for title, report in reports.items():
        columns = [c for c in report.columns if c not in ("items", "flagged", "share", "low", "high")]
        widths = {c: max(len(c), *(len(str(v)) for v in report[c])) for c in columns}
        lines = [f"by {title} (held-out part)" if title != "kind" else "by part and kind"]
        lines.append(
            " ".join(f"{c:{widths[c]}}" for c in columns) + f" {'items':>5} {'flagged':>7} {'share':>6}  95 % interval"
        )
        for row in report.to_dict("records"):
            lines.append(
                " ".join(f"{row[c]!s:{widths[c]}}" for c in columns)
                + f" {row['items']:5d} {row['flagged']:7d} {row['share']:6.1%}  {row['low']:.1%}–{row['high']:.1%}"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def shipped_report() -> dict:
    """The last `check-gate` report (`checkpoints/gate/check.json`)."""
    return read_json(gate_file().with_name("check.json"))
