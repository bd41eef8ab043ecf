"""Run state on Home and Jobs (issue 13 §4): live, stopped, complete-but-cancelled; no "None"; α one rule."""

from __future__ import annotations

import shutil
import sys

import pytest

from hybrid_core import jobs
from hybrid_core.jobs import JobStatus
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, no_exceptions


@pytest.fixture
def store(dash, tmp_path, monkeypatch) -> RunStore:
    """tiny-0 and sweep-a0 (with results), a run folder with only run.json (cancelled training), a live run."""
    dest = tmp_path / "runs"
    for name in ("tiny-0", "sweep-a0"):
        shutil.copytree(dash.runs / name, dest / name)
    monkeypatch.setenv("HYBRID_IR_RUNS", str(dest))
    s = RunStore(dest)
    s.create("cancelled-run", kind="train", model="m", config={"sampler": "hybrid", "alpha": 0.5}).update_info(
        status="training", steps=0
    )
    s.create("live-run", kind="train", model="m", config={"sampler": "x-x-mono"}).update_info(
        status="training", steps=70
    )
    monkeypatch.setattr(jobs, "live_runs", lambda root=None: {"live-run": "training"})
    return s


def test_home_shows_state_hides_stopped_runs_and_never_none(store, dash) -> None:
    at = app("home")
    no_exceptions(at)
    runs = at.dataframe[0].value.set_index("run")
    assert sorted(runs.index) == ["live-run", "sweep-a0", "tiny-0"]
    assert runs.loc["live-run", "state"] == "training… (step 70)"
    assert runs.loc["tiny-0", "state"] == "done" and runs.loc["tiny-0", "data sets"] == dash.ds.name
    assert runs.loc["live-run", "mono mAP"] == "–"  # no result yet: a dash, never "None"
    assert "None" not in runs.astype(str).to_numpy().ravel().tolist()
    assert len(runs.loc["tiny-0", "created"]) == 16  # "YYYY-MM-DD HH:MM", uncut
    # α: the sampler's effective α (X-Y 0, X-X-mono 1), as on the Ablations page
    assert runs.loc["sweep-a0", "alpha"] == "0" and runs.loc["live-run", "alpha"] == "1"
    stopped = at.dataframe[1].value
    assert list(stopped["run"]) == ["cancelled-run"] and list(stopped["state"]) == ["stopped while training"]
    assert any("1 incomplete run(s)" in e.label for e in at.expander)


def test_home_explains_sample_names(tmp_path, monkeypatch, dash) -> None:
    dest = tmp_path / "runs"
    shutil.copytree(dash.runs / "tiny-0", dest / "tiny-0")
    shutil.copytree(dest / "tiny-0" / "results" / dash.ds.name, dest / "tiny-0" / "results" / "xquad-r-q60-s0")
    monkeypatch.setenv("HYBRID_IR_RUNS", str(dest))
    at = app("home")
    no_exceptions(at)
    assert any("xquad-r-q60-s0: a seeded sample of 60 questions of xquad-r (seed 0)" in c.value for c in at.caption)


def _job(argv: list[str], state: str = "cancelled") -> JobStatus:
    return JobStatus("j", "label", [sys.executable, "-m", "hybrid_core", *argv], 0.0, state, None, None, "")


def test_job_runs_from_command_lines() -> None:
    assert jobs.job_runs(_job(["train", "--run", "r1", "--steps", "3"])) == {"r1": "training"}
    assert jobs.job_runs(_job(["evaluate", "--runs", "a", "b", "--data", "x"])) == {
        "a": "evaluating",
        "b": "evaluating",
    }
    assert jobs.job_runs(_job(["evaluate", "--data", "xquad-r"])) == {"eval-multilingual-e5-small": "evaluating"}
    exp = jobs.job_runs(_job(["experiment", "--preset", "quick", "--name", "q2"]))
    assert exp == {
        "q2-base": "evaluating",
        "q2-x-x-mono": "training",
        "q2-x-y": "training",
        "q2-hybrid-0.5": "training",
    }
    assert jobs.job_runs(_job(["download"])) == {}


def test_cancelled_job_with_complete_results_is_labelled_so(store) -> None:
    assert jobs.outcome(_job(["evaluate", "--runs", "tiny-0", "--data", "x"])) == (
        "cancelled after finishing (results complete)"
    )
    assert jobs.outcome(_job(["train", "--run", "cancelled-run"])) == "cancelled"
    assert jobs.outcome(_job(["train", "--run", "cancelled-run"], state="failed")) == "failed"
