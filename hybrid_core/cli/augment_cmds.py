"""``dapt``, ``convert``, ``induce-dictionary`` and ``translate``: domain-adaptive pretraining, passage-level
BEIR folders, bilingual dictionaries from parallel questions, translation through a pluggable backend."""

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
    for c in counts.values():
        print(
            f"{args.out}/{c['folder']}: {c['passages']} passages, {c['queries']} queries, {c['judgements']} judgements"
        )


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


def cmd_translate(args) -> None:
    from pathlib import Path

    from hybrid_core.io_utils import atomic_path
    from hybrid_core.translate import TranslateError, check_pair, get_translator
    from hybrid_core.translate.uses import round_trip

    if args.backend == "hf":
        if not args.model:
            raise TranslateError("the hf backend needs --model <folder of a seq2seq MT model>")
        translator = get_translator("hf", model=args.model, batch_size=args.batch_size, num_beams=args.num_beams)
    elif args.backend == "parallel":
        from hybrid_core.data.specs import load_data_spec

        translator = get_translator("parallel", dataset=load_data_spec(args.data or "xquad-r", data_dir=args.data_dir))
    else:
        from hybrid_core.augment.codeswitch import dictionary_file

        if not args.dictionary:
            raise TranslateError("the dictionary backend needs --dictionary <src>-<tgt>.txt (MUSE format)")
        translator = get_translator(
            "dictionary", dictionaries=[dictionary_file(f, "--dictionary") for f in args.dictionary]
        )
    check_pair(translator, args.src, args.tgt)  # before reading a long input
    if args.round_trip:
        check_pair(translator, args.tgt, args.src)
    if args.text:
        texts = list(args.text)
    else:
        from hybrid_core.training.dapt import read_text_file

        texts = read_text_file(args.file)
    out = (
        round_trip(translator, texts, args.src, args.tgt)
        if args.round_trip
        else translator.translate(texts, args.src, args.tgt)
    )
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            tmp.write_text("".join(t.replace("\n", " ") + "\n" for t in out), encoding="utf-8")
        print(f"{args.out}: {len(out)} lines ({translator.label})")
    else:
        for t in out:
            print(t)


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
    sp.add_argument("--out", required=True, help="output folder (gets <set>-<lang>/ subfolders and convert.json)")
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

    sp = sub.add_parser("translate", help="translate (or round-trip paraphrase) texts with an MT backend")
    sp.add_argument("--backend", choices=["hf", "parallel", "dictionary"], default="hf")
    sp.add_argument("--model", help="hf: folder of a seq2seq MT model (MarianMT opus-mt-*, M2M100, NLLB-200)")
    sp.add_argument("--data", help="parallel: the parallel data spec (oracle; default xquad-r)")
    sp.add_argument("--dictionary", nargs="+", help="dictionary: MUSE files named <src>-<tgt>.txt (weak stand-in)")
    sp.add_argument("--src", required=True, help="source language (ISO 639-1)")
    sp.add_argument("--tgt", required=True, help="target language (the pivot with --round-trip)")
    group = sp.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", nargs="+", help="texts to translate")
    group.add_argument("--file", help="UTF-8 file, one text per line")
    sp.add_argument("--round-trip", action="store_true", help="src -> tgt -> src: a paraphrase (back-translation)")
    sp.add_argument("--out", help="write one translation per line here (default: print)")
    sp.add_argument("--batch-size", type=positive_int, default=16)
    sp.add_argument("--num-beams", type=positive_int, default=1)
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/")
    sp.set_defaults(func=cmd_translate)
