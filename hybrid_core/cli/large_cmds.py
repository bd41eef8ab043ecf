"""``evaluate-large``: a model or runs on a BEIR folder too large for memory (a million passages)."""

from __future__ import annotations

from hybrid_core.cli.common import add_precision, add_runs_dir, positive_int, run_name
from hybrid_core.errors import HybridIRError

INDEXES = ("exact", "ivf", "hnsw")  # hybrid_core.evaluation.large_eval.INDEXES (not imported: --help stays fast)


def cmd_evaluate_large(args) -> None:
    from hybrid_core.evaluation.export import summary_table
    from hybrid_core.evaluation.large_eval import evaluate_large_run, scan_beir
    from hybrid_core.evaluation.run_eval import evaluate_model_as_run
    from hybrid_core.models.encode import set_threads
    from hybrid_core.runs import RunStore

    if args.runs and (args.model or args.run):
        raise HybridIRError(
            "--runs evaluates existing runs with their own models; do not combine it with --model/--run"
        )
    if args.check_recall and args.index == "exact":
        raise HybridIRError("--check-recall compares an approximate index with exact search; add --index ivf or hnsw")
    store = RunStore(args.runs_dir)
    runs = [store.get(name) for name in args.runs or []]  # unknown names fail before the corpus is read
    data = scan_beir(args.data, split=args.split, language=args.language)  # a bad folder fails before any write
    options = {
        "index": args.index,
        "k": args.k,
        "nlist": args.nlist,
        "nprobe": args.nprobe,
        "ef_search": args.ef_search,
        "check_recall": args.check_recall,
        "precision": args.precision,
        "shard_rows": args.shard_rows,
        "force": args.force,
    }
    set_threads()
    if runs:
        by_run = {run.name: evaluate_large_run(run, [data], **options) for run in runs}
    else:
        run, summaries = evaluate_model_as_run(
            args.model, [data], run_name=args.run, store=store, evaluate=evaluate_large_run, **options
        )
        by_run = {run.name: summaries}
    for rname, summaries in by_run.items():
        for summary in summaries.values():
            t = summary["timings"]
            print(
                f"\n{rname} on {summary['dataset']}  ({summary['n_queries']} queries, {summary['data']['candidates']} "
                f"passages, {summary['precision']}, {args.index}; encode {t['encode_seconds']:.1f} s, score "
                f"{t['score_seconds']:.1f} s)"
            )
            table = summary_table(summary)
            if "recall@1000" in summary["macro"].get("multi", {}):
                table["recall@1000"] = summary["macro"]["multi"]["recall@1000"]
            print(table.to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))
            for cut, value in summary.get("index", {}).get("recall_vs_exact", {}).items():
                print(f"recall{cut} of the {args.index} index against exact search: {value:.4f}")


def register(sub) -> None:
    sp = sub.add_parser(
        "evaluate-large",
        help="evaluate on a BEIR folder of any size (a million passages) with bounded memory, into a run folder",
        description="Embeddings stream to resumable shards under <cache>/large/ (a rerun continues at the first "
        "missing shard); search is exact in blocks, or an approximate FAISS index. Metrics: mAP (pool-wide), "
        "nDCG@10, Recall@1/10/100/1000, MRR@10, rank distance when queries have relevant passages in several "
        "languages.",
    )
    sp.add_argument("--data", required=True, help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
    sp.add_argument("--split", default="test", help="qrels split (default: test)")
    sp.add_argument("--language", help="ISO 639-1 language of every record without a language field")
    sp.add_argument("--model", help="sentence-transformers name or local folder (default: multilingual-e5-small)")
    sp.add_argument("--run", type=run_name, help="run name (default: eval-<model>)")
    sp.add_argument(
        "--runs", nargs="+", type=run_name, help="instead: evaluate these existing runs, each with its own model"
    )
    sp.add_argument(
        "--index",
        choices=INDEXES,
        default="exact",
        help="exact (default: every relevant passage ranked in the whole pool, blocked), or an approximate FAISS "
        "index: ivf (IVF-Flat) or hnsw",
    )
    sp.add_argument("--k", type=positive_int, default=1000, help="search depth of an approximate index (default 1000)")
    sp.add_argument("--nlist", type=positive_int, help="IVF lists (default: sqrt of the corpus size)")
    sp.add_argument("--nprobe", type=positive_int, default=32, help="IVF lists searched per query (default 32)")
    sp.add_argument("--ef-search", type=positive_int, default=128, help="HNSW search breadth (default 128, at least k)")
    sp.add_argument(
        "--check-recall",
        action="store_true",
        help="also search exactly and report the approximate index's recall@10/100/k against it",
    )
    add_precision(sp)
    sp.add_argument(
        "--shard-rows", type=positive_int, default=65_536, help="passages per embedding shard (default 65536)"
    )
    sp.add_argument("--force", action="store_true", help="recompute a result already on disk (shards are reused)")
    add_runs_dir(sp)
    sp.set_defaults(func=cmd_evaluate_large)
