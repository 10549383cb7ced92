"""`python -m mgc bench`: how fast mgc is on this machine — measured in one run, printed, saved as JSON.

The library's own speed check; it needs no browser, no server and no code outside the package:

1. **latency**: classify a 30-s MP3 (44.1 kHz stereo, as a download would be) end to end — decode,
   resample, the not-music gate, the model's front end, model, timeline — with every trained model of the random
   split: median and 90th percentile of `runs` calls after `warmup` calls; where `classify` spends its time
   with a picture model and a feature model (`stages`); and stage by stage as the page runs an upload through its
   default model, musicnn-gru (`page_stages`: musicnn's pass and the gate side by side, the gate's share of it).
2. **musicnn**: the pretrained tagger on a 30-s clip's ten 3-s patches — its log-mel front end, the network as
   first ported (the checkpoint's layout, `Musicnn`: all patches at once, batch norms separate, default memory
   layout, under `torch.no_grad`) against mgc's (`FoldedMusicnn`: batch norm folded, channels-last, a few patches
   at a time, under `torch.inference_mode`), both giving the taggram and the embedding, with the ratio; and
   `mgc.explain.taggram` whole (front end and network).
3. **throughput**: `python -m mgc predict DIR` over the dataset's audio clips in a child process:
   clips per second (start-up included) and the child's peak memory.
4. **training**: one training step of each picture model (`mgc.train.pictures.train_step`, a batch of 32
   crops of the mean training width from the dataset's pictures) in float32 and in bf16 mixed
   precision: milliseconds per step and the ratio fp32 / bf16. bf16 is timed only where the CPU
   computes it natively (what `precision="auto"` trains in); else it is left out. From those steps, the validation
   and the listening conditions timed alike, what `train --all --split both` spends on its picture models
   (`zoo_training_estimate`: per family and split, an epoch's seconds and the recipe's minutes).

What needs a browser or a Streamlit server (the app's pages, sessions at once, memory under load) and the
seed projects' pipeline to compare against are in `benchmarks/` at the top of the repository, outside the package
(`python -m benchmarks.app`, `python -m benchmarks.seed_style`). Nothing here is a test: the figures depend on
the machine; docs/performance.md quotes them.
"""

from __future__ import annotations

import functools
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .data.gtzan import REPO_ROOT, default_data_dir
from .errors import MgcError
from .models import PRETRAINED

SAMPLE_RATE = 22050


# ----------------------------------------------------------------------------------------------- inputs
def music_clips(count: int, seconds: float = 30.0) -> list[tuple[str, np.ndarray]]:
    """`count` pieces of music at 22050 Hz: GTZAN clips of different genres when the dataset has audio,
    else synthetic chords (different roots), so the bench also runs where the data is absent."""
    import soundfile

    root = default_data_dir()
    files = sorted((root / "genres_original").rglob("*.flac")) if root and root.is_dir() else []
    by_genre: dict[str, list[Path]] = {}
    for file in files:
        by_genre.setdefault(file.name.split(".")[0], []).append(file)
    chosen = [
        paths[i]
        for i in range(max(map(len, by_genre.values()), default=0))
        for paths in by_genre.values()
        if i < len(paths)
    ][:count]
    clips = []
    for file in chosen:
        samples, rate = soundfile.read(file, dtype="float32", frames=int(seconds * SAMPLE_RATE))
        if rate == SAMPLE_RATE and samples.ndim == 1:
            clips.append((file.stem, samples))
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    while len(clips) < count:
        root_hz = 110.0 * 2 ** (len(clips) / 3)
        chord = (
            sum(
                np.sin(2 * np.pi * root_hz * k * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 2 * t) ** 2)
                for k in (1.0, 1.5, 2.01)
            )
            / 6
        )
        clips.append((f"chord-{len(clips)}", chord.astype(np.float32)))
    return clips


def download_mp3(samples: np.ndarray) -> bytes:
    """22050-Hz mono samples as a typical MP3 download: 44.1 kHz, two channels."""
    import soundfile
    import soxr

    stereo = np.repeat(soxr.resample(samples, SAMPLE_RATE, 44100)[:, None], 2, axis=1)
    buffer = io.BytesIO()
    soundfile.write(buffer, stereo, 44100, format="MP3")
    return buffer.getvalue()


