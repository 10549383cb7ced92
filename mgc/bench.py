"""`python -m mgc bench`: how fast mgc is on this machine — measured in one run, printed, saved as JSON.

1. **latency**: classify a 30-s MP3 (44.1 kHz stereo, as a download would be) end to end — decode,
   resample, mel picture, model, timeline — with every trained model of the random split: median and
   90th percentile of `runs` calls after `warmup` calls.
2. **seed style**: the same clip with each picture model, the way the seed projects served it, per call:
   `librosa.load`, librosa's mel spectrogram, the model built and its weights loaded, its layers run one
   by one (batch norm separate, default memory layout) under `torch.no_grad`. Ratio: mgc / seed style.
   Also where mgc's CRNN spends its time (decode, picture, model).
3. **throughput**: `python -m mgc predict DIR` over the dataset's audio clips in a child process:
   clips per second (start-up included) and the child's peak memory.
4. **app**: `streamlit run app.py`: seconds to a healthy server; each page opened in a new browser
   session (with an empty browser cache and with the app's code cached) and page switches within one —
   when its heading shows and when it is complete (`RENDERED`); the server's memory (RSS) after each; then
   `sessions` browser sessions at once, each uploading a different clip, checked against
   `mgc.classify` of the same file. Needs Playwright and Debian's chromium (`/usr/bin/chromium`).
5. **training**: one training step of each picture model (`mgc.train.pictures.train_step`, a batch of 32
   crops of the mean training width from the dataset's pictures) in float32 and in bf16 mixed
   precision: milliseconds per step and the ratio fp32 / bf16. bf16 is timed only where the CPU
   computes it natively (what `precision="auto"` trains in); else it is left out. From those steps, the validation
   and the listening conditions timed alike, what `train --all --split both` spends on its picture models
   (`zoo_training_estimate`: per family and split, an epoch's seconds and the recipe's minutes).
6. **musicnn**: the pretrained tagger on a 30-s clip's ten 3-s patches — its log-mel front end, the network as
   first ported (the checkpoint's layout, `Musicnn`: all patches at once, batch norms separate, default memory
   layout, under `torch.no_grad`) against mgc's (`FoldedMusicnn`: batch norm folded, channels-last, a few patches
   at a time, under `torch.inference_mode`), both giving the taggram and the embedding, with the ratio; and
   `mgc.explain.taggram` whole (front end and network).

Nothing here is a test: the figures depend on the machine. The README's performance section quotes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from .data.gtzan import REPO_ROOT, default_data_dir

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = {
    "Home": ("", "Which genre is this music?"),
    "Classify": ("classify", "Classify"),
    "Evaluation": ("evaluation", "Evaluation"),
    "Model comparison": ("model_comparison", "Model comparison"),
    "Dataset": ("dataset", "Dataset"),
}
"""Page title → (URL path, the heading that shows it has painted)."""
WAIT_MS = 180_000
"""The longest a browser waits for one step: the first classification on 2 cores loads torch and the models."""
SAMPLE_RATE = 22050


# ----------------------------------------------------------------------------------------------- inputs
ANSWER_LABELS = re.compile("Top genre|Closest genre|Not sure")
"""The labels of the Classify page's answer: a genre, the genre closest to what is not music, or "X or Y"."""


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


def _timings(call, runs: int, warmup: int) -> dict:
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
        model: _timings(lambda model=model: classify(mp3, model=model, split="random"), runs, warmup)
        for model in trained_models("random")
    }


def librosa_picture(y: np.ndarray) -> np.ndarray:
    """A 30-s clip's mel picture with librosa's own calls, as the representation's docstring states them:
    the reference that `mgc.frontends.picture.render_audio` (torch) is checked against."""
    import librosa

    from .frontends.picture import HOP_LENGTH, N_FFT, N_MELS, TOP_DB, _piece_columns, frame_of_column

    power = librosa.feature.melspectrogram(
        y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS, pad_mode="reflect"
    )
    decibels = librosa.amplitude_to_db(power, ref=np.max, top_db=TOP_DB)
    columns = frame_of_column(_piece_columns(power.shape[1], len(y) / SAMPLE_RATE), power.shape[1])
    return np.minimum(np.floor((decibels[:, columns] + TOP_DB) / TOP_DB * 256), 255).astype(np.uint8)


