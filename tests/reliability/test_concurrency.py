"""Concurrency: the same run evaluated or trained twice at once, racing result commits, racing job starts,
two dashboard sessions uploading at once. No lost or mixed results; a second trainer gets a clear error."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from hybrid_core.errors import HybridIRError
from hybrid_core.runs import RunStore
from tests.reliability.test_kill import _same_result, cli
from tests.training.conftest import REPO, subprocess_env

TEXT = {"text": True}


def _save_many(root: str, worker: int, rounds: int) -> None:
    run = RunStore(root).get("r")
    for k in range(rounds):
        n = 3 + worker  # each writer's rows differ in number, so a mixed pair would be visible
        pq = pd.DataFrame({"query_id": [f"q{i}" for i in range(n)], "map": float(worker * 100 + k)})
        run.save_result("toy", pq, {"data_fingerprint": "fp", "n_queries": n, "writer": worker, "round": k})


def test_racing_result_commits_never_mix(tmp_path):
    RunStore(tmp_path).create("r", kind="evaluate", model="m")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(str(tmp_path), w, 8)) for w in range(4)]
    stop = threading.Event()
    seen: list[tuple[dict, pd.DataFrame]] = []
    failures: list[BaseException] = []

    def read_while_writing() -> None:  # a reader (the dashboard) during the race sees whole results only
        run = RunStore(tmp_path).get("r")
        while not stop.is_set():
            try:
                seen.append((run.summary("toy"), run.per_query("toy")))
            except HybridIRError:
                continue  # between two renames there is briefly no result: absent or "being rewritten"
            except BaseException as exc:  # anything else fails the test
                failures.append(exc)
                return

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    stop.set()
    reader.join()
    run = RunStore(tmp_path).get("r")
    summary, pq = run.summary("toy"), run.per_query("toy")
    assert pq["query_id"].nunique() == summary["n_queries"] == 3 + summary["writer"]
    assert set(pq["map"]) == {float(summary["writer"] * 100 + summary["round"])}
    assert run.has_result("toy", "fp")
    assert [p.name for p in (run.path / "results").iterdir()] in (["toy", ".lock"], [".lock", "toy"])
    assert not failures, failures
    for s, pq in seen:  # each file read is whole: one writer's round, never a torn or foreign file
        assert s["n_queries"] == 3 + s["writer"]
        assert pq["map"].nunique() == 1 and pq["query_id"].nunique() == 3 + int(pq["map"].iloc[0]) // 100


@pytest.mark.e2e
def test_two_evaluations_of_one_run_at_once(tiny_model, small_lareqa):
    store = RunStore()
    base = ["evaluate", "--model", str(tiny_model), "--data", str(small_lareqa), "--kinds", "mono"]
    assert cli(*base, "--run", "clean").returncode == 0
    argv = [sys.executable, "-m", "hybrid_core", *base, "--run", "same"]
    procs = [
        subprocess.Popen(argv, cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **TEXT)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes and set(codes) <= {0, 2}, outs
    for code, (_, err) in zip(codes, outs, strict=True):
        if code == 2:  # lost the race to create the folder: told so in one line, wrote nothing
            assert err.strip().splitlines()[-1].startswith("error: run 'same'"), err
    _same_result(store, "clean", "same", "small")


@pytest.mark.e2e
def test_a_second_trainer_of_one_run_gets_a_clear_error(tiny_model, small_lareqa):
    store = RunStore()
    args = ["--model", str(tiny_model), "--data", str(small_lareqa), "--steps", "6", "--batch-size", "4"]
    args += ["--warmup-steps", "1", "--checkpoint-every", "2", "--log-every", "1"]
    first = subprocess.Popen(
        [sys.executable, "-m", "hybrid_core", "train", "--run", "t", *args],
        cwd=REPO,
        env=subprocess_env({"HYBRID_IR_STEP_DELAY": "1.0"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (store.path("t") / "train_log.jsonl").is_file():
        assert first.poll() is None, first.communicate()
        time.sleep(0.1)
    second = cli("train", "--run", "t", "--resume")
    assert second.returncode == 2
    assert second.stderr.strip().splitlines()[-1] == (
        "error: run 't' is already being used (train) by another process"
    ), second.stderr
    third = cli("train", "--run", "t", *args)
    assert third.returncode == 2 and "error: run 't'" in third.stderr
    _, err = first.communicate(timeout=600)
    assert first.returncode == 0, err[-2000:]
    from hybrid_core.training.trainer import read_log

    assert [r["step"] for r in read_log(store.get("t"))] == list(range(1, 7))  # one trainer's steps, once each


def test_racing_job_starts_respect_the_cap(tmp_path, monkeypatch):
    from hybrid_core import jobs

    monkeypatch.setenv("HYBRID_IR_MAX_JOBS", "1")
    argv = [sys.executable, "-c", "import time; time.sleep(20)"]

    def start():
        try:
            return jobs.start(argv, root=tmp_path)
        except HybridIRError as exc:
            return exc

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: start(), range(4)))
    started = [r for r in results if isinstance(r, str)]
    try:
        assert len(started) == 1
        assert all("the limit is 1" in str(r) for r in results if not isinstance(r, str))
    finally:
        for job in started:
            jobs.cancel(job, tmp_path)


def test_two_sessions_uploading_at_once_get_their_own_sets():
    import json

    from hybrid_core.data import uploads

    def upload(k: int):
        ctx = " ".join(f"W{k}x{j}." for j in range(3))  # capitals: each word is a sentence
        doc = {
            "data": [
                {
                    "title": f"t{k}",
                    "paragraphs": [
                        {"context": ctx, "qas": [{"id": f"q{k}", "question": f"ask {k}?", "answers": [
                            {"text": f"W{k}x1", "answer_start": ctx.index(f"W{k}x1")}]}]}
                    ],
                }
            ]
        }  # fmt: skip
        ds, _ = uploads.load_upload([("en.json", json.dumps(doc).encode())], name="upload")
        return k, ds

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(upload, range(32)))
    for k, ds in results:
        assert ds.queries["text"].tolist() == [f"ask {k}?"]
        assert ds.corpus["text"].tolist() == [f"W{k}x{j}." for j in range(3)]