def timings(call, runs: int, warmup: int) -> dict:
    """Call `call` `warmup` times, then time `runs` calls: median and 90th percentile in ms."""
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return {
        "median_ms": 1000 * statistics.median(seconds),
        "p90_ms": 1000 * float(np.percentile(seconds, 90)),
        "runs": runs,
    }


# ---------------------------------------------------------------------------------------------- latency
def latency(mp3: bytes, runs: int, warmup: int) -> dict[str, dict]:
    """Every trained model of the random split classifying the same MP3 bytes."""
    from .runs import trained_models
    from .serve import classify

    return {
        model: timings(lambda model=model: classify(mp3, model=model, split="random"), runs, warmup)
        for model in trained_models("random")
    }


def stages(
    mp3: bytes, runs: int, warmup: int, model: str | None = None, feature_model: str | None = None
) -> dict[str, dict]:
    """Where `classify` spends its time: decode, the not-music gate (which every model's answer goes through),
    the mel picture and a picture model on it (`model`; None: the table's first picture run), the 57 features (and,
    inside them, the HPSS's median filters) and a feature model on them (`feature_model`; None: the table's first
    feature run)."""
    import torch

    from .data.audio import load_audio
    from .frontends import FEATURES
    from .frontends.features import _median_rows, extract_features
    from .frontends.picture import PICTURE, render_audio
    from .gate import check
    from .runs import load_model
    from .runs.outputs import window_outputs
    from .runs.table import RUNS

    model = model or next(r.name for r in RUNS if r.frontend is PICTURE)
    feature_model = feature_model or next(r.name for r in RUNS if r.frontend is FEATURES)
    audio = load_audio(mp3)
    picture = render_audio(audio.samples)
    features = extract_features(audio.samples)
    spectrum = torch.stft(
        torch.from_numpy(audio.samples.copy()),
        2048,
        512,
        window=torch.hann_window(2048),
        pad_mode="reflect",
        return_complex=True,
    )
    magnitudes = spectrum.abs().contiguous().numpy()
    network, _ = load_model(model, "random")
    feature_network, _ = load_model(feature_model, "random")
    return {
        "decode and resample": timings(lambda: load_audio(mp3), runs, warmup),
        "not-music gate, with 2 musicnn patches of its own (a model without musicnn)": timings(
            lambda: check(audio.samples, audio.sample_rate), runs, warmup
        ),
        "mel picture": timings(lambda: render_audio(audio.samples), runs, warmup),
        f"{model} over the windows": timings(lambda: window_outputs(network, PICTURE, picture), runs, warmup),
        "57 features": timings(lambda: extract_features(audio.samples), runs, warmup),
        "  of which the HPSS's median filters": timings(
            lambda: (_median_rows(magnitudes), _median_rows(np.ascontiguousarray(magnitudes.T))), runs, warmup
        ),
        f"{feature_model} on the features": timings(
            lambda: window_outputs(feature_network, FEATURES, features), runs, warmup
        ),
    }


def page_default_model(split: str = "random") -> str:
    """The run Classify answers uploads, examples and recordings with: the measured rule the page applies
    (`mgc.evaluate.robustness.classify_default`) to the shipped runs' robustness records."""
    from .evaluate import robustness
    from .runs.checkpoints import available_runs

    records = {run: record for run in available_runs() if (record := robustness.load(*run)) is not None}
    return robustness.classify_default(records, split).model