def seed_style_features(y: np.ndarray) -> np.ndarray:
    """Kaggle's 57 features the way the seed notebooks computed them: each librosa call from the waveform
    (its own STFT), `effects.hpss` for the harmonic and percussive parts, `beat.beat_track` for the tempo."""
    import librosa

    sr = SAMPLE_RATE
    frames = [
        librosa.feature.chroma_stft(y=y, sr=sr),
        librosa.feature.rms(y=y),
        librosa.feature.spectral_centroid(y=y, sr=sr),
        librosa.feature.spectral_bandwidth(y=y, sr=sr),
        librosa.feature.spectral_rolloff(y=y, sr=sr),
        librosa.feature.zero_crossing_rate(y),
        *librosa.effects.hpss(y),
    ]
    values = [stat(frame) for frame in frames for stat in (np.mean, np.var)]
    values.append(float(np.atleast_1d(librosa.beat.beat_track(y=y, sr=sr)[0])[0]))
    values += [stat(band) for band in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20) for stat in (np.mean, np.var)]
    return np.asarray(values, dtype=np.float64)


def seed_style_classify(path: Path, model: str, split: str = "random") -> np.ndarray:
    """Classify `path` the seeds' way: everything per call, librosa all the way, plain layers.

    A picture model reads librosa's mel picture; a feature model `seed_style_features`; the hybrid both, its
    picture model built and loaded per call too."""
    import types

    import librosa
    import torch
    from torch import nn

    from .frontends import FEATURES, PICTURE, PICTURE_AND_FEATURES
    from .frontends.picture import picture_windows
    from .models import build_model, family
    from .models.modules import ConvBlock
    from .runs import run_dir

    def built(name: str) -> nn.Module:
        saved = torch.load(run_dir(name, split) / "model.pt", map_location="cpu", weights_only=True)
        network = build_model(saved["family"], saved["config"])
        network.load_state_dict(saved["state_dict"])  # a hybrid's file holds its head; its picture model follows
        network.eval()
        for block in network.modules():
            if isinstance(block, ConvBlock):  # the layers one by one, as written: no folding, no layout change
                block.forward = types.MethodType(nn.Sequential.forward, block)
        if saved["family"] == "hybrid":
            network.attach_picture(built(saved["config"]["picture_model"])[0])
        return network, saved

    y, _ = librosa.load(path, sr=SAMPLE_RATE)
    network, saved = built(model)
    frontend = family(saved["family"]).frontend
    with torch.no_grad():
        if frontend is FEATURES:
            logits = network(torch.as_tensor(seed_style_features(y)[None]))["logits"]
        elif frontend is PICTURE:
            logits = network(picture_windows(librosa_picture(y)))["logits"]
        elif frontend is PICTURE_AND_FEATURES:
            logits = network(picture_windows(librosa_picture(y)), torch.as_tensor(seed_style_features(y)[None]))[
                "logits"
            ]
        else:
            raise ValueError(f"no seed-style path for {model}'s front end {frontend}")
    return torch.softmax(logits, dim=1).mean(dim=0).numpy()


def seed_style(mp3: bytes, ours: dict[str, dict], runs: int, warmup: int) -> dict[str, dict]:
    """Seed-style timings of every single model, with the ratio mgc / seed style; an ensemble's seed style is
    its members' seed-style medians added up (the seeds ran each model on its own)."""
    from .runs import is_ensemble, load_ensemble

    singles = [m for m in ours if not is_ensemble(m, "random")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        path = Path(folder) / "clip.mp3"
        path.write_bytes(mp3)
        for model in singles:
            results[model] = _timings(lambda model=model: seed_style_classify(path, model), runs, warmup)
    for model in ours:
        if is_ensemble(model, "random"):
            members = load_ensemble(model, "random").members
            if all(member in results for member in members):
                results[model] = {"median_ms": sum(results[member]["median_ms"] for member in members)}
    for model, timing in results.items():
        timing["mgc_ratio"] = ours[model]["median_ms"] / timing["median_ms"]
    return results


def stages(mp3: bytes, runs: int, warmup: int, model: str = "crnn", feature_model: str = "mlp") -> dict[str, dict]:
    """Where `classify` spends its time: decode, the not-music gate (which every model's answer goes through),
    the mel picture and a picture model on it, the 57 features (and, inside them, the HPSS's median filters)
    and a feature model on them."""
    import torch

    from .data.audio import load_audio
    from .frontends import FEATURES
    from .frontends.features import _median_rows, extract_features
    from .frontends.picture import PICTURE, render_audio
    from .gate import check
    from .runs import load_model
    from .runs.outputs import window_outputs

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
        "decode and resample": _timings(lambda: load_audio(mp3), runs, warmup),
        "not-music gate": _timings(lambda: check(audio.samples, audio.sample_rate), runs, warmup),
        "mel picture": _timings(lambda: render_audio(audio.samples), runs, warmup),
        f"{model} over the windows": _timings(lambda: window_outputs(network, PICTURE, picture), runs, warmup),
        "57 features": _timings(lambda: extract_features(audio.samples), runs, warmup),
        "  of which the HPSS's median filters": _timings(
            lambda: (_median_rows(magnitudes), _median_rows(np.ascontiguousarray(magnitudes.T))), runs, warmup
        ),
        f"{feature_model} on the features": _timings(
            lambda: window_outputs(feature_network, FEATURES, features), runs, warmup
        ),
    }


