"""`python -m mgc …`: train, evaluate, predict, robustness, check-gate, report, bench, data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import MgcError
from .runs.table import TABLE, ZOO, default_run, is_ensemble_name

__all__ = ["ZOO", "build_parser", "main"]
DEFAULT_MODEL = default_run("uploads")
"""The run a command uses when none is named (`mgc.runs.table`)."""


def _add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="GTZAN folder in the Kaggle layout (default: $MGC_DATA, else ../shared/gtzan)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mgc", description="Music genre classification on GTZAN.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (or the whole zoo) on a split and save its checkpoint")
    which = train.add_mutually_exclusive_group()
    which.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        choices=list(TABLE),
        metavar="MODEL",
        help="crnn, cnn-lstm, cnn or lstm (picture models); mlp (trains mlp-256, mlp-512-adam, mlp-512-sgd and "
        "mlp-1024-rmsprop, ships the best by validation accuracy as mlp) or one of those; logreg "
        "(scikit-learn baseline); hybrid (the cnn or crnn run's embedding with the 57 features, "
        "an MLP head); musicnn (a head on the pretrained musicnn's embedding, from the clips with audio); "
        "crnn-seed (the CRNN on the seeds' 12-kHz log-mel, from the clips with audio; also --frontend seed); "
        "ensemble-sum, ensemble-product, ensemble-vote or ensemble-best "
        "(built from the trained members' validation predictions)",
    )
    which.add_argument("--all", action="store_true", help="the whole zoo: " + ", ".join(ZOO))
    train.add_argument("--split", choices=["random", "filtered", "both"], default="random")
    train.add_argument("--epochs", type=int, default=None, help="upper bound on epochs (early stopping may end sooner)")
    train.add_argument(
        "--recipe",
        choices=["robust", "clean"],
        default="robust",
        help="picture models: clean trains on Kaggle's pictures as they are; robust (default) then fine-tunes that "
        "run through simulated listening conditions (speakers, rooms, noise, microphones)",
    )
    train.add_argument(
        "--fine-tune", action="store_true", help="picture models: only the robust fine-tuning of the run already there"
    )
    train.add_argument(
        "--frontend",
        choices=["seed"],
        default=None,
        help="train the model on another input: seed, the seeds' 12-kHz, 96-band log-mel from the clips with audio "
        "(`--model crnn --frontend seed` trains the family crnn-seed)",
    )
    train.add_argument("--device", default="cpu", help="cpu or cuda")
    train.add_argument("--out", type=Path, default=None, help="run folder (default checkpoints/<model>/<split>)")
    _add_data(train)

    evaluate = commands.add_parser("evaluate", help="cache test predictions and metrics of a trained model")
    which = evaluate.add_mutually_exclusive_group()
    which.add_argument(
        "--model", default=DEFAULT_MODEL, help="any trained run: crnn, mlp, mlp-256, …, logreg, hybrid, ensemble-sum, …"
    )
    which.add_argument("--all", action="store_true", help="every trained run in checkpoints/")
    evaluate.add_argument("--split", choices=["random", "filtered", "both"], default="random")
    _add_data(evaluate)

    predict = commands.add_parser("predict", help="classify an audio file or every audio file in a folder")
    predict.add_argument("path", type=Path)
    predict.add_argument("--model", default=DEFAULT_MODEL)
    predict.add_argument(
        "--split", choices=["random", "filtered"], default="random", help="which trained copy of the model to use"
    )
    predict.add_argument("--csv", type=Path, default=None, help="write one row per file to this CSV")
    predict.add_argument("--jobs", type=int, default=None, help="files classified at once (default: one per CPU)")

    robustness = commands.add_parser(
        "robustness", help="accuracy on the test clips with audio, clean and under each listening condition"
    )
    which = robustness.add_mutually_exclusive_group()
    which.add_argument("--model", default=DEFAULT_MODEL, help=f"any trained run (default {DEFAULT_MODEL})")
    which.add_argument("--all", action="store_true", help="every trained run of the split (they share the inputs)")
    robustness.add_argument("--split", choices=["random", "filtered", "both"], default="random")
    robustness.add_argument(
        "--conditions", default=None, help="comma-separated names from mgc.conditions.CONDITIONS (default: all)"
    )
    _add_data(robustness)

    check_gate = commands.add_parser(
        "check-gate",
        help="how often the not-music gate flags music, speech and other sounds: per kind, per held-out source and "
        "per listening condition (its labelled set, built here from GTZAN, ../shared/sounds and synthesised sound)",
    )
    check_gate.add_argument(
        "--fit",
        action="store_true",
        help="fit the gate on the set's fit part first (writes checkpoints/gate/gate.json)",
    )
    _add_data(check_gate)

    report = commands.add_parser("report", help="print the results table of every model in checkpoints/ (markdown)")
    report.add_argument(
        "--same-tracks",
        nargs=2,
        metavar=("MODEL", "OTHER"),
        help="instead: two evaluated runs on the test tracks both predicted (accuracy, Wilson 95 %% interval, "
        "McNemar's exact test), e.g. musicnn crnn",
    )

    bench = commands.add_parser(
        "bench",
        help="measure latency, musicnn, throughput and a training step on this machine (the app in a browser: "
        "python -m benchmarks.app)",
    )
    bench.add_argument(
        "--parts",
        default="latency,musicnn,throughput,training",
        help="comma-separated: latency (every model on a 30-s MP3, and where the time goes), musicnn (the pretrained "
        "tagger, against its naive port), throughput (predict over a folder), training (a training step in float32 "
        "and bf16, and the zoo's training time from it)",
    )
    bench.add_argument("--runs", type=int, default=20, help="timed calls per model (after --warmup calls)")
    bench.add_argument("--warmup", type=int, default=3)
    bench.add_argument("--out", type=Path, default=Path("bench.json"), help="where to write the figures (JSON)")

    data = commands.add_parser("data", help="say what a GTZAN folder holds")
    _add_data(data)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        splits = ("random", "filtered") if getattr(args, "split", None) == "both" else (getattr(args, "split", None),)
        if args.command == "train":
            from .train import train

            if args.all and args.out is not None:
                raise MgcError("--out names one run's folder; with --all every run goes to checkpoints/<model>/<split>")
            if args.frontend is not None:  # `--model crnn --frontend seed` names the table's run crnn-seed
                bases = [name for name in TABLE if f"{name}-{args.frontend}" in TABLE]
                if args.all or args.model not in bases:
                    raise MgcError(
                        f"--frontend {args.frontend} is for --model {' or '.join(bases)} "
                        f"(the family {', '.join(f'{name}-{args.frontend}' for name in bases)})"
                    )
            model_name = f"{args.model}-{args.frontend}" if args.frontend else args.model
            for split in splits:
                for model in ZOO if args.all else (model_name,):
                    train(
                        model,
                        split,
                        data=args.data,
                        epochs=args.epochs,
                        device=args.device,
                        out_dir=args.out,
                        recipe=args.recipe,
                        fine_tune_only=args.fine_tune,
                    )
        elif args.command == "evaluate":
            from .evaluate import evaluate
            from .runs import trained_models

            for split in splits:
                if args.all:  # single models first: an ensemble's parameter count reads its members
                    models = sorted(trained_models(split), key=lambda m: (is_ensemble_name(m), m))
                else:
                    models = [args.model]
                for model in models:
                    metrics = evaluate(model, split, data=args.data)
                    print(
                        f"{model} on the {split} split: accuracy {metrics['accuracy']:.3f}, "
                        f"macro F1 {metrics['macro_f1']:.3f}, macro ROC-AUC {metrics['macro_roc_auc']:.3f} "
                        f"over {metrics['test_tracks']} test tracks"
                    )
        elif args.command == "predict":
            from .serve import predict_command

            return predict_command(args.path, args.model, args.split, args.csv, args.jobs)
        elif args.command == "robustness":
            from .evaluate import robustness
            from .runs import trained_models

            names = args.conditions.split(",") if args.conditions else None
            for split in splits:
                models = trained_models(split) if args.all else [args.model]
                print(robustness.table(robustness.measure(models, split, data=args.data, names=names)))
        elif args.command == "check-gate":
            from .gate.fit import check_gate, printable_report

            reports, wrong = check_gate(args.data, fit=args.fit)
            print(printable_report(reports))
            if len(wrong):
                print(f"misjudged in the held-out part: {', '.join(wrong.name)}")
        elif args.command == "report":
            from .evaluate import markdown_table, results_table
            from .evaluate.report import same_tracks_table

            table = same_tracks_table(*args.same_tracks) if args.same_tracks else results_table()
            print(markdown_table(table))
        elif args.command == "bench":
            from .bench import run

            run([p.strip() for p in args.parts.split(",")], runs=args.runs, warmup=args.warmup, out=args.out)
        elif args.command == "data":
            from .data.gtzan import GTZAN

            print(GTZAN(args.data).describe())
    except MgcError as error:
        from .serve.predict import printable

        print(printable(f"error: {error}"), file=sys.stderr)  # file names in it may hold terminal escapes
        return 2
    return 0
