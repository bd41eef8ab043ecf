"""Command line: ``python -m hybrid_core <command>``. Parses arguments and calls the core, nothing more.

Each module in this package registers its commands on the shared sub-parser set (``register``) and
imports the core lazily, so ``--help`` stays fast. User errors print one ``error:`` line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from hybrid_core.cli.common import Parser
from hybrid_core.errors import HybridIRError

#: Modules that register commands, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "hybrid_core.cli.data_cmds",
    "hybrid_core.cli.eval_cmds",
    "hybrid_core.cli.large_cmds",
    "hybrid_core.cli.train_cmds",
    "hybrid_core.cli.study_cmds",
    "hybrid_core.cli.augment_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="python -m hybrid_core",
        description="hybrid-ir: train and evaluate multilingual dense retrievers (mono / cross / multilingual).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="<command>")
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point; user errors (bad options included) print one line and return 2, never a traceback."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 2
    try:
        args.func(args)
    except HybridIRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0