def musicnn(mp3: bytes, runs: int, warmup: int) -> dict[str, dict]:
    """musicnn's taggram of one clip: front end, the naive port and mgc's network (ratio), the whole taggram."""
    import torch

    from .data.audio import load_audio
    from .explain import taggram
    from .frontends import MUSICNN_INPUT
    from .models.musicnn import load_musicnn

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
        "log-mel patches": _timings(lambda: MUSICNN_INPUT.from_audio(audio), runs, warmup),
        "network, naive port": _timings(naive_port, runs, warmup),
        "network, mgc": _timings(mgc_network, runs, warmup),
        "taggram (log-mel and network)": _timings(lambda: taggram(audio), runs, warmup),
    }
    results["network, mgc"]["naive_ratio"] = (
        results["network, naive port"]["median_ms"] / results["network, mgc"]["median_ms"]
    )
    results["network, mgc"]["patches"] = len(patches)
    return results


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


def throughput(folder: Path | None = None, model: str = "crnn") -> dict:
    """`python -m mgc predict FOLDER` in a child process: clips per second and peak memory."""
    from .serve import audio_files

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
            row[precision] = _timings(step, runs, warmup)
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


# -------------------------------------------------------------------------------------------------- app
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(timeout: float = 90.0, env: dict[str, str] | None = None):
    """`streamlit run app.py` on a free local port: yields (url, process, seconds until healthy). `env`:
    variables added to this process's environment for the server (e.g. `MGC_MODELS_KEPT`)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as health:
                if health.read().strip() == b"ok":
                    break
            if process.poll() is not None or time.perf_counter() - started > timeout:
                process.kill()
                output = process.stdout.read().decode(errors="replace")[-3000:]
                raise RuntimeError(f"streamlit did not start:\n{output}")
            time.sleep(0.05)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process now (`VmRSS`) or at its peak (`VmHWM`), from Linux's /proc, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


RENDERED = (
    "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
    " && !document.querySelector('[data-stale=true], [data-testid=stSkeleton]')"
    " && [...document.querySelectorAll('[data-testid=stPlotlyChart]')].every(c => c.querySelector('.main-svg'))"
)
"""Painted: the page's script has finished (Streamlit's own marker on stApp), no element is left over from
the previous run (stale), no element is still loading its code (skeleton), and every plotly chart has
drawn. Wait for something of the new page first (its heading): just after a click the old page is still
there, and finished."""


def _run_async(coroutine):
    """Run a coroutine to its end in a thread of its own: the caller may already be inside an event loop
    (Playwright's sync API, as the browser tests use it, runs one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


TAB_RENDERED = (
    f"document.querySelector('[role=tabpanel] [data-testid=stElementContainer]:not([data-stale=true])') && {RENDERED}"
)
"""A tab opened (the pages' tabs are lazy: a click reruns the script, which fills the open tab) and painted."""


async def _painted(page, heading: str, started: float | None = None) -> dict:
    """Wait for the page's heading, then for the page to be complete (RENDERED); seconds since `started`."""
    await page.get_by_role("heading", name=heading).first.wait_for(timeout=WAIT_MS)
    shown = time.perf_counter()
    await page.wait_for_function(RENDERED, timeout=WAIT_MS)
    done = time.perf_counter()
    return {} if started is None else {"heading_s": shown - started, "complete_s": done - started}


async def _launch(playwright, extra_args=()):
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS + list(extra_args)
    )


