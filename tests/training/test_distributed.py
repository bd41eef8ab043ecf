"""Two real processes with torchrun (gloo on CPU): same mode per step, disjoint pairs, identical weights."""

from __future__ import annotations

import subprocess
import sys

import pytest
from safetensors.torch import load_file

from hybrid_core.runs import RunStore
from hybrid_core.training.trainer import read_log
from tests.numerics import assert_same_training

from .conftest import REPO, build_tiny_model, run_cli, subprocess_env


@pytest.fixture(scope="module")
def no_dropout_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-ddp"), dropout=0.0)


@pytest.mark.e2e
def test_two_processes_agree_and_match_one_process(no_dropout_model, synthetic_dir):
    store = RunStore()
    args = [
        "--model",
        str(no_dropout_model),
        "--data",
        str(synthetic_dir),
        "--sampler",
        "hybrid",
        "--alpha",
        "0.5",
        "--steps",
        "8",
        "--batch-size",
        "8",
        "--warmup-steps",
        "2",
        "--checkpoint-every",
        "4",
        "--hard-negatives",
        "--runs-dir",
        str(store.root),
    ]
    # --name: torchrun's own --run-path option would swallow --run
    ddp = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            "-m",
            "hybrid_core",
            "train",
            "--name",
            "ddp",
            *args,
        ],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    log = read_log(store.get("ddp"))
    steps = [r for r in log if "event" not in r]
    assert len(steps) == 8
    for r in steps:
        assert r["rank_modes"] == [[r["mode"], r["language"]]] * 2  # every rank drew the same mode
        q0, q1 = r["rank_question_ids"]
        assert len(q0) == len(q1) == 4 and not set(q0) & set(q1)  # disjoint halves
        assert q0 + q1 == r["question_ids"]  # of the one global batch
    assert {r["mode"] for r in steps} == {"x-x-mono", "x-y"}
    sums = next(r for r in log if r.get("event") == "rank_weight_sums")["sums"]
    assert sums[0] == sums[1]  # both ranks hold identical weights
    assert (store.path("ddp") / "checkpoints" / "step-4" / "rng-rank1.safetensors").is_file()

    # embeddings are gathered across ranks, so 2 x 4 pairs train exactly like 1 x 8 (dropout is off)
    single = run_cli(["train", "--run", "single", *args])
    assert single.returncode == 0, single.stderr[-2000:]
    a = load_file(str(store.path("ddp") / "model" / "model.safetensors"))
    b = load_file(str(store.path("single") / "model" / "model.safetensors"))
    assert_same_training(a, b, start=load_file(str(no_dropout_model / "model.safetensors")))
