"""Home page (through app.py's navigation): runs table, error card, data sets, the empty state's one-click job."""

from __future__ import annotations

import time

import pytest

from hybrid_core import jobs
from hybrid_core.jobs import EVALUATE_PRESETS
from tests.dashboard.helpers import app, no_exceptions, summary


def test_home_lists_runs_with_headline_map_and_error_card(dash) -> None:
    at = app("app")
    no_exceptions(at)
    assert at.title[0].value == "hybrid-ir"
    assert at.metric[0].value == "5 (+1 unreadable)"
    runs = at.dataframe[0].value
    assert sorted(runs["run"]) == ["sweep-a0", "sweep-a0.5", "sweep-a1", "tiny-0", "tiny-1"]
    row = runs.set_index("run").loc["tiny-0"]
    macro = summary(dash, "tiny-0")["macro"]
    for kind in ("mono", "cross", "multi"):
        assert row[f"{kind} mAP"] == f"{macro[kind]['map']:.3f}"
    assert runs.set_index("run").loc["sweep-a0.5", "alpha"] == "0.5"
    assert runs.set_index("run").loc["sweep-a0", "alpha"] == "0"  # X-Y: the sampler's effective α, as on Ablations
    assert any("broken-run" in e.value and "not valid JSON" in e.value for e in at.error)
    data = at.dataframe[1].value
    assert list(data["data set"]) == ["xquad-r", "mlqa-r"]


def test_home_empty_state_starts_a_background_evaluation(dash, tmp_path, monkeypatch) -> None:
    from tests.conftest import SHARED_DATA

    if not (SHARED_DATA / "xquad-r" / "en.json").is_file():
        pytest.skip("XQuAD-R not available")
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    monkeypatch.setenv("HYBRID_IR_CACHE", str(cache))
    model = str(dash.models / "tiny-0" / "st")
    args = (
        "evaluate",
        "--model",
        model,
        "--run",
        "first",
        "--data",
        "xquad-r",
        "--languages",
        "en",
        "de",
        "--max-questions",
        "4",
    )
    monkeypatch.setitem(EVALUATE_PRESETS["quick"], "args", args)

    at = app("home")  # the page itself: AppTest does not route widget clicks through st.navigation
    no_exceptions(at)
    assert at.subheader[0].value == "Get started"
    assert "no evaluated runs" in at.info[0].value
    at.button(key="home_evaluate").click().run()
    no_exceptions(at)
    (job,) = jobs.list_jobs()
    deadline = time.monotonic() + 240
    while not jobs.status(job.id).finished and time.monotonic() < deadline:
        time.sleep(0.5)
    st = jobs.status(job.id)
    assert st.state == "done", jobs.tail(job.id, 20)
    at = app("home")
    no_exceptions(at)
    assert list(at.dataframe[0].value["run"]) == ["first"]