async def _app_pages(url: str, pid: int) -> dict:
    from playwright.async_api import async_playwright

    first_paint, switches, tab_switches = {}, {}, {}
    async with async_playwright() as playwright:
        browser = await _launch(playwright)
        returning = await browser.new_context()  # one browser profile: its HTTP cache holds the app's code
        for title, (path, heading) in PAGES.items():  # each page first in a session of its own
            context = await browser.new_context()  # an empty cache: a first-ever visit
            page = await context.new_page()
            started = time.perf_counter()
            await page.goto(f"{url}/{path}")
            first_paint[title] = await _painted(page, heading, started)
            await context.close()
            page = await returning.new_page()  # a new tab is a new session too
            started = time.perf_counter()
            await page.goto(f"{url}/{path}")
            first_paint[title]["cached_complete_s"] = (await _painted(page, heading, started))["complete_s"]
            first_paint[title]["server_rss_mb"] = rss_mb(pid)
            await page.close()
        await returning.close()
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(url)
        await _painted(page, PAGES["Home"][1])
        for title, (_, heading) in [*list(PAGES.items())[1:], ("Home", PAGES["Home"])]:
            started = time.perf_counter()
            await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            switches[title] = {**await _painted(page, heading, started), "server_rss_mb": rss_mb(pid)}
        for title, (_, heading) in PAGES.items():  # then every tab of every page, in the same session
            await page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
            await _painted(page, heading)
            tabs = page.get_by_test_id("stTab")
            for index in range(1, await tabs.count()):
                name = (await tabs.nth(index).inner_text()).strip()
                started = time.perf_counter()
                await tabs.nth(index).click()
                await page.wait_for_function(TAB_RENDERED, timeout=WAIT_MS)
                tab_switches[f"{title} › {name}"] = time.perf_counter() - started
        await context.close()
        await browser.close()
    return {"first_paint": first_paint, "page_switch": switches, "tab_switch": tab_switches}


async def _classify_in_browser(browser, url: str, file: Path) -> dict:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)  # many sessions at once on 2 cores: a page may take a while to load
    try:
        page = await context.new_page()
        await page.goto(f"{url}/classify")
        await _painted(page, "Classify")
        started = time.perf_counter()
        await page.locator("input[type=file]").set_input_files(file)
        metrics = page.get_by_test_id("stMetric")
        genre = metrics.filter(has_text=ANSWER_LABELS).get_by_test_id("stMetricValue").first
        await genre.wait_for(timeout=WAIT_MS)
        await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        seconds = time.perf_counter() - started
        confidence = metrics.filter(has_text="Confidence").get_by_test_id("stMetricValue")
        errors = (
            await page.get_by_test_id("stException").count() + await page.get_by_test_id("stAlertContentError").count()
        )
        return {
            "file": file.name,
            "genre": (await genre.inner_text()).strip().split(" or ")[0],
            "confidence": (await confidence.inner_text()).strip(),
            "seconds": seconds,
            "errors": errors,
        }
    finally:
        await context.close()


async def _sessions(url: str, files: list[Path]) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await _launch(playwright)
        try:
            return list(
                await asyncio.gather(*(_classify_in_browser(browser, url, f) for f in files), return_exceptions=True)
            )
        finally:
            await browser.close()


def concurrent_sessions(url: str, pid: int, files: list[Path]) -> dict:
    """One browser session per file, all at once, each uploading its file on Classify; every answer is
    checked against `mgc.classify` of the same bytes (the CRNN of the random split, the page's default)."""
    from .serve import classify

    before = rss_mb(pid)
    started = time.perf_counter()
    answers = _run_async(_sessions(url, files))
    wall = time.perf_counter() - started
    results = []
    for file, answer in zip(files, answers):
        expected = classify(file.read_bytes())
        if isinstance(answer, BaseException):
            results.append({"file": file.name, "error": f"{type(answer).__name__}: {answer}", "matches": False})
            continue
        answer["expected"] = f"{expected.genre} {expected.confidence:.0%}"
        answer["matches"] = (answer["genre"], answer["confidence"]) == (expected.genre, f"{expected.confidence:.0%}")
        results.append(answer)
    return {
        "sessions": len(files),
        "wall_s": wall,
        "server_rss_mb_before": before,
        "server_rss_mb_after": rss_mb(pid),
        "all_match": all(r["matches"] for r in results),
        "errors": sum(1 for r in results if r.get("error") or r.get("errors")),
        "results": results,
    }