def page_stages(mp3: bytes, runs: int, warmup: int, model: str | None = None) -> dict[str, dict]:
    """Where the time goes when the page classifies an upload with its default model (`model`; None: the run the
    page's measured rule picks, `page_default_model`: musicnn-gru), in the page's order: decode; musicnn's log-mel
    and network; the not-music gate — its measurements on a worker beside the network, with the request's
    embeddings (`mgc.serve.prediction.listen`, which the page calls once per upload), and for comparison alone after
    it; the model over the pass (`classify(…, gate=, musicnn=)`: the mel picture the page shows, the GRU,
    calibration); the whole request (`classify(mp3, model=)`, as `latency` times it)."""
    from .data.audio import load_audio
    from .frontends import MUSICNN_INPUT
    from .gate import check
    from .gate.measurements import measure
    from .models.musicnn_pass import MUSICNN_PASS, musicnn_pass
    from .models.workers import submit
    from .serve import classify
    from .serve.prediction import listen

    model = model or page_default_model()
    audio = load_audio(mp3)
    patches = MUSICNN_INPUT.from_audio(audio)
    the_pass, gate = listen(audio)
    stages = {
        "decode and resample": timings(lambda: load_audio(mp3), runs, warmup),
        "musicnn's log-mel (on a worker)": timings(
            lambda: submit(MUSICNN_INPUT.from_audio, audio).result(), runs, warmup
        ),
        f"musicnn's network ({len(patches)} patches over the workers)": timings(
            lambda: musicnn_pass(patches), runs, warmup
        ),
        "musicnn's pass (log-mel and network)": timings(lambda: MUSICNN_PASS.from_audio(audio), runs, warmup),
        "musicnn's pass and the not-music gate side by side (listen: what the page runs)": timings(
            lambda: listen(audio), runs, warmup
        ),
        "  the gate alone after it, with its embeddings (check(…, embeddings=))": timings(
            lambda: check(audio.samples, audio.sample_rate, embeddings=the_pass.embedding), runs, warmup
        ),
        "    of which its measurements (on a worker)": timings(
            lambda: submit(measure, audio.samples, audio.sample_rate).result(), runs, warmup
        ),
        f"{model} given the pass and the gate (mel picture for the page, the model, calibration)": timings(
            lambda: classify(audio, model=model, gate=gate, musicnn=the_pass), runs, warmup
        ),
        f"the whole request: classify(mp3, model={model!r})": timings(lambda: classify(mp3, model=model), runs, warmup),
    }
    together, alone = (
        stages[name]["median_ms"]
        for name in (
            "musicnn's pass and the not-music gate side by side (listen: what the page runs)",
            "musicnn's pass (log-mel and network)",
        )
    )
    stages["the gate's share of the request (side by side minus the pass alone)"] = {
        "median_ms": together - alone,
        "p90_ms": float("nan"),
        "runs": runs,
    }
    return stages


def musicnn(mp3: bytes, runs: int, warmup: int) -> dict[str, dict]:
    """musicnn's taggram of one clip: front end, the naive port and mgc's network (ratio), the whole taggram."""
    import torch

    from .data.audio import load_audio
    from .explain import taggram
    from .frontends import MUSICNN_INPUT
    from .models.musicnn import load_musicnn
    from .models.musicnn_pass import musicnn_pass

    audio = load_audio(mp3)
    patches = MUSICNN_INPUT.from_audio(audio)
    naive, folded = load_musicnn(folded=False), load_musicnn()

    def naive_port():
        with torch.no_grad():
            return naive(torch.from_numpy(patches))

    def mgc_network():
        with torch.inference_mode():
            return [folded(*batch) for batch in MUSICNN_INPUT.batches(patches)]

    results = {
        "log-mel patches": timings(lambda: MUSICNN_INPUT.from_audio(audio), runs, warmup),
        "network, naive port": timings(naive_port, runs, warmup),
        "network, mgc": timings(mgc_network, runs, warmup),
        "network, mgc, a patch at a time over the one-thread workers (as served)": timings(
            lambda: musicnn_pass(patches), runs, warmup
        ),
        "taggram (log-mel and network)": timings(lambda: taggram(audio), runs, warmup),
    }
    results |= musicnn_sequence_runs(audio, runs, warmup)
    results["network, mgc"]["naive_ratio"] = (
        results["network, naive port"]["median_ms"] / results["network, mgc"]["median_ms"]
    )
    results["network, mgc"]["patches"] = len(patches)
    return results


