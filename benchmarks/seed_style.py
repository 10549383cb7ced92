"""`python -m benchmarks.seed_style`: mgc against the seed projects' way of classifying, in one run.

    python -m benchmarks.seed_style [--runs 20] [--warmup 3] [--out FILE.json]

The same 30-s MP3 (44.1 kHz stereo, as a download would be) is classified by every trained model of the random
split with `mgc.classify` (`mgc.bench.latency`) and the way the seed projects served it
(`tests/reference/seed_style.py`: `librosa.load`, librosa's mel spectrogram or each librosa feature from the
waveform, the model built and its weights loaded per call, its layers one by one under `torch.no_grad`): medians
and the ratio mgc / seed style. An ensemble's seed style is its members' seed-style medians added up (the seeds
ran each model on its own). Run from the repository root; nothing here is a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mgc.bench import download_mp3, latency, machine, music_clips, print_table, timings, write_results
from tests.reference.seed_style import seed_style_classify


def seed_style(mp3: bytes, ours: dict[str, dict], runs: int, warmup: int) -> dict[str, dict]:
    """Seed-style timings of every single model in `ours` (mgc's latencies), with the ratio mgc / seed style."""
    from mgc.runs import is_ensemble, load_ensemble

    singles = [m for m in ours if not is_ensemble(m, "random")]
    results = {}
    with tempfile.TemporaryDirectory(prefix="mgc-bench-") as folder:
        path = Path(folder) / "clip.mp3"
        path.write_bytes(mp3)
        for model in singles:
            results[model] = timings(lambda model=model: seed_style_classify(path, model), runs, warmup)
    for model in ours:
        if is_ensemble(model, "random"):
            members = load_ensemble(model, "random").members
            if all(member in results for member in members):
                results[model] = {"median_ms": sum(results[member]["median_ms"] for member in members)}
    for model, timing in results.items():
        timing["mgc_ratio"] = ours[model]["median_ms"] / timing["median_ms"]
    return results


def run(runs: int = 20, warmup: int = 3, out: Path | None = None) -> dict:
    """mgc's latency and the seed style's on the same clip, printed as one table and written to `out`."""
    mp3 = download_mp3(music_clips(1)[0][1])
    results: dict = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M")}
    results["latency"] = latency(mp3, runs, warmup)
    results["seed_style"] = seed_style(mp3, results["latency"], runs, warmup)
    print(f"benchmarks.seed_style — {results['machine']}")
    print_table(
        "Classify a 30-s MP3 (ms, median): mgc and the seed style, same run",
        [
            {
                "model": model,
                "mgc": timing["median_ms"],
                "seed style": results["seed_style"].get(model, {}).get("median_ms", float("nan")),
                "mgc / seed": results["seed_style"].get(model, {}).get("mgc_ratio", float("nan")),
            }
            for model, timing in results["latency"].items()
        ],
    )
    write_results(results, out)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed_style", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed calls per model (after --warmup calls)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here (JSON)")
    args = parser.parse_args(argv)
    run(args.runs, args.warmup, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
