"""Language pairs: for which query / passage language pairs does a run work, and where does it differ from another?"""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import figures, language_pairs
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "pairs"

st.title("Language pairs")

with _ui.guard("the language-pair view"):
    table, datasets = _ui.evaluated_or_stop()

    c1, c2, c3, c4 = st.columns([1, 2, 2, 1])
    dataset = c1.selectbox("Data set", datasets, key=f"{K}_dataset")
    available = _ui.runs_on_set(table, dataset)  # other slices of the set compare on shared questions
    _export_ui.keep_selection(f"{K}_run", available)
    run_a = c2.selectbox("Run", available, key=f"{K}_run")
    others = [r for r in available if r != run_a]
    _export_ui.keep_selection(f"{K}_other", ["—", *others])
    run_b = c3.selectbox("Compare with (optional)", ["—", *others], key=f"{K}_other")
    run_b = None if run_b == "—" else run_b
    names = [r for r in (run_a, run_b) if r]
    summaries, errors, used, n_common = _ui.cached_core(language_pairs.pair_summaries, names, dataset, names=names)
    _ui.error_cards(errors)
    _export_ui.slices_notice(used, n_common)
    if run_a not in summaries:
        st.stop()
    metric = c4.selectbox("Metric", language_pairs.available_metrics(summaries[run_a]), key=f"{K}_metric")
    show_values = st.toggle("Print values in cells", value=True, key=f"{K}_values")

    matrix = language_pairs.pair_matrix(summaries[run_a], metric)
    fig = figures.pair_heatmap(
        matrix,
        metric,
        title=f"{run_a}: {metric}, query language × passage language",
        show_values=show_values,
        counts=language_pairs.pair_matrix(summaries[run_a], "n_queries"),
    )
    st.plotly_chart(fig, key=f"{K}_heatmap")
    st.caption(
        f"Row = language of the question, column = language of the pool searched ({len(matrix)}×{len(matrix)}). "
        "The diagonal is monolingual retrieval; off-diagonal cells are cross-lingual. "
        "Hover for exact values and the number of queries behind each cell."
    )
    _export_ui.figure_and_table_downloads(
        fig,
        matrix,
        f"pairs-{run_a}-{dataset}-{metric}",
        f"{K}_matrix",
        caption=f"{run_a} on {dataset}: {metric}, rows = query language, columns = passage language",
    )

    if run_b and run_b in summaries:
        diff = language_pairs.pair_difference(summaries[run_a], summaries[run_b], metric)
        matrix_b = language_pairs.pair_matrix(summaries[run_b], metric)
        dfig = figures.diff_heatmap(diff, matrix, matrix_b, run_a, run_b, metric, show_values=show_values)
        st.plotly_chart(dfig, key=f"{K}_diff")
        st.caption(
            f"Each cell is {run_a} minus {run_b}. The colour scale is centred on zero: blue cells are pairs where "
            f"{run_a} is better, red where {run_b} is better, white means no difference. Hover shows both values."
        )
        _export_ui.figure_and_table_downloads(
            dfig,
            diff,
            f"pairs-diff-{run_a}-{run_b}-{dataset}-{metric}",
            f"{K}_diff",
            caption=f"{metric}: {run_a} minus {run_b} on {dataset}, rows = query language, columns = passage language",
        )

    st.subheader("Per language")
    per = language_pairs.per_language(summaries[run_a], metric)
    bars = figures.language_bars(per, metric, title=f"{run_a}: {metric} per language")
    st.plotly_chart(bars, key=f"{K}_bars")
    st.caption(
        "mono: questions and passages in that language. cross (as query): the language's questions against each "
        "other language, averaged; cross (as passage): other languages' questions against it. multi: its "
        "questions against the pooled candidates of every language."
    )
    st.dataframe(_ui.fmt_table(per), key=f"{K}_per_table", height=35 * (len(per) + 1) + 3)  # all 11 rows
    _export_ui.table_downloads(per, f"pairs-{run_a}-{dataset}-{metric}", f"{K}_dl", caption=f"{run_a} {metric}")