def musicnn_sequence_runs(audio, runs: int, warmup: int) -> dict[str, dict]:
    """Each trained run of the random split that reads musicnn's pass (Classify's default for uploads and recordings,
    `musicnn-gru`): the log-mel, musicnn's pass and the GRU over it, as one request makes them once."""
    from .models import family
    from .models.musicnn_pass import MUSICNN_PASS
    from .runs import load_model, trained_models
    from .runs.outputs import window_outputs
    from .runs.table import TABLE

    timed = {}
    for run in trained_models("random"):
        if run in TABLE and TABLE[run].family and family(TABLE[run].family).frontend is MUSICNN_PASS:
            network, _ = load_model(run, "random")
            timed[f"{run}: log-mel, musicnn's pass and its GRU"] = timings(
                lambda network=network: window_outputs(network, MUSICNN_PASS, MUSICNN_PASS.from_audio(audio)),
                runs,
                warmup,
            )
    return timed


# ------------------------------------------------------------------------------------------- throughput
def _run_child(command: list[str], **kwargs) -> tuple[float, float, int, str]:
    """Run a child process to its end: (wall seconds, its peak RSS in MB, exit code, the end of its stderr)."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, **kwargs)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not every child's maximum
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        return wall, usage.ru_maxrss / 1024, process.returncode, stderr.read().decode(errors="replace")[-2000:]


def throughput(folder: Path | None = None, model: str | None = None) -> dict:
    """`python -m mgc predict FOLDER --model MODEL` in a child process (None: the default run for uploads): clips per
    second and peak memory."""
    from .runs.table import default_run
    from .serve import audio_files

    model = model or default_run("uploads")

    folder = folder or (default_data_dir() / "genres_original" if default_data_dir() else None)
    files = audio_files(folder) if folder and folder.is_dir() else []
    if not files:
        return {"skipped": "no audio folder (the dataset's genres_original/) to read"}
    with tempfile.TemporaryDirectory(prefix="mgc-bench-") as out:
        command = [
            sys.executable,
            "-m",
            "mgc",
            "predict",
            str(folder),
            "--model",
            model,
            "--csv",
            str(Path(out) / "predictions.csv"),
        ]
        wall, peak, code, stderr = _run_child(command, cwd=REPO_ROOT)
    if code != 0:
        return {"error": stderr}
    return {
        "folder": str(folder),
        "clips": len(files),
        "wall_s": wall,
        "clips_per_s": len(files) / wall,
        "peak_rss_mb": peak,
    }


# --------------------------------------------------------------------------------------------- training
def training_steps(runs: int, warmup: int, batch_size: int = 32) -> dict[str, dict]:
    """ms per training step of each picture model, fp32 and (where native) bf16, on the same batch."""
    import torch
    from torch import nn

    from .frontends.picture import N_MELS, PICTURE
    from .models import build_model, families_reading
    from .train.common import native_bf16
    from .train.pictures import TrainConfig, augment, train_step

    config = TrainConfig()
    width = (config.crop_min_columns + config.crop_max_columns) // 2
    generator = torch.Generator().manual_seed(0)
    crops = _training_crops(batch_size, width)
    if crops is None:
        crops = torch.randint(0, 256, (batch_size, N_MELS, width), dtype=torch.uint8, generator=generator)
    x = augment(crops, config, generator)
    y = torch.arange(batch_size) % 10
    precisions = ["fp32"] + (["bf16"] if native_bf16("cpu") else [])
    results = {}
    for family in families_reading(PICTURE):
        row = {}
        for precision in precisions:
            torch.manual_seed(0)
            model = build_model(family).train()
            optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
            loss_fn = nn.CrossEntropyLoss()
            step = functools.partial(train_step, model, optimiser, loss_fn, x, y, precision)
            row[precision] = timings(step, runs, warmup)
        if "bf16" in row:
            row["fp32_over_bf16"] = row["fp32"]["median_ms"] / row["bf16"]["median_ms"]
        results[family] = row
    return results


def zoo_training_estimate(steps: dict[str, dict], tracks: int = 10) -> dict:
    """What `python -m mgc train --all --split both` spends on its picture models, estimated from their parts on this
    machine: per family and split, an epoch is its steps (`steps`: `training_steps`, in the precision training uses)
    over the split's train tracks (`crops_per_track` crops each), one validation over its valid tracks (as training
    validates: `validate_per_track`, timed on `tracks` of them) and, in the fine-tuning stage, the listening
    condition of each example (`training_example`, timed); times the recipe's epochs (clean stage + fine-tuning; no
    early stop, so an upper bound). The feature models, the hybrid and the ensembles (≈ 2–3 min together) are not
    included."""
    import math

    from .data.gtzan import GTZAN
    from .frontends.picture import PICTURE, track_pictures
    from .models import build_model
    from .train.common import native_bf16, validate_per_track
    from .train.picture_conditions import random_room_kernels
    from .train.pictures import TrainConfig, robust_fine_tuning, training_example

    root = default_data_dir()
    if root is None:
        return {"skipped": "no dataset: the split sizes and pictures are needed"}
    dataset = GTZAN(root)
    clean, robust = TrainConfig(), robust_fine_tuning(Path("."))
    sample = list(track_pictures(dataset.root, dataset.split("random").valid[:tracks]).values())
    rng = np.random.default_rng(0)
    random_room_kernels()  # made once per process (24 simulated rooms): not an example's cost
    started = time.perf_counter()
    for picture in sample * 8:
        training_example(picture, [], robust, rng)
    example_seconds = (time.perf_counter() - started) / (8 * len(sample))
    validate_in_bf16 = native_bf16("cpu")
    families, total = {}, 0.0
    for family, row in steps.items():
        step_seconds = row.get("bf16", row["fp32"])["median_ms"] / 1000
        model = build_model(family).eval()
        validate_per_track(model, PICTURE, sample[:2], "cpu", bf16=validate_in_bf16)  # warm-up
        started = time.perf_counter()
        validate_per_track(model, PICTURE, sample, "cpu", bf16=validate_in_bf16)
        valid_seconds_per_track = (time.perf_counter() - started) / len(sample)
        per_split = {}
        for split in ("random", "filtered"):
            parts = dataset.split(split)
            batches = math.ceil(len(parts.train) * clean.crops_per_track / clean.batch_size)
            epoch = batches * step_seconds + len(parts.valid) * valid_seconds_per_track
            examples = len(parts.train) * robust.crops_per_track * example_seconds
            minutes = (clean.epochs * epoch + robust.epochs * (epoch + examples)) / 60
            per_split[split] = {"epoch_seconds": epoch, "minutes": minutes}
            total += minutes
        families[family] = per_split
    return {
        "families": families,
        "picture_models_minutes": total,
        "epochs": {"clean": clean.epochs, "fine_tuning": robust.epochs},
        "condition_ms_per_example": 1000 * example_seconds,
    }


def _training_crops(count: int, width: int):
    """`count` crops of `width` columns from pictures of the random split's training tracks, or None without them."""
    import torch

    from .data.gtzan import GTZAN
    from .frontends.picture import track_pictures

    root = default_data_dir()
    if root is None:
        return None
    dataset = GTZAN(root)
    pictures = track_pictures(dataset.root, dataset.split("random").train[: count * 4 : 4])
    if len(pictures) < count:
        return None
    return torch.from_numpy(np.stack([p[:, :width] for p in list(pictures.values())[:count]]))


