"""Kill a real training process with SIGKILL after a checkpoint, resume it, and compare with an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from hybrid_core.runs import RunStore
from hybrid_core.training.trainer import read_log

from .conftest import REPO, run_cli, subprocess_env


@pytest.mark.e2e
def test_sigkill_then_resume_equals_uninterrupted_run(tiny_model_dir, synthetic_dir):
    store = RunStore()
    args = [
        "--model",
        str(tiny_model_dir),
        "--data",
        str(synthetic_dir),
        "--sampler",
        "hybrid",
        "--steps",
        "20",
        "--batch-size",
        "8",
        "--warmup-steps",
        "3",
        "--checkpoint-every",
        "8",
        "--hard-negatives",
        "--runs-dir",
        str(store.root),
    ]
    full = run_cli(["train", "--run", "full", *args])
    assert full.returncode == 0, full.stderr[-2000:]

    # the same run, slowed down so it can be killed between checkpoints (after step 8, before step 16)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hybrid_core", "train", "--run", "cut", *args],
        cwd=REPO,
        env=subprocess_env({"HYBRID_IR_STEP_DELAY": "0.3"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log_file = store.path("cut") / "train_log.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        lines = log_file.read_text().count("\n") if log_file.is_file() else 0
        if (store.path("cut") / "checkpoints" / "step-8").is_dir() and lines >= 10:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert not (store.path("cut") / "model").exists()
    assert len(read_log(store.get("cut"))) >= 10  # steps past the checkpoint were logged, then lost

    resumed = run_cli(["train", "--run", "cut", "--resume", "--runs-dir", str(store.root)])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming at step 8" in resumed.stdout

    a, b = read_log(store.get("full")), read_log(store.get("cut"))
    assert [r["step"] for r in b] == list(range(1, 21))
    for ra, rb in zip(a, b, strict=True):
        assert (ra["question_ids"], ra["mode"], ra["language"]) == (rb["question_ids"], rb["mode"], rb["language"])
        assert abs(ra["loss"] - rb["loss"]) < 1e-5
    wa = load_file(str(store.path("full") / "model" / "model.safetensors"))
    wb = load_file(str(store.path("cut") / "model" / "model.safetensors"))
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=1e-5, atol=1e-7, msg=k)
    assert store.get("cut").info["steps"] == store.get("full").info["steps"] == 20
