"""``setup``, ``download``, ``datasets``: the default model and the data on disk."""

from __future__ import annotations

from hybrid_core.cli.common import DEFAULT_SETS


def cmd_setup(args) -> None:
    from hybrid_core.models.loading import ensure_default_model

    path = ensure_default_model(verify=not args.no_verify, progress=True)
    print(f"default model ready: {path}")


def cmd_download(args) -> None:
    from hybrid_core.data import download_lareqa
    from hybrid_core.paths import data_dir

    dest = data_dir(args.data_dir)
    download_lareqa(dest, sets=tuple(args.sets), force=args.force)
    print(f"LAReQA data verified in {dest}")


def cmd_datasets(args) -> None:
    from hybrid_core.data.specs import load_data_spec

    for spec in args.data:
        s = load_data_spec(spec, data_dir=args.data_dir).summary()
        print(
            f"{s['name']}: {s['queries']} queries ({s['questions']} questions), {s['candidates']} candidates, "
            f"languages {' '.join(s['languages'])}"
        )


def register(sub) -> None:
    sp = sub.add_parser("setup", help="convert the bundled multilingual-e5-small into cache/models and check it")
    sp.add_argument("--no-verify", action="store_true", help="skip the parallel-sentence retrieval check")
    sp.set_defaults(func=cmd_setup)

    sp = sub.add_parser("download", help="fetch XQuAD-R / MLQA-R from the LAReQA repository and verify sha256")
    sp.add_argument("--data-dir", help="destination (default: $HYBRID_IR_DATA or ./data)")
    sp.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), choices=DEFAULT_SETS)
    sp.add_argument("--force", action="store_true", help="download again even if verified files exist")
    sp.set_defaults(func=cmd_download)

    sp = sub.add_parser("datasets", help="show what a data set holds (queries, candidates, languages)")
    sp.add_argument("--data", nargs="+", default=list(DEFAULT_SETS), help="data specs (e.g. mlqa-r:test)")
    sp.add_argument("--data-dir")
    sp.set_defaults(func=cmd_datasets)