# ------------------------------------------------------------------------------------------------ report
def print_table(title: str, rows: list[dict]) -> None:
    """A titled table of `rows` (dicts with the same keys), one decimal."""
    import pandas as pd

    print(f"\n## {title}\n")
    if rows:
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def report(results: dict) -> None:
    """Print the bench results as tables."""
    print(f"mgc bench — {results['machine']}")
    if "latency" in results:
        print_table(
            "Classify a 30-s MP3 (ms; median and 90th percentile)",
            [{"model": m, "median": t["median_ms"], "p90": t["p90_ms"]} for m, t in results["latency"].items()],
        )
        print_table(
            "Where classify's time goes (ms, median)",
            [{"stage": s, "median": t["median_ms"]} for s, t in results.get("stages", {}).items()],
        )
        print_table(
            "An upload on the page, with its default model (ms; median and 90th percentile)",
            [
                {"stage": s, "median": t["median_ms"], "p90": t["p90_ms"]}
                for s, t in results.get("page_stages", {}).items()
            ],
        )
    if MUSICNN_PART in results:
        print_table(
            "musicnn on a 30-s clip (ms; median and 90th percentile): naive port / mgc = "
            f"{results[MUSICNN_PART]['network, mgc']['naive_ratio']:.1f}×",
            [{"stage": s, "median": t["median_ms"], "p90": t["p90_ms"]} for s, t in results[MUSICNN_PART].items()],
        )
    if "throughput" in results:
        print_table("python -m mgc predict DIR", [results["throughput"]])
    if "training" in results:
        print_table(
            "One training step, a batch of 32 crops (ms, median): float32 and bf16 mixed precision",
            [
                {
                    "model": m,
                    "fp32": r["fp32"]["median_ms"],
                    "bf16": r.get("bf16", {}).get("median_ms", np.nan),
                    "fp32 / bf16": r.get("fp32_over_bf16", np.nan),
                }
                for m, r in results["training"].items()
            ],
        )
    zoo = results.get("zoo_training", {})
    if "families" in zoo:
        print_table(
            "train --all --split both, picture models, estimated from the steps above (minutes; "
            f"{zoo['epochs']['clean']} clean + {zoo['epochs']['fine_tuning']} fine-tuning epochs, no early stop): "
            f"{zoo['picture_models_minutes']:.1f} in all",
            [
                {
                    "model": family,
                    **{f"{split} epoch (s)": v["epoch_seconds"] for split, v in splits.items()},
                    **{f"{split} (min)": v["minutes"] for split, v in splits.items()},
                }
                for family, splits in zoo["families"].items()
            ],
        )


