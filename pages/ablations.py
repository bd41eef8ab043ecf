"""Ablations: what does one setting (α, sampler, temperature, …) do when everything else is held fixed?"""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import ablations, figures, stats
from pages import _ui

_ui.ensure_app_navigation()

K = "ablations"


@st.cache_data(show_spinner=False, max_entries=16)
def _configs(root: str, key: tuple):
    from hybrid_core.runs import RunStore

    frame = ablations.config_frame(RunStore(root))
    return frame, ablations.varying_keys(frame) if not frame.empty else []


st.title("Ablations")

with _ui.guard("the ablation view"):
    store = _ui.store()
    frame, keys = _configs(str(store.root), _ui.runs_key(store))
    if frame.empty:
        _ui.no_runs_notice()
        st.stop()
    if not keys:
        st.info(
            "No group of runs differs in exactly one setting yet. Train runs that share every option but one (e.g. "
            "`python -m hybrid_core train --sampler hybrid --alpha 0.25 …` for several α), or run "
            "`python -m hybrid_core experiment`, then come back.",
            icon=":material/info:",
        )
        st.stop()

    c1, c2, c3 = st.columns([1, 3, 1])
    key = c1.selectbox("Setting", keys, key=f"{K}_key", help="α is the effective α: X-Y = 0, X-X-mono = 1")
    groups = ablations.find_groups(frame, key)
    labels = [f"{len(g)} runs: {', '.join(g[:4])}{'…' if len(g) > 4 else ''}" for g in groups]
    gi = c2.selectbox("Group of runs", range(len(groups)), format_func=lambda i: labels[i], key=f"{K}_group")
    group = groups[gi]
    table = _ui.run_table()
    common = sorted(set.intersection(*(set(_ui.datasets_by_run(table).get(r, [])) for r in group)))
    if not common:
        st.warning("These runs have no evaluated data set in common.", icon=":material/warning:")
        st.stop()
    dataset = c3.selectbox("Data set", common, key=f"{K}_dataset")

    with st.spinner("Bootstrapping…"):
        sweep = _ui.cached_core(ablations.sweep, tuple(group), key, dataset, names=group, n_boot=stats.N_BOOT)
    metrics = list(dict.fromkeys(sweep["metric"]))
    metric = st.selectbox("Metric", metrics, key=f"{K}_metric")
    values = list(dict.fromkeys(sweep[key]))
    if ablations.is_numeric(values):
        fig = figures.sweep_curve(sweep, key, metric)
        how = (
            "One line per setting kind; the band is the 95% bootstrap CI over questions. Runs that share a value of "
            f"{key} (other seeds) are averaged query by query first."
        )
    else:
        fig = figures.group_bars(sweep, key, metric)
        how = "Bars per value, grouped by setting kind; whiskers are 95% bootstrap CIs over questions."
    st.plotly_chart(fig, key=f"{K}_chart")
    st.caption(how + (" α = 0 is X-Y batches, α = 1 is X-X-mono, between is the hybrid mix." if key == "alpha" else ""))
    _ui.figure_downloads(fig, f"ablation-{key}-{dataset}-{metric}", f"{K}_fig")

    st.subheader("Table")
    st.dataframe(ablations.wide(sweep, key, metric), key=f"{K}_table")
    st.caption(f"{metric} with 95% bootstrap CIs, per value of {key} and setting kind.")
    _ui.table_downloads(sweep, f"ablation-{key}-{dataset}", f"{K}_dl", caption=f"Effect of {key} on {dataset}")
    with st.expander("All metrics (tidy table, as downloaded)"):
        st.dataframe(_ui.fmt_table(sweep), hide_index=True, key=f"{K}_tidy")
    with st.expander("Configs of these runs"):
        shown = frame.loc[group].dropna(axis=1, how="all").map(lambda v: "" if v is None else str(v))
        st.dataframe(shown, key=f"{K}_configs")
