"""``study``: plan or run a study file (``hybrid_core.studies``), and ``studies``: list study files and folders."""

from __future__ import annotations

import argparse

from hybrid_core.cli.common import add_precision, add_runs_dir, non_negative_int, positive_int
from hybrid_core.studies.spec import shipped_studies


def register(sub: argparse._SubParsersAction) -> None:
    sp = sub.add_parser(
        "study",
        help="plan / run a study: a grid of training arms x seeds, evaluated, with statistics, tables and figures",
        description=f"Run a study file (TOML) or a shipped study ({', '.join(shipped_studies())}). "
        "Finished runs and evaluations on disk are reused; interrupted training resumes.",
    )
    sp.add_argument("file", help="a .toml study file, or the name of a shipped study")
    sp.add_argument("--size", help="quick (2 CPU cores), medium or full (GPU); default quick when the file has it")
    sp.add_argument("--dry-run", action="store_true", help="print the plan and the estimated wall time, do nothing")
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/ (default: $HYBRID_IR_DATA or ./data)")
    sp.add_argument("--out", help="studies folder (default: $HYBRID_IR_STUDIES or cache/studies)")
    add_precision(sp, None, "; overrides the file's eval.precision; int8 tables go to <size>-int8/")
    sp.add_argument(
        "--seeds",
        nargs="+",
        type=non_negative_int,
        help="train / analyse these seeds instead of the size's (finished runs are reused; tables go to "
        "<size>-seeds0-1/), e.g. to read a study before its last seed is done, or to add seeds",
    )
    sp.add_argument("--n-boot", type=positive_int, default=None, help="bootstrap resamples (default 1000)")
    sp.add_argument("--progress", action="store_true", help="show progress bars")
    add_runs_dir(sp)
    sp.set_defaults(func=_study)

    ls = sub.add_parser("studies", help="list shipped study files and studies on disk with their status")
    ls.add_argument("--out", help="studies folder (default: $HYBRID_IR_STUDIES or cache/studies)")
    ls.set_defaults(func=_studies)


def _study(args) -> None:
    from hybrid_core.analysis import stats
    from hybrid_core.studies.runner import run_study
    from hybrid_core.studies.spec import load_study

    spec = load_study(args.file, args.size)
    if args.precision:
        import dataclasses

        spec = dataclasses.replace(spec, precision=args.precision)
    if args.seeds:
        spec = spec.with_seeds(args.seeds)
    run_study(
        spec,
        runs_dir=args.runs_dir,
        data_dir=args.data_dir,
        out_root=args.out,
        dry_run=args.dry_run,
        progress=args.progress,
        n_boot=args.n_boot or stats.N_BOOT,
    )


def _studies(args) -> None:
    from hybrid_core.studies.catalog import list_studies

    print("shipped studies: " + ", ".join(shipped_studies()))
    table = list_studies(args.out)
    print(table.to_string(index=False) if len(table) else "no studies on disk")