def machine() -> str:
    """This machine in a line: CPUs, torch and its threads, Python."""
    import platform

    import torch

    return (
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}"
    )


MUSICNN_PART = PRETRAINED
"""The part that times the pretrained musicnn network itself (the network, not the run of that name)."""
PARTS = ("latency", MUSICNN_PART, "throughput", "training")
"""What `python -m mgc bench` measures; `--parts` chooses among them."""
MOVED = {
    "app": "python -m benchmarks.app --parts app",
    "concurrency": "python -m benchmarks.concurrency --sessions 16 --minutes 10 --settle 60",
    "load": "python -m benchmarks.app --parts load",
    "models": "python -m benchmarks.app --parts models",
    "seed_style": "python -m benchmarks.seed_style",
}
"""Parts that need a browser, a server or the seeds' pipeline: they run from the repository's benchmarks/."""


def check_parts(parts: list[str]) -> None:
    """Refuse, in a line, a part this command does not measure (and say where a moved one runs now)."""
    for part in parts:
        if part in MOVED:
            raise MgcError(f"bench part {part!r} needs a browser or code outside the package: run `{MOVED[part]}`")
        if part not in PARTS:
            raise MgcError(f"no bench part {part!r}: choose from {', '.join(PARTS)}")


def run(parts: list[str], runs: int = 20, warmup: int = 3, out: Path | None = None) -> dict:
    """Run the chosen parts (latency, musicnn, throughput, training), print them and write the JSON file."""
    check_parts(parts)
    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    if "latency" in parts:
        mp3 = download_mp3(music_clips(1)[0][1])
        results["latency"] = latency(mp3, runs, warmup)
        results["stages"] = stages(mp3, runs, warmup)
        results["page_stages"] = page_stages(mp3, runs, warmup)
    if MUSICNN_PART in parts:
        results[MUSICNN_PART] = musicnn(download_mp3(music_clips(1)[0][1]), runs, warmup)
    if "throughput" in parts:
        results["throughput"] = throughput()
    if "training" in parts:
        results["training"] = training_steps(runs, warmup)
        results["zoo_training"] = zoo_training_estimate(results["training"])
    report(results)
    write_results(results, out)
    return results


def write_results(results: dict, out: Path | None) -> None:
    """The figures as JSON in `out` (its folder made), said in one line; nothing when `out` is None."""
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=float) + "\n")
        print(f"\nwrote {out}")
