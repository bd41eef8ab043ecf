"""Views that misled (issue 13 §3): bias distributions and CIs, embedding overlap and the translation spread."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid_core.analysis import stats
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, figures, no_exceptions


def _rank_distances(dash, run: str):
    pq = RunStore(dash.runs).get(run).per_query(dash.ds.name)
    return pq[pq["kind"] == "multi"]


def test_rank_distance_bars_have_question_bootstrap_cis(dash) -> None:
    at = app("bias", bias_runs=["tiny-0", "tiny-1"])
    no_exceptions(at)
    bars = figures(at)[0]
    multi = _rank_distances(dash, "tiny-1")
    trace = bars.data[1]
    assert trace.name == "tiny-1" and list(trace.x) == ["de", "en", "fr", "macro"]
    # one query per question and language: the per-language CI is a plain bootstrap of that language's values,
    # drawn with the same generator as stats.bootstrap_ci (questions in id order)
    de = multi[multi["query_language"] == "de"].sort_values("question_id")["rank_distance"].to_numpy(dtype=float)
    ci = stats.bootstrap_ci(de, n_boot=stats.N_BOOT, seed=0)
    y, plus, minus = trace.y[0], trace.error_y.array[0], trace.error_y.arrayminus[0]
    assert y == pytest.approx(ci.value, rel=1e-12)
    assert y + plus == pytest.approx(ci.high, rel=1e-9) and y - minus == pytest.approx(ci.low, rel=1e-9)
    lo, hi = np.asarray(trace.customdata, dtype=float).T
    assert (lo <= np.asarray(trace.y) + 1e-9).all() and (np.asarray(trace.y) <= hi + 1e-9).all()
    assert "95% bootstrap CI" in bars.layout.title.text
    table = at.dataframe[0].value
    assert table.loc["tiny-1", "de"] == f"{ci.value:.1f} [{ci.low:.1f}, {ci.high:.1f}]"


def test_log_violin_shows_the_full_range_with_readable_ticks(dash) -> None:
    at = app("bias", bias_runs=["tiny-0"], bias_style="violin", bias_logy=True)
    no_exceptions(at)
    dist = figures(at)[1]
    v = dist.data[0]
    raw = _rank_distances(dash, "tiny-0")["rank_distance"].to_numpy(dtype=float)
    # the density is estimated on the drawn (log) scale, over every query, and cut at the data range
    assert np.asarray(v.y, dtype=float) == pytest.approx(np.log10(1 + raw))
    assert v.spanmode == "hard"
    ticks = list(dist.layout.yaxis.ticktext)
    assert ticks[:4] == ["0", "1", "3", "10"] and not {"2", "5"} & set(ticks)
    assert dist.layout.yaxis.tickvals[3] == pytest.approx(np.log10(11))
    assert max(dist.layout.yaxis.tickvals) >= np.log10(1 + raw.max()) - 1e-9
    captions = " ".join(c.value for c in at.caption)
    assert "violin's width" in captions and "The box spans" not in captions and "logarithmic" in captions


def test_linear_violin_is_cut_at_the_data_and_box_caption_matches(dash) -> None:
    at = app("bias", bias_runs=["tiny-0"], bias_style="violin", bias_logy=False)
    no_exceptions(at)
    v = figures(at)[1].data[0]
    assert v.spanmode == "hard" and v.type == "violin"
    at = app("bias", bias_runs=["tiny-0"], bias_style="box")
    captions = " ".join(c.value for c in at.caption)
    assert "The box spans" in captions and "violin" not in captions


def test_bias_page_has_figure_downloads(dash) -> None:
    at = app("bias", bias_runs=["tiny-0"])
    no_exceptions(at)
    ids = " ".join(b.proto.id for b in at.get("download_button"))
    for key in (
        "bias_rd_fig_png",
        "bias_rd_fig_svg",
        "bias_rd_dl_tex",
        "bias_fig_dist_png",
        "bias_fig_mr_pdf",
        "bias_fig_own_svg",
    ):
        assert key in ids


def test_embedding_overlap_visible_and_spread_in_full_space(dash) -> None:
    from sklearn.metrics.pairwise import cosine_distances

    from hybrid_core.analysis import projection
    from hybrid_core.models.loading import load_model

    at = app("embeddings", emb_dataset="tiny-parallel", emb_runs=["tiny-0"], emb_method="pca")
    no_exceptions(at)
    (fig,) = figures(at)
    links, *points = fig.data
    assert float(links.line.color.split(",")[-1].rstrip(")")) >= 0.4 and links.line.width >= 1
    symbols = [t.marker.symbol for t in points]
    assert len(set(symbols)) == len(points) == 3  # one symbol per language
    assert all(t.marker.opacity < 1 and t.marker.line.width >= 1 for t in points)
    sizes = [t.marker.size for t in points]
    assert sizes == sorted(sizes, reverse=True)  # later languages smaller: a stack shows every shape
    # the number under the plot: mean pairwise cosine distance of translations in the full space
    pts = projection.sample_points(dash.ds, "questions", 600, list(dash.ds.languages), 0)
    model = load_model(str(dash.models / "tiny-0" / "st"))
    emb = projection.embed_points(model, pts, None)
    expected = np.mean(
        [cosine_distances(emb[g.index])[np.triu_indices(len(g), 1)].mean() for _, g in pts.groupby("question_id")]
    )
    caption = next(c.value for c in at.caption if "Translation spread" in c.value)
    assert f"Translation spread {expected:.3f}" in caption
    # the same number whatever the projection
    at2 = app("embeddings", emb_dataset="tiny-parallel", emb_runs=["tiny-0"], emb_method="tsne")
    assert f"Translation spread {expected:.3f}" in " ".join(c.value for c in at2.caption)
