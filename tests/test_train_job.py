"""The Jobs page's training job: auto split, the leak refused before anything starts, flags round-trip."""

from __future__ import annotations

import dataclasses

import pytest

from hybrid_core import jobs
from hybrid_core.cli import build_parser
from hybrid_core.cli.train_cmds import _train_config
from hybrid_core.training.trainer import TrainConfig, TrainConfigError


def test_auto_split_and_leak_refusal() -> None:
    args, label = jobs.train_job("r", eval_data="mlqa-r:test")
    assert args[args.index("--split") + 1] == "train" and "train part of mlqa-r" in label
    args, _ = jobs.train_job("r", eval_data="xquad-r")
    assert "--split" not in args  # all of mlqa-r, evaluated on another set: the default
    with pytest.raises(TrainConfigError, match="leaks its test questions"):
        jobs.train_job("r", split="all", eval_data="mlqa-r:test")
    with pytest.raises(Exception, match="give the run a name"):
        jobs.train_job("", eval_data="xquad-r")


def test_job_arguments_parse_back_to_the_same_config() -> None:
    args, _ = jobs.train_job(
        "r", sampler="x-y", steps=7, batch_size=4, seed=3, model="/m", eval_data="xquad-r", eval_max_questions=0
    )
    cfg = _train_config(build_parser().parse_args(args))
    expected = TrainConfig(
        model="/m", sampler="x-y", steps=7, batch_size=4, seed=3, eval_data="xquad-r", eval_max_questions=0
    )
    assert cfg == expected
    more = dataclasses.replace(expected, hard_negatives=True, freeze_word_embeddings=False, train_languages=("en",))
    from hybrid_core.cli.train_cmds import config_args

    assert _train_config(build_parser().parse_args(["train", "--run", "r", *config_args(more)])) == more
