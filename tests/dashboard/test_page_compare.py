"""Compare page: tables per kind with CIs, the paired test, the bar chart and the paper view."""

from __future__ import annotations

import pytest

from hybrid_core.analysis import stats
from tests.dashboard.helpers import app, figures, no_exceptions, summary


def test_compare_tables_numbers_and_test(dash) -> None:
    at = app(
        "compare", compare_runs=["tiny-0", "tiny-1"], compare_baseline="tiny-0", compare_nboot=200, compare_nperm=500
    )
    no_exceptions(at)
    s0, s1 = summary(dash, "tiny-0"), summary(dash, "tiny-1")
    mono = at.dataframe[0].value
    assert list(mono.index) == ["tiny-0", "tiny-1"]
    assert mono.loc["tiny-0", "map"].startswith(f"{s0['macro']['mono']['map']:.3f} [")
    assert mono.loc["tiny-1", "ndcg@10"].startswith(f"{s1['macro']['mono']['ndcg@10']:.3f} [")
    delta = at.dataframe[1].value
    assert list(delta.index) == ["tiny-1"]
    expected = s1["macro"]["mono"]["map"] - s0["macro"]["mono"]["map"]
    assert delta.loc["tiny-1", "map"].startswith(f"{expected:+.3f} (p=")
    assert any(stats.TEST_NAME in c.value for c in at.caption)
    assert not figures(at)  # only the open tab renders
    # the multi table carries rank distance
    at.session_state["compare_tab"] = "multi (X→all)"
    at.run()
    multi = at.dataframe[0].value
    assert multi.loc["tiny-0", "rank_distance"].startswith(f"{s0['bias']['rank_distance']['macro']:.3f}")
    at.session_state["compare_tab"] = "Chart"
    at.run()
    (bars,) = figures(at)
    assert [t.name for t in bars.data] == ["tiny-0 (baseline)", "tiny-1"]
    assert bars.data[0].y[0] == pytest.approx(s0["macro"]["mono"]["map"])


def test_compare_paper_view_is_labelled_reported(dash) -> None:
    at = app("compare", compare_runs=["tiny-0"], compare_nboot=200, compare_tab="Paper view")
    no_exceptions(at)
    assert any("reported in arXiv 2408.10536, not re-run" in m.value for m in at.markdown)
    paper = at.dataframe[-2].value
    assert len(paper) == 12
    labse = paper[(paper["model"] == "LaBSE") & (paper["batches"] == "hybrid") & (paper["dataset"] == "mlqa-r")]
    assert labse["multi map"].item() == 0.579 and labse["rank_distance"].item() == 195.0
    ours = at.dataframe[-1].value
    assert ours.loc[0, "model"] == "tiny-0"
    assert ours.loc[0, "mono map"] == pytest.approx(summary(dash, "tiny-0")["macro"]["mono"]["map"])


def test_compare_shows_error_card_for_a_half_written_run(dash, tmp_path, monkeypatch) -> None:
    import shutil

    runs = tmp_path / "runs"
    shutil.copytree(dash.runs / "tiny-0", runs / "tiny-0")
    shutil.copytree(dash.runs / "tiny-1", runs / "tiny-1")
    (runs / "tiny-1" / "results" / dash.ds.name / "per_query.parquet").write_bytes(b"PAR1 half written")
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    at = app("compare", compare_runs=["tiny-0", "tiny-1"], compare_baseline="tiny-0", compare_nboot=200)
    no_exceptions(at)
    # the result manifest (runs.py) names the damage: size on disk against the size committed
    assert any("tiny-1" in e.value and "damaged" in e.value and "manifest" in e.value for e in at.error)
    assert list(at.dataframe[0].value.index) == ["tiny-0"]


def test_compare_empty_store(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYBRID_IR_RUNS", str(tmp_path / "none"))
    at = app("compare")
    no_exceptions(at)
    assert "No evaluated runs yet" in at.info[0].value
    assert not at.dataframe


def test_compare_tables_keep_run_names_and_show_rank_distance_early(dash) -> None:
    import json

    at = app("compare", compare_runs=["tiny-0", "sweep-a0.5"], compare_nboot=200, compare_tab="multi (X→all)")
    no_exceptions(at)
    multi = at.dataframe[0]
    assert list(multi.value.columns[:2]) == ["map", "rank_distance"]  # the paper's two numbers, visible at 1400 px
    config = json.loads(multi.proto.columns)
    assert config["_index"]["width"] >= 8 * len("sweep-a0.5")


def test_p_values_below_a_thousandth_are_written_as_such() -> None:
    import pandas as pd

    from hybrid_core.analysis.compare import CompareReport

    t = pd.DataFrame(
        [
            dict(
                run="a",
                kind="mono",
                metric="map",
                value=0.5,
                ci_low=0.4,
                ci_high=0.6,
                delta=float("nan"),
                p_value=float("nan"),
                better=None,
                significant=False,
            ),
            dict(
                run="b",
                kind="mono",
                metric="map",
                value=0.7,
                ci_low=0.6,
                ci_high=0.8,
                delta=0.2,
                p_value=0.0004,
                better=True,
                significant=True,
            ),
        ]
    )
    delta = CompareReport(t, "a", "x").wide("mono", what="delta")
    assert delta.loc["b", "map"] == "+0.200 (p<0.001) ▲"


def test_paper_view_downloads_the_measured_table(dash) -> None:
    at = app("compare", compare_runs=["tiny-0", "tiny-1"], compare_nboot=200, compare_tab="Paper view")
    no_exceptions(at)
    ids = " ".join(b.proto.id for b in at.get("download_button"))
    assert "compare_dl_ours_csv" in ids and "compare_dl_ours_tex" in ids and "compare_dl_paper_csv" in ids
    ours = next(b.proto for b in at.get("download_button") if "compare_dl_ours_csv" in b.proto.id)
    assert ours.label == "CSV"
    # the measured table's CSV: run names as the first column, no leaked 0..n index
    from hybrid_core.analysis import compare
    from hybrid_core.evaluation.tables import table_text

    report = compare.compare_runs(["tiny-0", "tiny-1"], dash.ds.name, None, cache=False, n_boot=50, n_perm=50)
    csv = table_text(compare.paper_view(report).drop(columns=["batches"]).set_index("model").rename_axis("run"))
    assert csv.splitlines()[0].startswith("run,dataset,mono map") and csv.splitlines()[1].startswith("tiny-0,")