def session_files(folder: Path, count: int, seconds: float = 15.0) -> list[Path]:
    """`count` different MP3s of music (different genres when the dataset is here) written to `folder`."""
    files = []
    for name, samples in music_clips(count, seconds):
        path = folder / f"{name}.mp3"
        path.write_bytes(download_mp3(samples))
        files.append(path)
    return files


def app(sessions: int) -> dict:
    """Server start-up, page paints and switches, memory, and concurrent sessions."""
    if not CHROMIUM.is_file():
        return {"skipped": f"no chromium at {CHROMIUM} (apt-get install chromium)"}
    try:
        import playwright.async_api  # noqa: F401  (only to say early when it is missing)
    except ImportError:
        return {"skipped": "Playwright is not installed (pip install -r requirements-dev.txt)"}
    with app_server() as (url, process, healthy), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        result = {"healthy_s": healthy, "server_rss_mb_idle": rss_mb(process.pid)}
        result.update(_run_async(_app_pages(url, process.pid)))
        files = session_files(Path(folder), sessions + 1)
        first = concurrent_sessions(url, process.pid, files[:1])  # one visitor: loads torch and the model
        result["one_session"] = {k: first[k] for k in ("wall_s", "server_rss_mb_after", "all_match")}
        result["concurrent"] = concurrent_sessions(url, process.pid, files[1:])
        result["server_rss_mb_peak"] = rss_mb(process.pid, "VmHWM")
    return result


def _browser_ready() -> str | None:
    """Why the browser parts cannot run here, or None when they can."""
    if not CHROMIUM.is_file():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401  (only to say early when it is missing)
    except ImportError:
        return "Playwright is not installed (pip install -r requirements-dev.txt)"
    return None


def _settle(pid: int, seconds: float, every: float = 5.0) -> list[tuple[float, float]]:
    """Wait `seconds` with nobody on the server: (seconds since, RSS in MB) every `every` seconds."""
    started = time.perf_counter()
    samples = [(0.0, rss_mb(pid))]
    while (elapsed := time.perf_counter() - started) < seconds:
        time.sleep(min(every, seconds - elapsed))
        samples.append((time.perf_counter() - started, rss_mb(pid)))
    return samples


def load_test(sessions: int, settle_s: float = 60.0) -> dict:
    """Memory under load and after it, on a server of its own: its RSS idle (started, no visitor); after one
    session classified (torch and the default model loaded: the level a served app idles at); its peak while
    `sessions` browser sessions upload different clips at once (answers checked, errors counted); and its RSS
    `settle_s` seconds after the last of them closed."""
    if why := _browser_ready():
        return {"skipped": why}
    with app_server() as (url, process, _), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        pid = process.pid
        result = {"sessions": sessions, "server_rss_mb_idle": rss_mb(pid)}
        files = session_files(Path(folder), sessions + 1)
        first = concurrent_sessions(url, pid, files[:1])
        time.sleep(5.0)  # the first visitor's session closed, its script done
        result["server_rss_mb_served"] = rss_mb(pid)
        result["first_errors"] = first["errors"]
        load = concurrent_sessions(url, pid, files[1:])
        result["peak_mb"] = rss_mb(pid, "VmHWM")  # the peak since the server started: the load's
        result.update({k: load[k] for k in ("wall_s", "errors", "all_match", "results")})
        result["settle"] = _settle(pid, settle_s)
        result["server_rss_mb_settled"] = result["settle"][-1][1]
    return result


async def _choose(page, label: str, option: str) -> None:
    """Pick `option` in the selectbox labelled `label`, and wait for the page's rerun to finish."""
    await page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    await page.get_by_role("option", name=option, exact=True).click()
    await page.wait_for_timeout(500)  # the rerun has started (its elements turn stale)
    await page.wait_for_function(RENDERED, timeout=WAIT_MS)


