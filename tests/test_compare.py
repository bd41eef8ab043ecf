"""Compare tables: values equal the stored summaries, CIs bracket them, paired tests behave."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import compare
from hybrid_core.evaluation.evaluate import score_all, summarize
from hybrid_core.runs import RunStore
from tests.conftest import make_toy


def _run(seed: int, noise: float = 0.0):
    ds, q, c = make_toy(seed=0)
    if noise:
        rng = np.random.default_rng(seed)
        q = q + rng.normal(0, noise, q.shape).astype(np.float32)
    pq = score_all(ds, q, c)
    return ds, pq, summarize(pq, ds)


def test_values_equal_summary_macro_and_ci_brackets() -> None:
    _, pq, summary = _run(0)
    report = compare.compare_frames({"a": pq}, dataset="toy", n_boot=200)
    t = report.table.set_index(["kind", "metric"])
    for kind in ("mono", "cross", "multi"):
        for metric, value in summary["macro"][kind].items():
            row = t.loc[(kind, metric)]
            assert row["value"] == pytest.approx(value, abs=1e-12)
            assert row["ci_low"] <= value <= row["ci_high"]
    assert ("mono", "rank_distance") not in t.index
    assert t.loc[("cross", "map"), "n_settings"] == 6
    assert t.loc[("mono", "map"), "n_questions"] == 40


def test_identical_runs_p_one_and_different_runs_significant() -> None:
    _, pq, _ = _run(0)
    _, noisy, _ = _run(1, noise=3.0)
    report = compare.compare_frames({"base": pq, "same": pq.copy(), "noisy": noisy}, "base", n_boot=100, n_perm=300)
    t = report.table
    same = t[t["run"] == "same"]
    assert (same["p_value"] == 1.0).all() and (same["delta"] == 0).all() and not same["significant"].any()
    assert t[t["run"] == "base"]["p_value"].isna().all()
    noisy_rows = t[t["run"] == "noisy"].set_index(["kind", "metric"])
    assert noisy_rows.loc[("multi", "map"), "delta"] != 0
    wide = report.wide("mono")
    assert list(wide.index) == ["base", "same", "noisy"] and wide.columns[0] == "map"
    assert "[" in wide.loc["base", "map"]
    delta = report.wide("multi", what="delta")
    assert list(delta.index) == ["same", "noisy"] and "p=" in delta.loc["noisy", "map"]


def test_clearly_better_run_is_significant_and_marked() -> None:
    ds, q, c = make_toy(seed=0)
    c = c / np.linalg.norm(c, axis=1, keepdims=True)
    base = score_all(ds, q, c)
    # an oracle: each query's embedding equals its answer's embedding in its own language
    oracle_q = q.copy()
    cid = {d: i for i, d in enumerate(ds.corpus["id"])}
    for i, (qid, lang) in enumerate(zip(ds.queries["id"], ds.queries["language"], strict=True)):
        oracle_q[i] = c[cid[f"{lang}:{qid.split(':q')[1]}"]]
    better = score_all(ds, oracle_q, c)
    report = compare.compare_frames({"base": base, "oracle": better}, "base", n_boot=100, n_perm=2000)
    row = report.table.set_index(["run", "kind", "metric"]).loc[("oracle", "mono", "map")]
    assert row["value"] == 1.0 and row["delta"] > 0.5 and row["significant"] and row["better"]
    assert "▲" in report.wide("mono", what="delta").loc["oracle", "map"]


def test_compare_runs_reports_corrupt_run_and_keeps_others(tmp_path) -> None:
    _ds, pq, summary = _run(0)
    store = RunStore(tmp_path)
    store.create("good", kind="evaluate", model="m").save_result("toy", pq, summary)
    bad = store.create("bad", kind="evaluate", model="m")
    (bad.path / "results" / "toy").mkdir(parents=True)
    (bad.path / "results" / "toy" / "summary.json").write_text("{not json", encoding="utf-8")
    report = compare.compare_runs(
        ["good", "bad"], "toy", baseline="bad", store=store, n_boot=50, n_perm=50, cache=False
    )
    assert report.runs == ["good"] and "bad" in report.errors and "corrupt" in report.errors["bad"]
    assert report.baseline is None


def test_paper_table_and_view() -> None:
    paper = compare.paper_table()
    assert len(paper) == 12 and (paper["source"] == compare.PAPER_SOURCE).all()
    row = paper[(paper["model"] == "LaBSE") & (paper["batches"] == "hybrid") & (paper["dataset"] == "xquad-r")].iloc[0]
    assert (row["mono map"], row["cross map"], row["multi map"], row["rank_distance"]) == (0.817, 0.767, 0.682, 221.1)
    _, pq, summary = _run(0)
    view = compare.paper_view(compare.compare_frames({"a": pq}, dataset="toy", n_boot=10))
    assert view.loc[0, "mono map"] == pytest.approx(summary["macro"]["mono"]["map"])
    assert view.loc[0, "rank_distance"] == pytest.approx(summary["bias"]["rank_distance"]["macro"])
    assert isinstance(view, pd.DataFrame) and view.loc[0, "source"].startswith("measured")


def test_kinds_match_evaluate_without_importing_torch() -> None:
    import subprocess
    import sys

    from hybrid_core.evaluation.settings import KINDS

    assert compare.KINDS == KINDS
    modules = "hybrid_core.analysis.compare, hybrid_core.analysis.ablations, hybrid_core.analysis.figures"
    code = f"import sys, {modules}; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_compare_runs_disk_cache_reused_and_invalidated(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    _ds, pq, summary = _run(0)
    _, pq2, summary2 = _run(1, noise=1.0)
    store = RunStore(tmp_path / "runs")
    store.create("a", kind="evaluate", model="m").save_result("toy", pq, summary)
    store.create("b", kind="evaluate", model="m").save_result("toy", pq2, summary2)
    first = compare.compare_runs(["a", "b"], "toy", "a", store=store, n_boot=50, n_perm=50)
    assert len(list((tmp_path / "cache" / "compare").glob("*.parquet"))) == 1

    def boom(*a, **k):
        raise AssertionError("recomputed")

    monkeypatch.setattr(compare, "compare_frames", boom)
    again = compare.compare_runs(["a", "b"], "toy", "a", store=store, n_boot=50, n_perm=50)
    pd.testing.assert_frame_equal(again.table, first.table)
    assert again.baseline == "a" and again.dataset == "toy"
    with pytest.raises(AssertionError, match="recomputed"):  # other options: a new key
        compare.compare_runs(["a", "b"], "toy", "a", store=store, n_boot=60, n_perm=50)
    store.get("b").save_result("toy", pq, summary)  # new results: a new key
    with pytest.raises(AssertionError, match="recomputed"):
        compare.compare_runs(["a", "b"], "toy", "a", store=store, n_boot=50, n_perm=50)


def test_slices_group_pick_and_common_queries() -> None:
    names = ["xquad-r-q50-s0", "mlqa-r", "xquad-r", "xquad-r-q60-s0", "xquad-r-q60-s1"]
    assert compare.base_set("xquad-r-q60-s0") == "xquad-r" and compare.base_set("xquad-r") == "xquad-r"
    assert compare.slice_groups(names) == {
        "xquad-r": ["xquad-r", "xquad-r-q60-s0", "xquad-r-q60-s1", "xquad-r-q50-s0"],
        "mlqa-r": ["mlqa-r"],
    }
    runs = {"base": ["xquad-r", "mlqa-r"], "quick": ["xquad-r-q60-s0"], "job": ["xquad-r-q50-s0"], "ml": ["mlqa-r"]}
    assert compare.pick_datasets(runs, "xquad-r-q60-s0") == {
        "base": "xquad-r",
        "quick": "xquad-r-q60-s0",
        "job": "xquad-r-q50-s0",
    }
    _, pq, _ = _run(0)
    a = pq[pq["question_id"].isin(sorted(pq["question_id"].unique())[:30])]
    b = pq[pq["question_id"].isin(sorted(pq["question_id"].unique())[10:])]
    b = b[b["query_language"] != b["query_language"].iloc[0]]  # one language missing in b
    out, n_q, n_queries = compare.common_queries({"a": a, "b": b})
    keys = {n: set(zip(f["question_id"], f["query_language"], strict=True)) for n, f in out.items()}
    assert keys["a"] == keys["b"] and n_q == 20
    assert n_queries == len(keys["a"])
    # the comparison on the restricted frames is the ordinary one: macro of per-setting means over those rows
    report = compare.compare_frames(out, "a", n_boot=50, n_perm=50)
    row = report.table.set_index(["run", "kind", "metric"]).loc[("b", "mono", "map")]
    mono = out["b"][out["b"]["kind"] == "mono"]
    assert row["value"] == pytest.approx(mono.groupby("setting")["map"].mean().mean(), abs=1e-12)
    assert row["n_questions"] == 20


def test_common_slice_is_the_smallest_in_use() -> None:
    used = {"base": "xquad-r", "quick": "xquad-r-q60-s0", "job": "xquad-r-q50-s0", "job2": "xquad-r-q50-s0"}
    assert compare.common_slice(used) == ("xquad-r-q50-s0", ["base", "quick"])
    assert compare.common_slice({"a": "xquad-r", "b": "xquad-r"}) == ("xquad-r", [])
