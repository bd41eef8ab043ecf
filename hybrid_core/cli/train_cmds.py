"""``train``, ``experiment`` and ``runs``: parse arguments, call the core, print.

``torchrun`` launches training like any other command::

    torchrun --nproc_per_node 2 -m hybrid_core train --name ddp-demo --sampler hybrid --steps 50

(``--name`` is ``--run`` spelt so that torchrun's own ``--run-path`` does not swallow it.)
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from hybrid_core.cli.common import (
    add_precision,
    add_runs_dir,
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)

# (flag, TrainConfig field, type, help); every default is None so an omitted flag keeps the preset's value.
_TRAIN_FLAGS: list[tuple[str, str, Callable[[str], Any], str]] = [
    ("--model", "model", str, "base model: sentence-transformers name or folder (default multilingual-e5-small)"),
    ("--data", "train_data", str, "training set: xquad-r, mlqa-r or a path (default mlqa-r)"),
    ("--split", "train_split", str, "'all', or 'train' = the article-disjoint train part (default all)"),
    ("--sampler", "sampler", str, "x-x | x-x-mono | x-y | hybrid (default hybrid)"),
    ("--alpha", "alpha", finite_float, "hybrid: probability of an X-X-mono batch (default 0.5)"),
    ("--steps", "steps", positive_int, "optimizer steps (default 1000)"),
    ("--batch-size", "batch_size", positive_int, "pairs per step over all processes (default 32; paper 100)"),
    ("--mini-batch-size", "mini_batch_size", positive_int, "GradCache chunk size for large batches on small memory"),
    ("--lr", "lr", positive_float, "peak learning rate (default 3e-5)"),
    ("--weight-decay", "weight_decay", non_negative_float, "AdamW weight decay (default 0.01)"),
    ("--warmup-steps", "warmup_steps", non_negative_int, "linear warm-up steps (default 100)"),
    ("--grad-clip", "grad_clip", positive_float, "max gradient norm (default 1.0)"),
    ("--temperature", "temperature", finite_float, "InfoNCE temperature (default 0.05)"),
    ("--max-seq-length", "max_seq_length", positive_int, "tokens per text in training (default 64)"),
    ("--seed", "seed", non_negative_int, "seed for batches, modes and dropout (default 0)"),
    ("--checkpoint-every", "checkpoint_every", non_negative_int, "steps between checkpoints (default 100; 0 = none)"),
    ("--keep-checkpoints", "keep_checkpoints", positive_int, "newest checkpoints kept (default 2)"),
    ("--log-every", "log_every", positive_int, "steps between progress updates (default 10)"),
    ("--eval-data", "eval_data", str, "evaluate on this set at the end, e.g. xquad-r or mlqa-r:test"),
    ("--eval-max-questions", "eval_max_questions", non_negative_int, "question sample for --eval-data (default 50)"),
    ("--eval-every", "eval_every", non_negative_int, "also evaluate every N steps (default 0 = end only)"),
    ("--augment", "augment", str, "augment training queries: 'noise=typos:0.1;codeswitch=0.3@en-de.txt'"),
    ("--augment-prob", "augment_prob", float, "share of training queries augmented (default 0.5)"),
]


def config_args(cfg) -> list[str]:
    """``train`` flags that reproduce ``cfg`` (a TrainConfig): one per option that differs from its default."""
    from hybrid_core.training.trainer import TrainConfig

    default = TrainConfig()
    out: list[str] = []
    for flag, field, _, _ in _TRAIN_FLAGS:
        if getattr(cfg, field) != getattr(default, field):
            out += [flag, str(getattr(cfg, field))]
    for field in ("hard_negatives", "freeze_word_embeddings"):
        if getattr(cfg, field) != getattr(default, field):
            out.append(f"--{'' if getattr(cfg, field) else 'no-'}{field.replace('_', '-')}")
    if cfg.train_languages is not None:
        out += ["--languages", *cfg.train_languages]
    return out


def _train_config(args):
    from hybrid_core.experiment import load_preset
    from hybrid_core.runs import RunStore
    from hybrid_core.training.trainer import TrainConfig

    base: dict = {}
    if args.resume and RunStore(args.runs_dir).exists(args.run):
        base = dict(RunStore(args.runs_dir).get(args.run).info.get("config", {}))
    elif args.preset:
        preset = load_preset(args.preset)
        base = dict(preset.get("train", preset))
    for _, field, _, _ in _TRAIN_FLAGS:
        if getattr(args, field) is not None:
            base[field] = getattr(args, field)
    for field in ("hard_negatives", "freeze_word_embeddings"):
        if getattr(args, field) is not None:
            base[field] = getattr(args, field)
    if args.languages is not None:
        base["train_languages"] = args.languages
    return TrainConfig.from_dict(base)


def cmd_train(args) -> None:
    from contextlib import nullcontext

    from hybrid_core.runs import RunStore
    from hybrid_core.training.trainer import train

    # one trainer per run name: a second one (not a torchrun peer) fails at once instead of mixing checkpoints
    lone = int(os.environ.get("RANK", "0")) == 0
    with RunStore(args.runs_dir).exclusive(args.run, "train") if lone else nullcontext():
        run = train(
            _train_config(args),
            args.run,
            resume=args.resume,
            data_dir=args.data_dir,
            runs_dir=args.runs_dir,
            device=args.device,
        )
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, one summary line is enough
        return
    info = run.info
    print(f"{run.name}: {info.get('status')} after {info.get('steps')} steps; model in {info.get('model')}")


def cmd_experiment(args) -> None:
    from hybrid_core.experiment import experiment_config, run_experiment, with_overrides
    from hybrid_core.models.encode import set_threads

    set_threads()
    overrides = {k: v for k, v in (("steps", args.steps), ("model", args.model)) if v is not None}
    cfg = experiment_config(args.preset, args.name, **overrides)
    cfg = with_overrides(cfg, overrides, eval_max_questions=args.eval_max_questions, precision=args.precision)
    run_experiment(cfg, data_dir=args.data_dir, runs_dir=args.runs_dir, out_dir=args.out)


def cmd_runs(args) -> None:
    import pandas as pd

    from hybrid_core.runs import RunStore

    table = RunStore(args.runs_dir).table()
    if table.empty:
        print(f"no runs in {RunStore(args.runs_dir).root}")
        return
    if args.kind:
        table = table[table["kind"] == args.kind]
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 60):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def register(subparsers) -> None:
    """Register ``train``, ``experiment`` and ``runs`` on the CLI's sub-parser set."""
    sp = subparsers.add_parser("train", help="fine-tune a model with X-X / X-X-mono / X-Y / hybrid batches")
    sp.add_argument(
        "--run",
        "--name",
        dest="run",
        required=True,
        help="run name (letters, digits, '.', '_', '-'); spell it --name under torchrun, whose own "
        "--run-path option swallows --run",
    )
    sp.add_argument("--resume", action="store_true", help="continue the run from its newest checkpoint")
    sp.add_argument("--preset", help="start from a preset's training options: quick, paper or a .json path")
    for flag, field, typ, help_ in _TRAIN_FLAGS:
        sp.add_argument(flag, dest=field, type=typ, default=None, help=help_)
    sp.add_argument("--languages", nargs="+", default=None, help="train only on pairs among these languages")
    for flag, field, help_ in (
        ("--hard-negatives", "hard_negatives", "add a same-paragraph hard negative per pair (default off)"),
        ("--freeze-word-embeddings", "freeze_word_embeddings", "freeze word embeddings (default on)"),
    ):
        sp.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction, default=None, help=help_)
    sp.add_argument("--device", help="cpu, cuda, cuda:1 (default: cuda if available)")
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/ (default: $HYBRID_IR_DATA or ./data)")
    add_runs_dir(sp)
    sp.set_defaults(func=cmd_train)

    sp = subparsers.add_parser("experiment", help="train X-X-mono, X-Y and hybrid from one start; compare them")
    sp.add_argument("--preset", default="quick", help="quick (CPU, < 45 min), paper (GPU) or a .json path")
    sp.add_argument("--name", help="experiment name (default: the preset's name)")
    sp.add_argument("--steps", type=positive_int, help="override the preset's steps per arm")
    sp.add_argument("--model", help="override the base model")
    sp.add_argument(
        "--eval-max-questions", type=non_negative_int, help="override the evaluation sample (0 = whole sets)"
    )
    add_precision(sp, None, "; overrides the preset's eval_precision; int8 tables go to <name>-int8, runs shared")
    sp.add_argument("--out", help="experiment folder (default: cache/experiments/<name>[-int8])")
    sp.add_argument("--data-dir", help="folder holding xquad-r/ and mlqa-r/")
    add_runs_dir(sp)
    sp.set_defaults(func=cmd_experiment)

    sp = subparsers.add_parser("runs", help="list runs: kind, model, sampler, steps, headline mAPs")
    sp.add_argument("--kind", choices=["train", "evaluate"], help="only runs of this kind")
    add_runs_dir(sp)
    sp.set_defaults(func=cmd_runs)
