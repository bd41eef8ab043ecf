"""``evaluate`` and ``export``: score a model into a run folder; write TREC files or tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from hybrid_core.cli.common import add_data_options, load_sets, non_negative_int, positive_int
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
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run
    from hybrid_core.models.encode import set_threads
    from hybrid_core.runs import RunStore

    set_threads()
    if args.noise:  # bad spec: an error before anything loads or is written
        from hybrid_core.augment.noise import parse_noise_spec

        parse_noise_spec(args.noise)
    datasets = clean = load_sets(args)
    if args.noise:
        from hybrid_core.augment.perturb import perturb_queries

        datasets = [perturb_queries(ds, args.noise, args.noise_seed) for ds in clean]
    run, summaries = evaluate_model_as_run(
        args.model,
        datasets,
        run_name=args.run,
        store=RunStore(args.runs_dir),
        kinds=tuple(args.kinds),
        force=args.force,
        progress=True,
    )
    if args.noise:  # the perturbed query texts beside each result, so a user can read what was scored
        from hybrid_core.augment.perturb import save_query_texts

        for c, n in zip(clean, datasets, strict=True):
            print(save_query_texts(run.result_dir(n.name), c, n))
    for name, summary in summaries.items():
        print(
            f"\n{name}  ({summary['n_queries']} queries; encode {summary['timings']['encode_seconds']:.1f} s, "
            f"score {summary['timings']['score_seconds']:.1f} s)"
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
    sp.add_argument("--run", help="run name (default: eval-<model>)")
    sp.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    sp.add_argument("--force", action="store_true", help="recompute results already on disk")
    sp.add_argument(
        "--noise",
        help="perturb every query before scoring, e.g. typos:0.1,diacritics:1.0 (kinds: typos, casing, diacritics, "
        "punctuation, whitespace; rates in [0, 1]); results go to <data>-noise-<spec>-seed<n>",
    )
    sp.add_argument("--noise-seed", type=non_negative_int, default=0, help="seed of --noise (default 0)")
    add_data_options(sp)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser("export", help="write TREC run + qrels files, or summary tables as CSV / LaTeX")
    sp.add_argument("--run", required=True, help="run name")
    sp.add_argument("--format", choices=["trec", "csv", "latex"], default="trec")
    sp.add_argument("--setting", default="all", help="'en->de', 'en->multi' or 'all' (trec only)")
    sp.add_argument(
        "--depth", type=depth_arg, default=100, help="candidates per query in the run file, or 'full' (whole pool)"
    )
    sp.add_argument("--out", default="exports", help="output folder (default: exports/)")
    add_data_options(sp)
    sp.set_defaults(func=cmd_export)