async def _every_model(url: str, pid: int, file: Path, models: list[str]) -> list[dict]:
    from playwright.async_api import async_playwright

    rows = []
    async with async_playwright() as playwright:
        browser = await _launch(playwright)
        context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await context.new_page()
        await page.goto(f"{url}/classify")
        await _painted(page, "Classify")
        await page.locator("input[type=file]").set_input_files(file)
        metrics = page.get_by_test_id("stMetric")
        genre = metrics.filter(has_text=ANSWER_LABELS).get_by_test_id("stMetricValue").first
        await genre.wait_for(timeout=WAIT_MS)
        await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        await page.get_by_text("All models", exact=True).click()  # the picker lists three models until then
        await page.wait_for_timeout(500)
        await page.wait_for_function(RENDERED, timeout=WAIT_MS)
        for model in models:
            started = time.perf_counter()
            await _choose(page, "Model", model)
            errors = (
                await page.get_by_test_id("stException").count()
                + await page.get_by_test_id("stAlertContentError").count()
            )
            shown = (await genre.inner_text()).strip().split(" or ")[0] if await genre.count() else ""
            rows.append(
                {
                    "model": model,
                    "genre": shown,
                    "seconds": time.perf_counter() - started,
                    "errors": errors,
                    "server_rss_mb": rss_mb(pid),
                }
            )
        await context.close()
        await browser.close()
    return rows


def every_model(settle_s: float = 60.0) -> dict:
    """One session, on a server of its own, classifying one upload with every model of the random split in
    turn (the Classify page's model picker): the server's RSS after each, its peak, and `settle_s` seconds
    after the session closed."""
    from .runs import trained_models

    if why := _browser_ready():
        return {"skipped": why}
    models = sorted(trained_models("random"), key=lambda m: (m != "crnn", m))
    with app_server() as (url, process, _), tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        pid = process.pid
        result = {"server_rss_mb_idle": rss_mb(pid)}
        (file,) = session_files(Path(folder), 1)
        result["models"] = _run_async(_every_model(url, pid, file, models))
        result["errors"] = sum(row["errors"] + (row["genre"] == "") for row in result["models"])
        result["peak_mb"] = rss_mb(pid, "VmHWM")
        result["settle"] = _settle(pid, settle_s)
        result["server_rss_mb_settled"] = result["settle"][-1][1]
    return result


# ------------------------------------------------------------------------------------------------ report
def _print_table(title: str, rows: list[dict]) -> None:
    import pandas as pd

    print(f"\n## {title}\n")
    if rows:
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.1f}"))


