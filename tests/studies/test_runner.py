"""A study end to end on a tiny model: plan, train, merge, evaluate, tables; skip on rerun; kill -9 safe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from hybrid_core.io_utils import read_json
from hybrid_core.runs import RunStore
from hybrid_core.studies.plan import build_plan
from hybrid_core.studies.runner import run_study
from hybrid_core.studies.spec import load_study
from hybrid_core.studies.tables import read_results
from tests.training.conftest import REPO, run_cli, subprocess_env

NUMERIC = ["value", "ci_low", "ci_high", "delta", "delta_low", "delta_high", "se", "p", "p_adj", "d", "mde"]


def test_study_end_to_end_then_rerun_skips_everything(tiny_study, tmp_path, synthetic_dir) -> None:
    spec = load_study(tiny_study, "quick")
    runs, out = tmp_path / "runs", tmp_path / "studies"
    store = RunStore(runs)
    store.root.mkdir(parents=True)
    (store.root / "tiny-quick-x-x-mono-s0").mkdir()  # a folder killed before its run.json was written
    dry, _ = run_study(spec, runs_dir=runs, out_root=out, dry_run=True, log=lambda *a: None)
    assert [c.state for c in dry.cells] == ["todo"] * 4 and not list(runs.glob("tiny-*/run.json"))
    from hybrid_core.studies.catalog import list_studies

    assert list_studies(out)[["study", "size", "state"]].values.tolist() == [["tiny", "quick", "planned"]]
    assert read_json(out / "tiny" / "quick" / "plan.json")["estimate"]["total"] > 0
    assert "estimated wall time" in dry.describe() and "seeded sample of" in dry.describe()

    logs: list[str] = []
    plan, folder = run_study(spec, runs_dir=runs, out_root=out, n_boot=100, n_perm=100, log=logs.append)
    for f in ("plan.json", "runs.json", "status.json", "results.csv", "report.md"):
        assert (folder / f).is_file(), f
    assert read_json(folder / "status.json")["state"] == "done"
    assert list((folder / "tables").glob("*--unseen.tex")) and list((folder / "figures").glob("*.json"))
    tidy = read_results(folder)
    ds = plan.datasets[0]["name"]
    assert ds.endswith("-q10-s0") and tidy["sampled"].all()
    # fr was held out of training: it is the unseen slice; the query side defines the slice
    assert plan.seen_languages == ["de", "en", "es"]
    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.training.samplers import build_pairs

    kept = build_pairs(load_data_spec(f"{synthetic_dir}:train"), languages=["de", "en", "es"]).pairs
    assert store.get("tiny-quick-x-y-s0").info["train_pairs"] == len(kept)  # exclude_languages reached training
    assert set(tidy["slice"]) == {"all", "seen", "unseen", "low-resource"}
    assert set(tidy.loc[tidy["slice"] == "unseen", "languages"]) == {"fr"}
    # numbers equal the runs' own summaries (slice all, one seed)
    for arm in ("base", "x-y", "x-x-mono", "soup-l0.5"):
        run = "tiny-quick-base" if arm == "base" else f"tiny-quick-{arm}-s0"
        macro = store.get(run).summary(ds)["macro"]
        rows = tidy[(tidy["arm"] == arm) & (tidy["slice"] == "all")].set_index(["kind", "metric"])["value"]
        for kind in ("mono", "cross", "multi"):
            assert rows[(kind, "map")] == pytest.approx(macro[kind]["map"], abs=1e-9)
        assert rows[("multi", "rank_distance")] == pytest.approx(macro["multi"]["rank_distance"], abs=1e-9)
    # baseline x-y is not tested; the others are, with one Holm family of 2 arms x 4 metrics per table
    tested = tidy[(tidy["slice"] == "all") & tidy["p"].notna()]
    assert set(tested["arm"]) == {"x-x-mono", "soup-l0.5"} and set(tested["family_size"]) == {8}
    assert (tested["p_adj"] >= tested["p"] - 1e-12).all() and (tested["mde"] > 0).all()
    # the merge is the average of its two models
    wa = load_file(store.path("tiny-quick-x-y-s0") / "model" / "model.safetensors")
    wb = load_file(store.path("tiny-quick-x-x-mono-s0") / "model" / "model.safetensors")
    wm = load_file(store.path("tiny-quick-soup-l0.5-s0") / "model" / "model.safetensors")
    for k in wa:
        torch.testing.assert_close(wm[k], (wa[k] + wb[k]) / 2)
    report = (folder / "report.md").read_text()
    assert "SAMPLED: a seeded sample of" in report and "Holm (1979)" in report and "Minimum detectable effect" in report

    # rerun: everything is on disk, nothing is trained or evaluated again, the tables are the same
    replan = build_plan(spec, runs_dir=runs)
    assert all(c.state == "done" and c.evals_done == [ds] for c in replan.cells)
    log_lines = (store.path("tiny-quick-x-y-s0") / "train_log.jsonl").read_text()
    logs2: list[str] = []
    run_study(spec, runs_dir=runs, out_root=out, n_boot=100, n_perm=100, log=logs2.append)
    assert (store.path("tiny-quick-x-y-s0") / "train_log.jsonl").read_text() == log_lines
    text = "\n".join(logs2)
    assert "trained already" in text and "merged already" in text and "not recomputed" in text
    assert "evaluating on" not in text
    pd.testing.assert_frame_equal(read_results(folder), tidy)


def test_seeds_override_reuses_runs_and_writes_its_own_labelled_tables(tiny_study, tmp_path) -> None:
    """``--seeds``: a study read over other seeds than its size's trains only the missing seeds, shares the run names
    (so the size's own run reuses them), and keeps its tables apart, saying which seeds they hold."""
    spec = load_study(tiny_study, "quick")
    runs, out = tmp_path / "runs", tmp_path / "studies"
    two = spec.with_seeds([0, 1])
    assert two.folder_name == "quick-seeds0-1" and two.size_seeds == (0,) and two.seeds == (0, 1)
    assert two.run_name(two.arm("x-y"), 1) == "tiny-quick-x-y-s1"  # the size's own naming: runs are shared
    assert two.with_seeds([0]).folder_name == "quick" and two.with_seeds([0]).size_seeds is None
    _, folder = run_study(two, runs_dir=runs, out_root=out, n_boot=50, n_perm=50, log=lambda *a: None)
    assert folder == out / "tiny" / "quick-seeds0-1"
    report = (folder / "report.md").read_text()
    assert "Training seeds 0, 1, chosen on the command line (--seeds); this size defines 0." in report
    tidy = read_results(folder)
    assert set(tidy.loc[tidy["arm"] != "base", "n_seeds"]) == {2}
    logs: list[str] = []
    _, own = run_study(spec, runs_dir=runs, out_root=out, n_boot=50, n_perm=50, log=logs.append)
    assert own == out / "tiny" / "quick" and "evaluating on" not in "\n".join(logs)  # seed 0 was trained above
    assert "chosen on the command line" not in (own / "report.md").read_text()
    assert set(read_results(own).loc[lambda t: t["arm"] != "base", "n_seeds"]) == {1}


@pytest.mark.parametrize("seeds, message", [(["0", "0"], "repeats a seed"), (["-1"], "expected an integer >= 0")])
def test_seeds_override_rejects_bad_seeds_before_anything_runs(tiny_study, seeds, message) -> None:
    out = run_cli(["study", str(tiny_study), "--dry-run", "--seeds", *seeds])
    assert out.returncode == 2 and message in out.stderr, out.stderr


def _wait(cond, proc, timeout=240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("the study finished (or timed out) before it could be interrupted")


@pytest.mark.e2e
def test_kill9_inside_and_between_runs_then_same_tables(tiny_study, tmp_path) -> None:
    args = ["study", str(tiny_study), "--size", "quick", "--n-boot", "100"]
    ref = run_cli([*args, "--runs-dir", str(tmp_path / "ref-runs"), "--out", str(tmp_path / "ref")])
    assert ref.returncode == 0, ref.stderr[-2000:]

    runs, out = tmp_path / "runs", tmp_path / "out"
    cmd = [sys.executable, "-m", "hybrid_core", *args, "--runs-dir", str(runs), "--out", str(out)]
    env = subprocess_env({"HYBRID_IR_STEP_DELAY": "0.4"})
    xy = runs / "tiny-quick-x-y-s0"
    # 1. inside a run: after its step-3 checkpoint, before step 6
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = xy / "train_log.jsonl"
    _wait(lambda: (xy / "checkpoints" / "step-3").is_dir() and log.is_file() and log.read_text().count("\n") >= 4, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (xy / "model").exists()
    status = json.loads((out / "tiny" / "quick" / "status.json").read_text())
    assert status["state"] == "running"  # what a killed process leaves; the catalog shows it as interrupted
    from hybrid_core.studies.catalog import list_studies

    assert list_studies(out)["state"].tolist() == ["interrupted"]

    # 2. between runs: once the runner has moved on to the next cell
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    status_file = out / "tiny" / "quick" / "status.json"

    def moved_on() -> bool:
        try:
            return json.loads(status_file.read_text()).get("current") == "tiny-quick-x-x-mono-s0"
        except (ValueError, OSError):
            return False

    _wait(moved_on, proc)
    os.kill(proc.pid, signal.SIGKILL)
    first = proc.communicate(timeout=30)[0]
    assert "resuming at step 3" in first

    final = run_cli([*args, "--runs-dir", str(runs), "--out", str(out)])
    assert final.returncode == 0, final.stderr[-2000:]
    assert "tiny-quick-x-y-s0: trained already" in final.stdout
    a = pd.read_csv(tmp_path / "ref" / "tiny" / "quick" / "results.csv")
    b = pd.read_csv(out / "tiny" / "quick" / "results.csv")
    pd.testing.assert_frame_equal(a.drop(columns=NUMERIC), b.drop(columns=NUMERIC))
    np.testing.assert_allclose(b[NUMERIC].to_numpy(float), a[NUMERIC].to_numpy(float), rtol=1e-4, atol=1e-6)
