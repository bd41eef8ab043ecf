"""SIGKILL at each write boundary (``HYBRID_IR_KILL_AT``, see ``io_utils.kill_point``), then a rerun that
must give results equal to a clean run: evaluation results, embedding shards, training checkpoints,
job state. Each kill is a real ``kill -9`` of a ``python -m hybrid_core`` process."""

from __future__ import annotations

import signal
import subprocess
import sys

import pandas as pd
import pytest

from hybrid_core.io_utils import KILL_ENV, kill_point
from hybrid_core.runs import MANIFEST, PER_QUERY, SUMMARY, RunStore
from tests.training.conftest import REPO, subprocess_env

pytestmark = pytest.mark.e2e
KILLED = -signal.SIGKILL


def cli(*args: str, kill: str | None = None) -> subprocess.CompletedProcess:
    env = subprocess_env({KILL_ENV: kill} if kill else {})
    if not kill:
        env.pop(KILL_ENV, None)
    return subprocess.run(
        [sys.executable, "-m", "hybrid_core", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def test_kill_point_is_inert_unless_named(monkeypatch):
    monkeypatch.delenv(KILL_ENV, raising=False)
    kill_point("result:between-writes")  # unset: nothing happens
    monkeypatch.setenv(KILL_ENV, "some:other-point")
    kill_point("result:between-writes")


def _same_result(store: RunStore, a: str, b: str, ds: str) -> None:
    pa, pb = store.get(a).per_query(ds), store.get(b).per_query(ds)
    pd.testing.assert_frame_equal(pa.reset_index(drop=True), pb.reset_index(drop=True), check_exact=False, rtol=1e-6)
    sa, sb = store.get(a).summary(ds), store.get(b).summary(ds)
    assert sa["n_queries"] == sb["n_queries"] and sa["macro"].keys() == sb["macro"].keys()
    for kind, values in sa["macro"].items():
        assert values == pytest.approx(sb["macro"][kind], rel=1e-6)


def test_evaluation_killed_at_each_result_boundary(tiny_model, small_lareqa):
    store = RunStore()
    base = ["evaluate", "--model", str(tiny_model), "--data", str(small_lareqa), "--kinds", "mono", "cross"]
    assert cli(*base, "--run", "clean").returncode == 0
    assert cli(*base, "--run", "r").returncode == 0
    before = {n: (store.get("r").result_dir("small") / n).read_bytes() for n in (PER_QUERY, SUMMARY, MANIFEST)}
    for point in ("result:between-writes", "result:before-commit"):
        killed = cli(*base, "--run", "r", "--force", kill=point)
        assert killed.returncode == KILLED, killed.stderr[-1000:]
        # the committed result is still the previous one, whole and verified: never a mix of two evaluations
        after = {n: (store.get("r").result_dir("small") / n).read_bytes() for n in before}
        assert after == before
        assert store.get("r").has_result("small", store.get("r").summary("small")["data_fingerprint"], ("mono",))
    leftovers = [p.name for p in (store.get("r").path / "results").glob(".*.tmp")]
    assert leftovers  # a killed writer leaves its temporary folder ...
    rerun = cli(*base, "--run", "r", "--force")
    assert rerun.returncode == 0, rerun.stderr[-1000:]
    assert not list((store.get("r").path / "results").glob(".*.tmp"))  # ... which the next commit removes
    _same_result(store, "clean", "r", "small")

    # a first evaluation killed before its result is committed: the rerun computes it (nothing claims "on disk")
    assert cli(*base, "--run", "fresh", kill="result:between-writes").returncode == KILLED
    assert store.get("fresh").datasets() == []
    rerun = cli(*base, "--run", "fresh")
    assert rerun.returncode == 0 and "on disk" not in rerun.stdout
    _same_result(store, "clean", "fresh", "small")


def test_evaluation_killed_inside_the_shard_write(tiny_model, small_lareqa, tmp_path):
    store = RunStore()
    base = ["evaluate", "--model", str(tiny_model), "--data", str(small_lareqa), "--kinds", "mono"]
    assert cli(*base, "--run", "clean").returncode == 0
    emb = tmp_path / "emb"  # a cold cache for the killed run
    env_base = ["--run", "k"]
    killed = subprocess.run(
        [sys.executable, "-m", "hybrid_core", *base, *env_base],
        cwd=REPO,
        env=subprocess_env({KILL_ENV: "shard:inside-write", "HYBRID_IR_EMBEDDINGS": str(emb)}),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert killed.returncode == KILLED
    assert not list(emb.glob("*/shard-*.npz"))  # the half-written shard has a temporary name only
    assert list(emb.glob("*/.shard-*.tmp"))
    rerun = subprocess.run(
        [sys.executable, "-m", "hybrid_core", *base, *env_base],
        cwd=REPO,
        env={k: v for k, v in subprocess_env({"HYBRID_IR_EMBEDDINGS": str(emb)}).items() if k != KILL_ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr[-1000:]
    _same_result(store, "clean", "k", "small")


def test_training_killed_inside_a_checkpoint_write(tiny_model, small_lareqa):
    import torch
    from safetensors.torch import load_file

    store = RunStore()
    args = ["--model", str(tiny_model), "--data", str(small_lareqa), "--steps", "6", "--batch-size", "4"]
    args += ["--warmup-steps", "1", "--checkpoint-every", "2", "--log-every", "1"]
    assert cli("train", "--run", "full", *args).returncode == 0
    # the second checkpoint (step 4) dies after its files are written, before it is renamed into place
    killed = cli("train", "--run", "cut", *args, kill="atomic:trainer_state.json#2")
    assert killed.returncode == KILLED, killed.stderr[-1000:]
    ckpts = store.path("cut") / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == [".step-4.tmp", "step-2"]
    resumed = cli("train", "--run", "cut", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-1000:]
    assert "resuming at step 2" in resumed.stdout
    assert not (ckpts / ".step-4.tmp").exists()
    wa = load_file(str(store.path("full") / "model" / "model.safetensors"))
    wb = load_file(str(store.path("cut") / "model" / "model.safetensors"))
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=1e-5, atol=1e-7, msg=k)


def test_job_supervisor_killed_before_writing_rc(tmp_path):
    from hybrid_core import jobs

    argv = [sys.executable, "-c", "print('hello')"]
    job = jobs.start(argv, root=tmp_path, env={KILL_ENV: "job:before-rc"})
    jobs._ACTIVE[job].wait(timeout=60)
    st = jobs.status(job, tmp_path)
    assert st.state == "lost" and st.returncode is None  # not "done", not "running" forever
    again = jobs.start(argv, root=tmp_path, env={KILL_ENV: ""})
    jobs._ACTIVE[again].wait(timeout=60)
    st2 = jobs.status(again, tmp_path)
    assert st2.state == "done" and st2.returncode == 0
    assert jobs.tail(job, root=tmp_path) == jobs.tail(again, root=tmp_path)  # the same command, the same output
