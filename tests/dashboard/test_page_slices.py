"""Runs evaluated on different slices of one set (full, -q4-s0, -q3-s1) compare on the queries they share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import compare
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, figures, no_exceptions
from tests.dashboard.tiny_runs import make_slice_runs


@pytest.fixture(scope="module")
def sliced(dash, tmp_path_factory):
    root = tmp_path_factory.mktemp("sliced")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_CACHE", str(dash.cache))
        used = make_slice_runs(root / "runs", dash.runs, dash.models, dash.ds)
    return root / "runs", used


def _shared(runs, used) -> tuple[dict[str, pd.DataFrame], set]:
    store = RunStore(runs)
    frames = {r: store.get(r).per_query(d) for r, d in used.items()}
    keys = [set(zip(f["question_id"], f["query_language"], strict=True)) for f in frames.values()]
    return frames, set.intersection(*keys)


def test_compare_offers_runs_of_every_slice_and_compares_on_shared_questions(sliced, monkeypatch) -> None:
    runs, used = sliced
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    frames, shared = _shared(runs, used)
    n_q = len({q for q, _ in shared})
    at = app("compare", compare_dataset="tiny-parallel", compare_nboot=200, compare_nperm=500)
    no_exceptions(at)
    assert at.multiselect(key="compare_runs").options == ["tiny-0", "slice-a", "slice-b"]
    at.multiselect(key="compare_runs").set_value(["tiny-0", "slice-a", "slice-b"]).run()
    no_exceptions(at)
    note = " ".join(w.value for w in at.warning)
    assert f"compared on the {n_q} questions ({len(shared)} queries) they share" in note
    assert "tiny-parallel-q4-s0" in note and "tiny-parallel-q3-s1" in note
    mono = at.dataframe[0].value
    # independent: mean over shared queries per setting, then over the mono settings
    for run, pq in frames.items():
        keep = pq[[(q, lang) in shared for q, lang in zip(pq["question_id"], pq["query_language"], strict=True)]]
        m = keep[keep["kind"] == "mono"].groupby("setting")["map"].mean().mean()
        assert mono.loc[run, "map"].startswith(f"{m:.3f} [")


def test_language_pairs_across_slices(sliced, monkeypatch) -> None:
    runs, used = sliced
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    frames, _ = _shared(runs, used)
    at = app("language_pairs", pairs_dataset="tiny-parallel", pairs_run="tiny-0", pairs_other="slice-b")
    no_exceptions(at)
    assert "slice-b" in at.selectbox(key="pairs_other").options
    heat, diff = figures(at)[:2]
    pick = {r: frames[r] for r in ("tiny-0", "slice-b")}
    keys = [set(zip(f["question_id"], f["query_language"], strict=True)) for f in pick.values()]
    both = set.intersection(*keys)

    def cell(pq, setting):
        rows = pq[(pq["setting"] == setting)]
        rows = rows[[(q, lang) in both for q, lang in zip(rows["question_id"], rows["query_language"], strict=True)]]
        return rows["map"].mean()

    z = np.asarray(heat.data[0].z, dtype=float)
    assert z[1, 0] == pytest.approx(cell(pick["tiny-0"], "en->de"))
    d = np.asarray(diff.data[0].z, dtype=float)
    assert d[0, 1] == pytest.approx(cell(pick["tiny-0"], "de->en") - cell(pick["slice-b"], "de->en"))
    assert any("questions" in w.value and "share" in w.value for w in at.warning)


def test_compare_keeps_runs_that_exist_on_the_new_data_set(sliced, monkeypatch) -> None:
    runs, _used = sliced
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    at = app("compare", compare_dataset="tiny-parallel", compare_runs=["tiny-0", "slice-a"], compare_nboot=200)
    no_exceptions(at)
    at.selectbox(key="compare_dataset").set_value("tiny-parallel-q4-s0").run()
    no_exceptions(at)
    assert at.multiselect(key="compare_runs").value == ["tiny-0", "slice-a"]


def test_report_lists_the_slice_of_each_run(sliced) -> None:
    runs, _used = sliced
    report = compare.compare_runs(
        ["tiny-0", "slice-a"], "tiny-parallel", "tiny-0", RunStore(runs), cache=False, n_boot=50, n_perm=50
    )
    assert report.datasets == {"tiny-0": "tiny-parallel", "slice-a": "tiny-parallel-q4-s0"}
    assert report.n_common == (4, 12)


def test_pair_matrix_downloads_csv_and_latex(dash) -> None:
    at = app("language_pairs", pairs_run="tiny-0", pairs_metric="map")
    no_exceptions(at)
    buttons = {b.proto.label: b for b in at.get("download_button")}
    assert {"CSV", "LaTeX"} <= set(buttons)
    keys = [b.proto.id for b in at.get("download_button")]
    assert any("pairs_matrix_dl_csv" in k for k in keys) and any("pairs_matrix_dl_tex" in k for k in keys)


def test_paper_view_names_each_runs_slice(sliced, monkeypatch) -> None:
    runs, _used = sliced
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    at = app(
        "compare",
        compare_dataset="tiny-parallel",
        compare_runs=["tiny-0", "slice-a"],
        compare_nboot=200,
        compare_tab="Paper view",
    )
    no_exceptions(at)
    ours = at.dataframe[-1].value.set_index("model")
    assert ours.loc["slice-a", "dataset"] == "tiny-parallel-q4-s0 (the 4 shared questions)"
    assert ours.loc["tiny-0", "dataset"].startswith("tiny-parallel (")


def test_one_click_reevaluation_on_the_common_slice(sliced, monkeypatch) -> None:
    from hybrid_core import jobs

    runs, _ = sliced
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    started = []
    monkeypatch.setattr(jobs, "start", lambda argv, label="", **kw: started.append((argv, label)) or "job-1")
    at = app(
        "compare", compare_dataset="tiny-parallel", compare_runs=["tiny-0", "slice-a", "slice-b"], compare_nboot=200
    )
    no_exceptions(at)
    labels = [b.label for b in at.button]
    assert labels == ["Evaluate tiny-0 on tiny-parallel-q3-s1", "Evaluate slice-a on tiny-parallel-q3-s1"]
    at.button(key="compare_reeval_slice-a").click().run()
    ((argv, label),) = started
    model = RunStore(runs).get("slice-a").info["model"]
    expected = ["evaluate", "--data", "tiny-parallel", "--model", model, "--run", "slice-a"]
    assert argv[3:] == [*expected, "--max-questions", "3", "--seed", "1"] and argv[1:3] == ["-m", "hybrid_core"]
    assert label == "evaluate slice-a on tiny-parallel-q3-s1"
