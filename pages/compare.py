"""Compare runs: which run is better, on which kind of setting, and is the difference real?"""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import compare, stats
from hybrid_core.evaluation.tables import interval_table
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "compare"

st.title("Compare runs")

with _ui.guard("the comparison"):
    c1, c2, c3 = st.columns([1, 3, 1])
    # any slice of the same set is offered: runs on different slices compare on their shared questions
    table, dataset, chosen = _ui.pick_dataset_and_runs(K, c1, c2, n_default=10, across_slices=True)
    if not chosen:
        st.info("Pick at least one run.", icon=":material/info:")
        st.stop()
    baseline = c3.selectbox("Baseline", chosen, key=f"{K}_baseline")
    with st.expander("Resampling settings"):
        a, b = st.columns(2)
        n_boot = a.select_slider("Bootstrap resamples (CIs)", [200, 500, 1000, 2000], stats.N_BOOT, key=f"{K}_nboot")
        n_perm = b.select_slider("Sign flips (test)", [500, 1000, 2000, 5000], stats.N_PERM, key=f"{K}_nperm")

    with st.spinner("Computing confidence intervals and paired tests…"):
        report = _ui.cached_core(
            compare.compare_runs, tuple(chosen), dataset, baseline, names=chosen, n_boot=n_boot, n_perm=n_perm
        )
    _ui.error_cards(report.errors)
    for note in report.notes:
        st.warning(note, icon=":material/join_inner:" if report.n_common else ":material/warning:")
    if report.n_common:
        _export_ui.reevaluate_on_common_slice(report.datasets, f"{K}_reeval")
    if report.table.empty:
        st.stop()

    st.caption(
        f"Values are macro averages (mean over queries per setting, then over settings). Brackets: 95% percentile "
        f"bootstrap CI over questions ({n_boot} resamples). Δ vs **{report.baseline or '—'}**: {stats.TEST_NAME} "
        f"({n_perm} sign flips, translations of a question flipped together); p is the raw p-value, ▲ / ▼ mark a "
        "significant improvement / degradation at 0.05 after Holm correction over the run's kinds × metrics."
    )
    with st.container(horizontal=True, vertical_alignment="center"):
        _export_ui.bundle_button(chosen, dataset, report.baseline, n_boot, n_perm, key=f"{K}_bundle")
        st.caption(
            "One zip: main table in the paper's layout (LaTeX + CSV), CI table, every number as CSV, pair heatmaps "
            "and bias figures as PDF / SVG / PNG at print size, and a README with the commands that reproduce the runs."
        )
    # only the open tab is rendered (a rerun on switching, from the cached report): keeps the first paint light
    tabs = st.tabs(
        ["mono (X→X)", "cross (X→Y)", "multi (X→all)", "Chart", "Paper view"], key=f"{K}_tab", on_change="rerun"
    )
    for tab, kind in zip(tabs[:3], compare.KINDS, strict=True):
        if not tab.open:
            continue
        with tab:
            wide = report.wide(kind)
            if wide.empty:
                st.info(f"No {kind} settings in {dataset}.", icon=":material/info:")
                continue
            st.dataframe(wide, key=f"{K}_table_{kind}", column_config=_export_ui.name_columns(wide))
            delta = report.wide(kind, what="delta")
            if not delta.empty:
                st.markdown(f"**Difference to {report.baseline}**")
                st.dataframe(delta, key=f"{K}_delta_{kind}", column_config=_export_ui.name_columns(delta))
            # the run x metric table as shown (value [low, high], ▲ / ▼ vs the baseline), booktabs LaTeX
            _export_ui.table_downloads(
                interval_table(report.table, kinds=[kind]),
                f"compare-{dataset}-{kind}",
                f"{K}_dl_{kind}",
                caption=f"{kind} retrieval on {dataset}: macro average [95% bootstrap CI]; "
                f"marks: significant vs {report.baseline or '-'} ({stats.TEST_NAME}, Holm-corrected, alpha 0.05)",
            )
    if tabs[3].open:
        with tabs[3]:
            from hybrid_core.analysis import figures  # plotly figure code only when the chart tab is open

            metrics = list(dict.fromkeys(report.table["metric"]))
            metric = st.selectbox("Metric", metrics, key=f"{K}_metric")
            fig = figures.compare_bars(report.table, metric, baseline=report.baseline)
            st.plotly_chart(fig, key=f"{K}_chart")
            _export_ui.figure_downloads(fig, f"compare-{dataset}-{metric}", f"{K}_fig")
    if tabs[4].open:
        with tabs[4]:
            st.markdown("**Published numbers — reported in arXiv 2408.10536, not re-run here**")
            paper = compare.paper_table()
            first = dataset.split("-q")[0] if dataset.startswith(("xquad-r", "mlqa-r")) else "xquad-r"
            paper = paper.sort_values("dataset", key=lambda d: d != first, kind="stable")
            st.dataframe(
                paper.drop(columns=["source"]),
                hide_index=True,
                key=f"{K}_paper",
                height=35 * (len(paper) + 1) + 3,
                column_config={
                    **{c: st.column_config.NumberColumn(format="%.3f") for c in paper.columns if "map" in c},
                    "rank_distance": st.column_config.NumberColumn("RD", format="%.1f"),
                },
            )
            _export_ui.table_downloads(
                paper.drop(columns=["source"]).set_index("model"),
                "paper-reported",
                f"{K}_dl_paper",
                caption="Reported in arXiv 2408.10536 (Table 2), not re-run here",
            )
            st.caption(
                "mAP (LAReQA) for mono / cross / multi and rank distance (RD, lower = less language bias) as "
                "printed in the paper; their models were fine-tuned on machine-translated QA + mMARCO, so compare "
                "directions and gaps, not absolute values."
            )
            st.markdown("**These runs in the same layout — measured here**")
            ours = compare.paper_view(report)
            st.dataframe(
                ours.drop(columns=["source", "batches"]),
                hide_index=True,
                key=f"{K}_ours",
                column_config={
                    **_export_ui.name_columns(ours, "model"),
                    **{c: st.column_config.NumberColumn(format="%.3f") for c in ours.columns if "map" in c},
                    "rank_distance": st.column_config.NumberColumn("RD", format="%.1f"),
                },
            )
            _export_ui.table_downloads(
                ours.drop(columns=["batches"]).set_index("model").rename_axis("run"),
                f"measured-{dataset}",
                f"{K}_dl_ours",
                caption=f"Measured here on {dataset}: macro mAP per kind and rank distance",
            )
