"""Ablation and job pages: the α sweep found from run configs, its CIs and exports; job start and cancel."""

from __future__ import annotations

import time

import pytest

from hybrid_core import jobs
from tests.dashboard.helpers import app, figures, no_exceptions, summary


def test_alpha_sweep_curve_table_and_downloads(dash) -> None:
    at = app("ablations")
    no_exceptions(at)
    assert at.selectbox(key="ablations_key").value == "alpha"
    assert at.selectbox(key="ablations_key").options == ["alpha", "base_model", "sampler"]
    (curve,) = figures(at)
    lines = [t for t in curve.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["mono", "cross", "multi"]
    assert list(lines[0].x) == [0.0, 0.5, 1.0]  # x-y = α 0, hybrid 0.5, x-x-mono = α 1
    assert lines[0].y[1] == pytest.approx(summary(dash, "sweep-a0.5")["macro"]["mono"]["map"])
    table = at.dataframe[0].value
    assert list(table.index) == [0.0, 0.5, 1.0] and table.loc[1.0, "runs"] == "sweep-a1"
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["PNG", "SVG", "PDF", "CSV", "LaTeX"]  # the export row every page uses (_export_ui)


def test_sampler_group_draws_bars(dash) -> None:
    at = app("ablations", ablations_key="sampler", ablations_metric="ndcg@10")
    no_exceptions(at)
    (bars,) = figures(at)
    assert [t.type for t in bars.data] == ["bar", "bar", "bar"]
    assert set(bars.data[0].x) == {"hybrid", "x-x-mono", "x-y"}


def test_ablations_without_groups(tmp_path, monkeypatch, dash) -> None:
    import shutil

    shutil.copytree(dash.runs / "tiny-0", tmp_path / "runs" / "tiny-0")
    monkeypatch.setenv("HYBRID_IR_RUNS", str(tmp_path / "runs"))
    at = app("ablations")
    no_exceptions(at)
    assert any("No group of runs differs in exactly one setting" in i.value for i in at.info)


def test_jobs_page_start_progress_and_cancel(dash, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    at = app("jobs")
    no_exceptions(at)
    assert at.info[0].value == "No jobs yet."
    at.text_input(key="jobs_train_run").input("tj")
    at.number_input(key="jobs_train_steps").set_value(3)
    at.text_input(key="jobs_train_model").input(str(dash.models / "tiny-0" / "st"))
    at.button[1].click().run()  # the train form's submit button
    no_exceptions(at)
    assert at.success[0].value.startswith("Started job")
    (job,) = jobs.list_jobs()
    model = dash.models / "tiny-0" / "st"
    assert (
        job.command
        == f"python -m hybrid_core train --run tj --model {model} --steps 3 --batch-size 16 --eval-data xquad-r"
    )
    jobs.cancel(job.id)
    deadline = time.monotonic() + 30
    while not jobs.status(job.id).finished and time.monotonic() < deadline:
        time.sleep(0.2)
    at = app("jobs")
    no_exceptions(at)
    assert "cancelled" in at.expander[-1].label
    assert any("-m hybrid_core train --run tj" in c.value for c in at.code)


def test_jobs_train_form_refuses_the_leak_and_defaults_to_the_train_part(dash, tmp_path, monkeypatch) -> None:
    """Issue 13 §5: all of mlqa-r + mlqa-r:test is refused; 'auto' trains on the article-disjoint part."""
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    at = app("jobs")
    at.text_input(key="jobs_train_run").input("leaky")
    at.text_input(key="jobs_train_eval").input("mlqa-r:test")
    at.selectbox(key="jobs_train_split").set_value("all")
    at.button[1].click().run()
    no_exceptions(at)
    assert any("leaks its test questions" in e.value for e in at.error)
    assert jobs.list_jobs() == []  # nothing started
    at.selectbox(key="jobs_train_split").set_value("auto")
    at.button[1].click().run()
    assert at.success[0].value.endswith("(hybrid α=0.5, train part of mlqa-r)")
    (job,) = jobs.list_jobs()
    assert "--split train" in job.command
    jobs.cancel(job.id)
