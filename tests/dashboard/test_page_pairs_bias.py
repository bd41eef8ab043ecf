"""Language-pair and language-bias pages: heatmap values, the difference map, bias charts and tables."""

from __future__ import annotations

import numpy as np
import pytest

from tests.dashboard.helpers import app, figures, no_exceptions, summary


def test_pair_heatmap_and_difference(dash) -> None:
    at = app("language_pairs", pairs_run="tiny-0", pairs_other="tiny-1", pairs_metric="map")
    no_exceptions(at)
    heat, diff, bars = figures(at)
    s0, s1 = summary(dash, "tiny-0"), summary(dash, "tiny-1")
    assert list(heat.data[0].x) == ["de", "en", "fr"] and list(heat.data[0].y) == ["de", "en", "fr"]
    z = np.asarray(heat.data[0].z, dtype=float)
    assert z[1, 0] == pytest.approx(s0["settings"]["en->de"]["map"])  # row en, column de
    assert z[2, 2] == pytest.approx(s0["settings"]["fr->fr"]["map"])
    d = np.asarray(diff.data[0].z, dtype=float)
    assert d[0, 1] == pytest.approx(s0["settings"]["de->en"]["map"] - s1["settings"]["de->en"]["map"])
    assert diff.data[0].zmid == 0 and diff.data[0].zmax == pytest.approx(np.abs(d).max())
    assert [t.name for t in bars.data] == ["mono", "cross (as query)", "cross (as passage)", "multi"]
    per = at.dataframe[0].value
    assert per.loc["en", "multi"] == pytest.approx(round(s0["settings"]["en->multi"]["map"], 3))


def test_pairs_single_run_has_no_difference_map(dash) -> None:
    at = app("language_pairs", pairs_run="tiny-1", pairs_metric="ndcg@10")
    no_exceptions(at)
    assert len(figures(at)) == 2
    assert "ndcg@10" in figures(at)[0].layout.title.text


def test_bias_page_charts_and_numbers(dash) -> None:
    at = app("bias", bias_runs=["tiny-0", "tiny-1"], bias_run="tiny-1")
    no_exceptions(at)
    rd_bars, dist, mean_rank, own = figures(at)
    s0, s1 = summary(dash, "tiny-0"), summary(dash, "tiny-1")
    assert [t.name for t in rd_bars.data] == ["tiny-0", "tiny-1"]
    assert list(rd_bars.data[0].x) == ["de", "en", "fr", "macro"]
    assert rd_bars.data[1].y[-1] == pytest.approx(s1["bias"]["rank_distance"]["macro"])
    table = at.dataframe[0].value
    assert table.loc["tiny-0", "de"].startswith(f"{s0['bias']['rank_distance']['per_language']['de']:.1f} [")
    assert [t.type for t in dist.data] == ["box", "box"]
    assert np.asarray(mean_rank.data[0].customdata, dtype=float)[1, 0] == pytest.approx(
        s1["bias"]["mean_rank"]["en"]["de"]
    )
    assert own.data[0].y[0] == pytest.approx(s1["bias"]["own@10"]["de"]["share"])
    captions = " ".join(c.value for c in at.caption)
    assert captions.count("How to read") == 4


def test_bias_violin_by_language(dash) -> None:
    at = app("bias", bias_runs=["tiny-0"], bias_style="violin", bias_bylang=True)
    no_exceptions(at)
    dist = figures(at)[1]
    assert dist.data[0].type == "violin" and set(dist.data[0].x) == {"de", "en", "fr"}
