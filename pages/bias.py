"""Language bias: in the multilingual pool, does a run prefer candidates in the query's own language?"""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import bias, figures
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "bias"


st.title("Language bias")

with _ui.guard("the bias view"):
    c1, c2 = st.columns([1, 4])
    table, dataset, chosen = _ui.pick_dataset_and_runs(K, c1, c2, n_default=4)
    if not chosen:
        st.info("Pick at least one run.", icon=":material/info:")
        st.stop()
    summaries, errors = _ui.summaries(chosen, dataset)
    _ui.error_cards(errors)
    with_bias = {n: s for n, s in summaries.items() if s.get("bias")}
    if not with_bias:
        st.warning(
            f"No language-bias numbers for {dataset}: they need a parallel data set evaluated with the multi setting.",
            icon=":material/warning:",
        )
        st.stop()

    st.subheader("Rank distance")
    frames, read_errors = _ui.per_query(list(with_bias), dataset)
    values, (low, high) = bias.rank_distance_values(frames), bias.rank_distance_intervals(frames)
    _ui.error_cards(read_errors)
    rd = bias.rank_distance_table(with_bias)
    fig = figures.rank_distance_bars(rd, low, high)
    st.plotly_chart(fig, key=f"{K}_rd_bars")
    st.caption(
        "How to read: for each question, the multilingual pool holds its answer in every language; rank distance is "
        "the rank of the worst-placed translation minus the best-placed one (Huang et al. 2023). Bars are means per "
        "query language; *macro* averages the languages. Lower means the answers in all languages are ranked close "
        "together, i.e. less language bias. Whiskers: 95% bootstrap CI over questions (translations resampled "
        "together)."
    )
    shown = bias.rank_distance_table_with_ci(rd, low, high)
    st.dataframe(shown, key=f"{K}_rd_table", column_config=_export_ui.name_columns(shown))
    _export_ui.figure_and_table_downloads(
        fig, shown, f"rank-distance-{dataset}", f"{K}_rd", caption=f"Mean rank distance on {dataset} [95% bootstrap CI]"
    )

    st.subheader("Distribution over queries")
    d1, d2, d3 = st.columns(3)
    style = d1.radio("Plot", ["box", "violin"], horizontal=True, key=f"{K}_style")
    by_lang = d2.toggle("Split by query language", value=False, key=f"{K}_bylang")
    log_y = d3.toggle(
        "Log scale",
        value=False,
        key=f"{K}_logy",
        help="plots log(1 + rank distance): spreads what a long tail flattens",
    )
    if not values.empty:
        dist = figures.rank_distance_distribution(values, style, by_language=by_lang, log_y=log_y)
        st.plotly_chart(dist, key=f"{K}_dist")
        shape = (
            "The violin's width is the share of queries at that rank distance (cut at the smallest and largest "
            "value); the inner box spans the middle half of the queries, its line is the median and the dashed "
            "line the mean."
            if style == "violin"
            else "The box spans the middle half of the queries, the line is the median and the dashed line the mean; "
            "whiskers reach the furthest query within 1.5 box lengths."
        )
        scale = (
            " The axis is logarithmic (log of 1 + rank distance, ticks in rank-distance units), so the density is "
            "estimated on the scale you see."
            if log_y
            else ""
        )
        st.caption(
            f"How to read: each query contributes one rank distance. {shape}{scale} A long upper tail means a few "
            "questions whose translations are ranked far apart."
        )
        _export_ui.figure_downloads(dist, f"rank-distance-distribution-{dataset}", f"{K}_fig_dist")

    st.subheader("Where do the translations land?")
    run = st.columns(3)[0].selectbox("Run", list(with_bias), key=f"{K}_run")
    left, right = st.columns(2)
    with left:
        mr = bias.mean_rank_matrix(with_bias[run])
        mfig = figures.mean_rank_heatmap(
            mr, title=f"{run}: mean rank of the relevant candidate", show_values=len(mr) <= 8
        )
        st.plotly_chart(mfig, key=f"{K}_mean_rank")
        _export_ui.figure_downloads(mfig, f"mean-rank-{run}-{dataset}", f"{K}_fig_mr")
        st.caption(
            "How to read: row = query language, column = language of the relevant candidate; each cell is the mean "
            "rank (1 = top) that candidate gets in the pooled ranking. A dark diagonal with bright off-diagonal "
            "cells means the run ranks same-language answers first. Colour is on a log scale; hover for values."
        )
    with right:
        own = bias.own_share_table(with_bias[run])
        ofig = figures.own_share_bars(own, title=f"{run}: own-language share of the top 10")
        st.plotly_chart(ofig, key=f"{K}_own")
        _export_ui.figure_downloads(ofig, f"own-share-{run}-{dataset}", f"{K}_fig_own")
        st.caption(
            "How to read: the bar is the share of the top-10 results written in the query's language; the red mark "
            "is that language's share of the pool. A bar far above its mark means the run over-retrieves its own "
            "language; an unbiased run sits near the mark."
        )
