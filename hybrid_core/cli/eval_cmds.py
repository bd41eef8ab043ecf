"""``evaluate`` and ``export``: score a model into a run folder; write TREC files or tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from hybrid_core.cli.common import add_data_options, add_precision, load_sets, non_negative_int, positive_int, run_name
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.settings import KINDS


def depth_arg(text: str) -> int | None:
    """argparse type for ``--depth``: a positive integer, or ``full`` (None = the whole pool)."""
    if text == "full":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a positive integer or 'full', got {text!r}") from None


def cmd_evaluate(args) -> None:
    from hybrid_core.evaluation.export import summary_table
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run, evaluate_runs
    from hybrid_core.models.encode import set_processes, set_threads
    from hybrid_core.runs import RunStore

    if args.processes > 1 and args.precision != "fp32":
        raise HybridIRError(
            "--processes > 1 needs --precision fp32 (an int8 ONNX Runtime session stays in one process)"
        )
    set_threads()
    set_processes(args.processes)
    store = RunStore(args.runs_dir)
    if args.runs and (args.model or args.run):
        raise HybridIRError(
            "--runs evaluates existing runs with their own models; do not combine it with --model/--run"
        )
    runs = [store.get(name) for name in args.runs or []]  # unknown names fail before any data is loaded
    if args.noise:  # bad spec: an error before anything loads or is written
        from hybrid_core.augment.noise import parse_noise_spec

        parse_noise_spec(args.noise)
    datasets = clean = load_sets(args)
    if args.noise:
        from hybrid_core.augment.perturb import perturb_queries

        datasets = [perturb_queries(ds, args.noise, args.noise_seed) for ds in clean]
    options = {"kinds": tuple(args.kinds), "force": args.force, "progress": True, "precision": args.precision}
    if runs:
        by_run = evaluate_runs(runs, datasets, **options)
    else:
        run, summaries = evaluate_model_as_run(args.model, datasets, run_name=args.run, store=store, **options)
        by_run = {run.name: summaries}
    if args.noise:  # the perturbed query texts beside each result, so a user can read what was scored
        from hybrid_core.augment.perturb import save_run_query_texts

        for r in runs or [store.get(next(iter(by_run)))]:
            for path in save_run_query_texts(r, list(zip(clean, datasets, strict=True))):
                print(path)
    for rname, summaries in by_run.items():
        for name, summary in summaries.items():
            print(
                f"\n{rname} on {name}  ({summary['n_queries']} queries, {summary.get('precision', 'fp32')}; encode "
                f"{summary['timings']['encode_seconds']:.1f} s, score {summary['timings']['score_seconds']:.1f} s)"
            )
            print(summary_table(summary).to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))


def cmd_export(args) -> None:
    from hybrid_core.evaluation.run_eval import export_run

    for path in export_run(
        args.run,
        load_sets(args),
        fmt=args.format,
        setting=args.setting,
        depth=args.depth,
        out=Path(args.out),
        runs_dir=args.runs_dir,
    ):
        print(path)


def register(sub) -> None:
    sp = sub.add_parser("evaluate", help="evaluate a model on mono / cross / multilingual settings into a run folder")
    sp.add_argument("--model", help="sentence-transformers name or local folder (default: multilingual-e5-small)")
    sp.add_argument("--run", type=run_name, help="run name (default: eval-<model>)")
    sp.add_argument(
        "--runs", nargs="+", type=run_name, help="instead: evaluate these existing runs, each with its own model"
    )
    sp.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    sp.add_argument("--force", action="store_true", help="recompute results already on disk")
    add_precision(sp)
    sp.add_argument(
        "--processes", type=positive_int, default=1, help="encoding worker processes (fp32; for many cores / GPUs)"
    )
    sp.add_argument(
        "--noise",
        help="perturb every query before scoring, e.g. typos:0.1,diacritics:1.0 (kinds: typos, casing, diacritics, "
        "punctuation, whitespace; rates in [0, 1]); results go to <data>-noise-<spec>-seed<n>",
    )
    sp.add_argument("--noise-seed", type=non_negative_int, default=0, help="seed of --noise (default 0)")
    add_data_options(sp)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("export", help="write TREC run + qrels files, or summary tables as CSV / LaTeX")
    sp.add_argument("--run", type=run_name, required=True, help="run name")
    sp.add_argument("--format", choices=["trec", "csv", "latex"], default="trec")
    sp.add_argument("--setting", default="all", help="'en->de', 'en->multi' or 'all' (trec only)")
    sp.add_argument(
        "--depth", type=depth_arg, default=100, help="candidates per query in the run file, or 'full' (whole pool)"
    )
    sp.add_argument("--out", default="exports", help="output folder (default: exports/)")
    add_data_options(sp)
    sp.set_defaults(func=cmd_export)
