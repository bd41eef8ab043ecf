"""Command line: ``python -m hybrid_core <command>``. Parses arguments and calls the core, nothing more."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hybrid_core.errors import HybridIRError

DEFAULT_SETS = ("xquad-r", "mlqa-r")


def _load_sets(args) -> list:
    from hybrid_core.data import load_dataset

    out = []
    for name in args.data:
        ds = load_dataset(name, data_dir=args.data_dir, languages=args.languages)
        if args.max_questions:
            ds = ds.subset(
                max_questions=args.max_questions, seed=args.seed, name=f"{ds.name}-q{args.max_questions}-s{args.seed}"
            )
        out.append(ds)
    return out


def cmd_setup(args) -> None:
    from hybrid_core.models import ensure_default_model

    path = ensure_default_model(verify=not args.no_verify, progress=True)
    print(f"default model ready: {path}")


def cmd_download(args) -> None:
    from hybrid_core.data import download_lareqa
    from hybrid_core.paths import data_dir

    dest = data_dir(args.data_dir)
    download_lareqa(dest, sets=tuple(args.sets), force=args.force)
    print(f"LAReQA data verified in {dest}")


def cmd_datasets(args) -> None:
    from hybrid_core.data import load_dataset

    for name in args.data:
        s = load_dataset(name, data_dir=args.data_dir).summary()
        print(
            f"{s['name']}: {s['queries']} queries ({s['questions']} questions), {s['candidates']} candidates, "
            f"languages {' '.join(s['languages'])}"
        )


def cmd_evaluate(args) -> None:
    from hybrid_core.encode import set_threads
    from hybrid_core.export import summary_table
    from hybrid_core.pipeline import evaluate_model_as_run
    from hybrid_core.runs import RunStore

    set_threads()
    datasets = _load_sets(args)
    _, summaries = evaluate_model_as_run(
        args.model,
        datasets,
        run_name=args.run,
        store=RunStore(args.runs_dir),
        kinds=tuple(args.kinds),
        force=args.force,
        progress=True,
    )
    for name, summary in summaries.items():
        print(
            f"\n{name}  ({summary['n_queries']} queries; encode {summary['timings']['encode_seconds']:.1f} s, "
            f"score {summary['timings']['score_seconds']:.1f} s)"
        )
        print(summary_table(summary).to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))


def cmd_export(args) -> None:
    from hybrid_core.evaluate import embed_dataset, settings_for
    from hybrid_core.export import parse_setting, settings_table, summary_table, write_table, write_trec
    from hybrid_core.models import load_model, model_fingerprint, resolve_model
    from hybrid_core.runs import RunStore

    run = RunStore(args.runs_dir).get(args.run)
    out = Path(args.out)
    datasets = _load_sets(args)
    for ds in datasets:
        if args.format in ("csv", "latex"):
            summary = run.summary(ds.name)
            ext = ".csv" if args.format == "csv" else ".tex"
            for label, table in (("summary", summary_table(summary)), ("settings", settings_table(summary))):
                print(
                    write_table(table, out / f"{run.name}-{ds.name}-{label}{ext}", caption=f"{run.name} on {ds.name}")
                )
            continue
        model_ref = resolve_model(run.info["model"])
        model = load_model(model_ref)
        q, c = embed_dataset(model, ds, model_fingerprint(model_ref), progress=True)
        settings = settings_for(ds) if args.setting == "all" else [parse_setting(args.setting, ds)]
        depth = None if args.depth == "full" else int(args.depth)
        for s in settings:
            paths = write_trec(ds, s, q, c, out / ds.name, depth=depth, tag=run.name)
            print(*paths)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hybrid_core",
        description="hybrid-ir: train and evaluate multilingual dense retrievers (mono / cross / multilingual).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="<command>")

    def data_opts(sp, many: bool = True) -> None:
        sp.add_argument(
            "--data",
            nargs="+" if many else 1,
            default=list(DEFAULT_SETS),
            help="data sets: xquad-r, mlqa-r, or a path (LAReQA folder, BEIR folder, SQuAD .json)",
        )
        sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/ (default: $HYBRID_IR_DATA or ./data)")
        sp.add_argument("--languages", nargs="+", help="keep only these ISO 639-1 languages")
        sp.add_argument("--max-questions", type=int, help="evaluate a seeded sample of this many question ids")
        sp.add_argument("--seed", type=int, default=0, help="seed for --max-questions (default 0)")
        sp.add_argument("--runs-dir", help="run store (default: $HYBRID_IR_RUNS or cache/runs)")

    sp = sub.add_parser("setup", help="convert the bundled multilingual-e5-small into cache/models and check it")
    sp.add_argument("--no-verify", action="store_true", help="skip the parallel-sentence retrieval check")
    sp.set_defaults(func=cmd_setup)

    sp = sub.add_parser("download", help="fetch XQuAD-R / MLQA-R from the LAReQA repository and verify sha256")
    sp.add_argument("--data-dir", help="destination (default: $HYBRID_IR_DATA or ./data)")
    sp.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), choices=DEFAULT_SETS)
    sp.add_argument("--force", action="store_true", help="download again even if verified files exist")
    sp.set_defaults(func=cmd_download)

    sp = sub.add_parser("datasets", help="show what a data set holds (queries, candidates, languages)")
    sp.add_argument("--data", nargs="+", default=list(DEFAULT_SETS))
    sp.add_argument("--data-dir")
    sp.set_defaults(func=cmd_datasets)

    sp = sub.add_parser("evaluate", help="evaluate a model on mono / cross / multilingual settings into a run folder")
    sp.add_argument("--model", help="sentence-transformers name or local folder (default: multilingual-e5-small)")
    sp.add_argument("--run", help="run name (default: eval-<model>)")
    sp.add_argument("--kinds", nargs="+", default=["mono", "cross", "multi"], choices=["mono", "cross", "multi"])
    sp.add_argument("--force", action="store_true", help="recompute results already on disk")
    data_opts(sp)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("export", help="write TREC run + qrels files, or summary tables as CSV / LaTeX")
    sp.add_argument("--run", required=True, help="run name")
    sp.add_argument("--format", choices=["trec", "csv", "latex"], default="trec")
    sp.add_argument("--setting", default="all", help="'en->de', 'en->multi' or 'all' (trec only)")
    sp.add_argument("--depth", default="100", help="candidates per query in the run file, or 'full' for the whole pool")
    sp.add_argument("--out", default="exports", help="output folder (default: exports/)")
    data_opts(sp)
    sp.set_defaults(func=cmd_export)

    try:
        from hybrid_core.train_cli import add_train_parsers
    except ImportError:
        pass
    else:
        add_train_parsers(sub)
    return p


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    """Entry point; user errors print one line and exit 2, never a traceback."""
    args = (parser or build_parser()).parse_args(argv)
    try:
        args.func(args)
    except HybridIRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
