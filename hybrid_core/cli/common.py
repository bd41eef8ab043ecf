"""Options shared by several commands, and the one place that turns them into data sets."""

from __future__ import annotations

import argparse
import math

DEFAULT_SETS = ("xquad-r", "mlqa-r")


def _int_at_least(text: str, minimum: int, what: str) -> int:
    """An integer >= ``minimum`` from ``text``, or argparse's error naming ``what`` was expected."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0, "an integer >= 0")


def finite_float(text: str) -> float:
    """argparse type: a finite number (no nan / inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    """argparse type: a finite number >= 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one ``error:`` line (exit 2), like every other user error."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def run_name(text: str) -> str:
    """argparse type: a valid run name (checked before any data or model is loaded)."""
    from hybrid_core.errors import RunError
    from hybrid_core.runs import validate_name

    try:
        return validate_name(text)
    except RunError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_precision(sp: argparse.ArgumentParser, default: str | None = "fp32", extra: str = "") -> None:
    """``--precision fp32|int8``: the encoding precision (``default`` None = the preset's or study file's)."""
    from hybrid_core.models.precision import PRECISIONS

    sp.add_argument(
        "--precision",
        choices=list(PRECISIONS),
        default=default,
        help="int8: encode with the ONNX Runtime dynamic int8 export of the model, made once (README: Speed)" + extra,
    )


def add_runs_dir(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--runs-dir", help="run store (default: $HYBRID_IR_RUNS or cache/runs)")


def add_data_options(sp: argparse.ArgumentParser) -> None:
    """``--data``, ``--data-dir``, ``--languages``, ``--max-questions``, ``--seed``, ``--runs-dir``."""
    sp.add_argument(
        "--data",
        nargs="+",
        default=list(DEFAULT_SETS),
        help="data specs: xquad-r, mlqa-r, mlqa-r:test (article-disjoint part), or a path "
        "(LAReQA folder, BEIR folder, SQuAD .json)",
    )
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/ (default: $HYBRID_IR_DATA or ./data)")
    sp.add_argument("--languages", nargs="+", help="keep only these ISO 639-1 languages")
    sp.add_argument("--max-questions", type=positive_int, help="evaluate a seeded sample of this many question ids")
    sp.add_argument("--seed", type=non_negative_int, default=0, help="seed for --max-questions (default 0)")
    add_runs_dir(sp)


def load_sets(args) -> list:
    """The data sets named by ``--data`` (specs), restricted and sampled as the options say."""
    from hybrid_core.data.specs import load_data_spec

    return [
        load_data_spec(
            spec,
            data_dir=args.data_dir,
            languages=args.languages,
            max_questions=args.max_questions,
            sample_seed=args.seed,
        )
        for spec in args.data
    ]
