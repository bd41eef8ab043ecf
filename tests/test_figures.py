"""Figure builders and the tables behind them: trace counts, values, colour scales."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import bias, compare, figures, language_pairs
from hybrid_core.evaluation.evaluate import score_all, summarize
from tests.conftest import make_toy


@pytest.fixture(scope="module")
def toy_results():
    ds, q, c = make_toy(seed=0)
    pq_a = score_all(ds, q, c)
    pq_b = score_all(ds, q + np.random.default_rng(5).normal(0, 1, q.shape).astype(np.float32), c)
    return ds, pq_a, summarize(pq_a, ds), pq_b, summarize(pq_b, ds)


def test_pair_matrix_values_and_difference(toy_results) -> None:
    _, pq, s, _, s_b = toy_results
    m = language_pairs.pair_matrix(s, "map")
    assert list(m.index) == ["de", "en", "fr"] == list(m.columns)
    assert m.loc["en", "de"] == pytest.approx(s["settings"]["en->de"]["map"])
    assert m.loc["fr", "fr"] == pytest.approx(pq[pq["setting"] == "fr->fr"]["map"].mean())
    d = language_pairs.pair_difference(s, s_b, "map")
    assert d.loc["de", "en"] == pytest.approx(s["settings"]["de->en"]["map"] - s_b["settings"]["de->en"]["map"])
    per = language_pairs.per_language(s, "map")
    assert per.loc["de", "mono"] == pytest.approx(m.loc["de", "de"])
    assert per.loc["de", "cross (as query)"] == pytest.approx((m.loc["de", "en"] + m.loc["de", "fr"]) / 2)
    assert per.loc["de", "cross (as passage)"] == pytest.approx((m.loc["en", "de"] + m.loc["fr", "de"]) / 2)
    assert per.loc["en", "multi"] == pytest.approx(s["settings"]["en->multi"]["map"])


def test_heatmaps(toy_results) -> None:
    _, _, s, _, s_b = toy_results
    m = language_pairs.pair_matrix(s, "map")
    fig = figures.pair_heatmap(m, "map")
    assert fig.data[0].customdata is None and "queries" not in fig.data[0].hovertemplate
    n = language_pairs.pair_matrix(s, "n_queries")
    with_n = figures.pair_heatmap(m, "map", counts=n).data[0]
    np.testing.assert_array_equal(np.array(with_n.customdata, dtype=float), n.to_numpy(dtype=float))
    assert "queries" in with_n.hovertemplate
    assert len(fig.data) == 1 and fig.data[0].type == "heatmap"
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float), m.to_numpy())
    mb = language_pairs.pair_matrix(s_b, "map")
    diff = language_pairs.pair_difference(s, s_b, "map")
    fig = figures.diff_heatmap(diff, m, mb, "a", "b", "map")
    h = fig.data[0]
    assert h.zmid == 0 and h.zmin == -h.zmax == pytest.approx(-np.abs(diff.to_numpy()).max())
    assert h.colorscale[0][1] != h.colorscale[-1][1]  # diverging
    assert np.array(h.customdata).shape == (3, 3, 2)
    assert "a − b" in fig.layout.title.text


def test_compare_bars_traces_and_errors(toy_results) -> None:
    _, pq_a, s_a, pq_b, _ = toy_results
    report = compare.compare_frames({"a": pq_a, "b": pq_b}, "a", n_boot=50, n_perm=50)
    fig = figures.compare_bars(report.table, "map", baseline="a")
    assert [t.name for t in fig.data] == ["a (baseline)", "b"]
    assert list(fig.data[0].x) == ["mono", "cross", "multi"]
    assert fig.data[0].y[0] == pytest.approx(s_a["macro"]["mono"]["map"])
    assert all(v >= 0 for v in fig.data[0].error_y.array) and all(v >= 0 for v in fig.data[0].error_y.arrayminus)


def test_bias_views_and_figures(toy_results) -> None:
    _, pq_a, s_a, pq_b, s_b = toy_results
    rd = bias.rank_distance_table({"a": s_a, "b": s_b})
    assert list(rd.index) == ["de", "en", "fr", "macro"]
    assert rd.loc["macro", "a"] == pytest.approx(s_a["bias"]["rank_distance"]["macro"])
    fig = figures.rank_distance_bars(rd)
    assert len(fig.data) == 2 and list(fig.data[1].x)[-1] == "macro"
    values = bias.rank_distance_values({"a": pq_a, "b": pq_b})
    assert len(values) == pq_a[pq_a["kind"] == "multi"]["rank_distance"].notna().sum() * 2
    assert len(figures.rank_distance_distribution(values).data) == 2
    assert figures.rank_distance_distribution(values, "violin").data[0].type == "violin"
    assert figures.rank_distance_distribution(values).layout.yaxis.type != "log"
    logged = figures.rank_distance_distribution(values, log_y=True)
    assert np.asarray(logged.data[0].y, dtype=float) == pytest.approx(
        np.log10(1 + values[values["run"] == "a"]["rank_distance"])
    )
    assert list(logged.layout.yaxis.ticktext)[:4] == ["0", "1", "3", "10"]
    lo, hi = bias.rank_distance_intervals({"a": pq_a}, n_boot=200)
    assert list(lo.index) == ["de", "en", "fr", "macro"]
    assert (lo["a"] <= rd["a"] + 1e-9).all() and (rd["a"] <= hi["a"] + 1e-9).all()
    whiskers = figures.rank_distance_bars(rd, lo, hi).data[0].error_y
    assert list(whiskers.array) == pytest.approx((hi["a"] - rd["a"]).reindex(rd.index).to_list())
    assert list(whiskers.arrayminus) == pytest.approx((rd["a"] - lo["a"]).reindex(rd.index).to_list())
    mr = bias.mean_rank_matrix(s_a)
    assert mr.loc["en", "de"] == pytest.approx(s_a["bias"]["mean_rank"]["en"]["de"])
    h = figures.mean_rank_heatmap(mr).data[0]
    np.testing.assert_allclose(np.array(h.customdata, dtype=float), mr.to_numpy())
    own = bias.own_share_table(s_a)
    assert own.loc["de", "share of pool"] == pytest.approx(1 / 3)
    fig = figures.own_share_bars(own)
    assert [t.type for t in fig.data] == ["bar", "scatter"]


def test_projection_scatter_links_translations() -> None:
    pts = pd.DataFrame(
        {
            "x": [0.0, 1.0, 2.0, 3.0],
            "y": [0.0, 1.0, 0.0, 1.0],
            "language": ["en", "de", "en", "de"],
            "type": ["question", "question", "question", "candidate"],
            "question_id": ["q1", "q1", "q2", "q2"],
            "text": ["a", "b", "c" * 500, "d"],
        }
    )
    fig = figures.projection_scatter(pts, link_translations=True)
    lines = fig.data[0]
    # only q1 has two translations: each is joined to their centre (0.5, 0.5)
    assert lines.mode == "lines" and list(lines.x) == [0.0, 0.5, None, 1.0, 0.5, None]
    names = [t.name for t in fig.data[1:]]
    assert names == ["de · questions", "de · candidates", "en · questions"]
    assert len(figures.projection_scatter(pts, link_translations=False).data) == 3
    assert len(fig.data[3].customdata[1][1]) < 300  # long hover text is shortened


def test_sweep_curve_and_group_bars() -> None:
    t = pd.DataFrame(
        {
            "alpha": [0.0, 0.5, 1.0, 0.0, 0.5, 1.0],
            "kind": ["mono"] * 3 + ["cross"] * 3,
            "metric": ["map"] * 6,
            "value": [0.5, 0.6, 0.7, 0.4, 0.45, 0.3],
            "ci_low": [0.45, 0.55, 0.65, 0.35, 0.4, 0.25],
            "ci_high": [0.55, 0.65, 0.75, 0.45, 0.5, 0.35],
            "runs": ["r0", "r1", "r2", "r0", "r1", "r2"],
        }
    )
    fig = figures.sweep_curve(t, "alpha", "map")
    assert len(fig.data) == 4 and fig.data[0].fill == "toself" and fig.data[0].mode == "lines"
    assert list(fig.data[1].y) == [0.5, 0.6, 0.7] and fig.data[1].name == "mono"
    bars = figures.group_bars(t, "alpha", "map")
    assert [b.name for b in bars.data] == ["mono", "cross"] and list(bars.data[0].x) == ["0.0", "0.5", "1.0"]


def test_error_bars_from_any_three_columns() -> None:
    """Whiskers up to ``high`` and down to ``low`` around ``value``; column names chosen by the caller."""
    t = pd.DataFrame({"value": [0.5, 0.2], "ci_low": [0.4, 0.2], "ci_high": [0.7, 0.25]})
    e = figures.error_bars(t)
    assert e["symmetric"] is False
    assert list(e["array"]) == pytest.approx([0.2, 0.05]) and list(e["arrayminus"]) == pytest.approx([0.1, 0.0])
    d = figures.error_bars(
        {"delta": [-0.01], "delta_low": [-0.03], "delta_high": [0.02]}, "delta", "delta_low", "delta_high"
    )
    assert list(d["array"]) == pytest.approx([0.03]) and list(d["arrayminus"]) == pytest.approx([0.02])