def report(results: dict) -> None:
    """Print the bench results as tables."""
    print(f"mgc bench — {results['machine']}")
    if "latency" in results:
        seed = results.get("seed_style", {})
        _print_table(
            "Classify a 30-s MP3 (ms; median and 90th percentile)",
            [
                {
                    "model": m,
                    "median": t["median_ms"],
                    "p90": t["p90_ms"],
                    "seed style": seed.get(m, {}).get("median_ms", np.nan),
                    "mgc / seed": seed.get(m, {}).get("mgc_ratio", np.nan),
                }
                for m, t in results["latency"].items()
            ],
        )
        _print_table(
            "Where classify's time goes (ms, median)",
            [{"stage": s, "median": t["median_ms"]} for s, t in results.get("stages", {}).items()],
        )
    if "musicnn" in results:
        _print_table(
            "musicnn on a 30-s clip (ms; median and 90th percentile): naive port / mgc = "
            f"{results['musicnn']['network, mgc']['naive_ratio']:.1f}×",
            [{"stage": s, "median": t["median_ms"], "p90": t["p90_ms"]} for s, t in results["musicnn"].items()],
        )
    if "throughput" in results:
        _print_table("python -m mgc predict DIR", [results["throughput"]])
    if "training" in results:
        _print_table(
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
        _print_table(
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
    if "app" in results:
        app_results = results["app"]
        if "skipped" in app_results:
            print(f"\n## App\n\nskipped: {app_results['skipped']}")
            return
        print(
            f"\n## App\n\nhealthy server after {app_results['healthy_s']:.1f} s, "
            f"RSS {app_results['server_rss_mb_idle']:.0f} MB"
        )
        _print_table(
            "Each page opened in a new session (s): heading shown, page complete (script done, charts "
            "drawn) with an empty browser cache and with the app's code cached; server RSS after (MB)",
            [
                {
                    "page": p,
                    "heading": v["heading_s"],
                    "complete": v["complete_s"],
                    "complete, cached": v["cached_complete_s"],
                    "server MB": v["server_rss_mb"],
                }
                for p, v in app_results["first_paint"].items()
            ],
        )
        _print_table(
            "Page switches within a session (s): heading shown, page complete",
            [
                {"to": p, "heading": v["heading_s"], "complete": v["complete_s"], "server MB": v["server_rss_mb"]}
                for p, v in app_results["page_switch"].items()
            ],
        )
        _print_table(
            "Tab switches within a page (s): tab clicked → its content complete",
            [{"tab": t, "complete": v} for t, v in app_results.get("tab_switch", {}).items()],
        )
        one = app_results["one_session"]
        print(
            f"\nOne session uploading an MP3 (the server's first classification): {one['wall_s']:.1f} s, "
            f"server RSS after {one['server_rss_mb_after']:.0f} MB, answer matches mgc.classify: {one['all_match']}"
        )
        concurrent = app_results["concurrent"]
        _print_table(
            f"{concurrent['sessions']} sessions at once, each uploading an MP3 "
            f"({concurrent['wall_s']:.1f} s in all; server {concurrent['server_rss_mb_before']:.0f} → "
            f"{concurrent['server_rss_mb_after']:.0f} MB; peak {app_results['server_rss_mb_peak']:.0f} MB)",
            [
                {k: r.get(k) for k in ("file", "genre", "confidence", "expected", "matches", "seconds", "error")}
                for r in concurrent["results"]
            ],
        )


def _report_memory(results: dict) -> None:
    if "load" in results:
        load = results["load"]
        if "skipped" in load:
            print(f"\n## Load\n\nskipped: {load['skipped']}")
        else:
            settled_after = load["settle"][-1][0]
            print(
                f"\n## {load['sessions']} sessions at once, each uploading an MP3 (server memory, MB)\n\n"
                f"idle {load['server_rss_mb_idle']:.0f}; after one visitor {load['server_rss_mb_served']:.0f}; "
                f"peak under load {load['peak_mb']:.0f}; {settled_after:.0f} s after the sessions closed "
                f"{load['server_rss_mb_settled']:.0f} "
                f"({load['server_rss_mb_settled'] - load['server_rss_mb_served']:+.0f} against after one visitor)\n"
                f"errors {load['errors']}, answers equal to mgc.classify: {load['all_match']}, "
                f"{load['wall_s']:.1f} s in all; RSS while settling: "
                + ", ".join(f"{mb:.0f}" for _, mb in load["settle"])
            )
    if "models" in results:
        models = results["models"]
        if "skipped" in models:
            print(f"\n## Every model\n\nskipped: {models['skipped']}")
        else:
            _print_table(
                f"One session trying every model on one upload (server idle {models['server_rss_mb_idle']:.0f} MB, "
                f"peak {models['peak_mb']:.0f} MB, {models['settle'][-1][0]:.0f} s after it closed "
                f"{models['server_rss_mb_settled']:.0f} MB; errors {models['errors']})",
                [{k: row[k] for k in ("model", "genre", "seconds", "server_rss_mb")} for row in models["models"]],
            )


def machine() -> str:
    import platform

    import torch

    return (
        f"{os.cpu_count()} CPUs, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"Python {platform.python_version()}"
    )


def run(
    parts: list[str],
    runs: int = 20,
    warmup: int = 3,
    sessions: int = 8,
    load_sessions: int = 24,
    out: Path | None = None,
) -> dict:
    """Run the chosen parts (latency, musicnn, throughput, app, training, load, models), print them and write the JSON
    file."""
    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    if "latency" in parts:
        mp3 = download_mp3(music_clips(1)[0][1])
        results["latency"] = latency(mp3, runs, warmup)
        results["seed_style"] = seed_style(mp3, results["latency"], runs, warmup)
        results["stages"] = stages(mp3, runs, warmup)
    if "musicnn" in parts:
        results["musicnn"] = musicnn(download_mp3(music_clips(1)[0][1]), runs, warmup)
    if "throughput" in parts:
        results["throughput"] = throughput()
    if "training" in parts:
        results["training"] = training_steps(runs, warmup)
        results["zoo_training"] = zoo_training_estimate(results["training"])
    if "app" in parts:
        results["app"] = app(sessions)
    if "load" in parts:
        results["load"] = load_test(load_sessions)
    if "models" in parts:
        results["models"] = every_model()
    report(results)
    _report_memory(results)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=float) + "\n")
        print(f"\nwrote {out}")
    return results
