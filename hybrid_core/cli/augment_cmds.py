"""``dapt``, ``convert`` and ``induce-dictionary``: domain-adaptive pretraining, passage-level BEIR folders,
bilingual dictionaries from parallel questions."""

from __future__ import annotations

from hybrid_core.cli.common import non_negative_int, positive_int


def cmd_dapt(args) -> None:
    from hybrid_core.models.encode import set_threads
    from hybrid_core.training.dapt import DaptConfig, run_dapt

    set_threads()
    cfg = DaptConfig(
        model=args.model,
        data=args.data,
        text_file=args.text_file,
        languages=tuple(args.languages) if args.languages else None,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup_steps,
        mlm_probability=args.mlm_probability,
        max_seq_length=args.max_seq_length,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
    )
    run_dapt(cfg, args.out, resume=args.resume, data_dir=args.data_dir)


def cmd_convert(args) -> None:
    from hybrid_core.data.convert import convert_to_beir
    from hybrid_core.data.specs import load_data_spec

    ds = load_data_spec(args.data, data_dir=args.data_dir, languages=args.languages)
    counts = convert_to_beir(ds, args.out, with_titles=args.with_titles, force=args.force)
    for lang, c in counts.items():
        print(f"{args.out}/{lang}: {c['passages']} passages, {c['queries']} queries, {c['judgements']} judgements")


def cmd_induce(args) -> None:
    from hybrid_core.augment.align import induce_dictionary
    from hybrid_core.augment.codeswitch import write_muse
    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.models.encode import set_threads
    from hybrid_core.models.loading import load_model

    set_threads()
    ds = load_data_spec(args.data, data_dir=args.data_dir, languages=[args.src, args.tgt])
    model = load_model(args.model)
    d, table = induce_dictionary(
        model,
        ds,
        args.src,
        args.tgt,
        method=args.method,
        layer=args.layer,
        min_count=args.min_count,
        max_pairs=args.max_pairs,
        seed=args.seed,
    )
    print(write_muse(d, args.out))
    print(f"{len(d)} entries for {len(d.entries)} {args.src} words; {d.source}")
    print(table.head(20).to_string(index=False))


def register(sub) -> None:
    sp = sub.add_parser("dapt", help="domain-adaptive masked-LM pretraining of a model on unlabeled text")
    sp.add_argument("--out", required=True, help="output folder (the model goes to <out>/model)")
    sp.add_argument("--model", help="base sentence-transformers model (default: multilingual-e5-small)")
    src = sp.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="use the candidate passages of this data spec (target-set text: recorded)")
    src.add_argument("--text-file", help="use this UTF-8 file, one passage per line")
    sp.add_argument("--languages", nargs="+", help="only these languages' passages (with --data)")
    sp.add_argument("--steps", type=positive_int, default=200)
    sp.add_argument("--batch-size", type=positive_int, default=16)
    sp.add_argument("--lr", type=float, default=5e-5)
    sp.add_argument("--warmup-steps", type=non_negative_int, default=20)
    sp.add_argument("--mlm-probability", type=float, default=0.15)
    sp.add_argument("--max-seq-length", type=positive_int, default=128)
    sp.add_argument("--seed", type=non_negative_int, default=0)
    sp.add_argument("--checkpoint-every", type=non_negative_int, default=50, help="0 = only the final model")
    sp.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/")
    sp.set_defaults(func=cmd_dapt)

    sp = sub.add_parser("convert", help="parallel LAReQA / SQuAD set -> passage-level BEIR folders, one per language")
    sp.add_argument("--data", required=True, help="data spec: xquad-r, mlqa-r, mlqa-r:test or a path")
    sp.add_argument("--out", required=True, help="output folder (gets <lang>/ subfolders and convert.json)")
    sp.add_argument("--languages", nargs="+", help="only these languages")
    sp.add_argument("--with-titles", action="store_true", help="write article titles (English in XQuAD-R)")
    sp.add_argument("--force", action="store_true", help="overwrite existing language folders")
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/")
    sp.set_defaults(func=cmd_convert)

    sp = sub.add_parser("induce-dictionary", help="bilingual dictionary from parallel questions by word alignment")
    sp.add_argument("--data", default="xquad-r", help="parallel data spec (default xquad-r)")
    sp.add_argument("--src", required=True, help="source language (ISO 639-1)")
    sp.add_argument("--tgt", required=True, help="target language")
    sp.add_argument("--out", required=True, help="MUSE-format output file (word<TAB>translation)")
    sp.add_argument("--model", help="encoder whose token embeddings align words (default: multilingual-e5-small)")
    sp.add_argument("--method", choices=["argmax", "itermax"], default="itermax")
    sp.add_argument("--layer", type=non_negative_int, help="hidden layer (default: 2/3 up the stack)")
    sp.add_argument("--min-count", type=positive_int, default=2, help="keep pairs aligned at least this often")
    sp.add_argument("--max-pairs", type=positive_int, help="seeded sample of question pairs")
    sp.add_argument("--seed", type=non_negative_int, default=0)
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/")
    sp.set_defaults(func=cmd_induce)
