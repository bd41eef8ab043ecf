"""Ablations: studies (a grid of arms x seeds with statistics) and one-factor groups of runs already on disk."""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import ablations, figures, stats
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "ablations"
S = "studies"


@st.cache_data(show_spinner=False, max_entries=16)
def _configs(root: str, key: tuple):
    from hybrid_core.runs import RunStore

    frame = ablations.config_frame(RunStore(root))
    return frame, ablations.varying_keys(frame) if not frame.empty else []


@st.cache_data(show_spinner=False, max_entries=8)
def _study(folder: str, mtime: float):
    from pathlib import Path

    from hybrid_core.io_utils import read_json
    from hybrid_core.studies.tables import read_results

    return read_results(Path(folder)), read_json(Path(folder) / "plan.json")


@st.cache_data(show_spinner=False, max_entries=4)
def _bundle(folder: str, mtime: float) -> bytes:
    from hybrid_core.studies.bundle import paper_bundle

    return paper_bundle(folder)


def studies_section() -> None:
    from pathlib import Path

    from hybrid_core import jobs
    from hybrid_core.studies import catalog, spec, tables
    from hybrid_core.studies import figures as sfig

    listing = catalog.list_studies()
    if listing.empty:
        st.info(
            "No study on disk yet. Start one below, or from a terminal: "
            "`python -m hybrid_core study alpha-sweep --size quick` (add `--dry-run` to see the plan and its cost).",
            icon=":material/science:",
        )
    else:
        shown = listing[["study", "size", "state", "progress", "current", "updated"]]
        st.dataframe(
            shown,
            hide_index=True,
            key=f"{S}_list",
            column_config={"progress": st.column_config.ProgressColumn("progress", min_value=0.0, max_value=1.0)},
        )
    with st.expander("Start a study (runs as a background job)", expanded=listing.empty):
        c1, c2, c3 = st.columns([2, 1, 1])
        name = c1.selectbox("Study", spec.shipped_studies(), key=f"{S}_new")
        size = c2.selectbox("Size", spec.SIZES, key=f"{S}_new_size", help="quick: 2 CPU cores; medium; full: GPU")
        if c3.button("Start", key=f"{S}_start", icon=":material/play_arrow:"):
            job = jobs.start(jobs.cli_argv("study", name, "--size", size), label=f"study {name} ({size})")
            st.success(f"Started job {job}: see **Jobs** for its log; this list shows its progress.")
    finished = listing[listing["path"].map(lambda p: (Path(p) / "results.csv").is_file())] if len(listing) else listing
    if finished.empty:
        return
    labels = [f"{r.study} ({r.size})" for r in finished.itertuples()]
    pick = st.selectbox("Study", range(len(labels)), format_func=lambda i: labels[i], key=f"{S}_pick")
    folder = Path(finished.iloc[pick]["path"])
    tidy, plan = _study(str(folder), (folder / "results.csv").stat().st_mtime)
    study_spec = plan.get("spec", {})
    if study_spec.get("description"):
        st.caption(study_spec["description"])

    c1, c2, c3 = st.columns([2, 2, 1])
    datasets = list(dict.fromkeys(tidy["dataset"]))
    ds = c1.selectbox("Data set", datasets, key=f"{S}_ds")
    on_ds = tidy[tidy["dataset"] == ds]  # a slice names other languages in another data set
    slice_names = list(dict.fromkeys(on_ds["slice"]))
    langs = dict(zip(on_ds["slice"], on_ds["languages"], strict=True))
    sl = c2.selectbox(
        "Languages",
        slice_names,
        format_func=lambda s: f"{s} ({langs.get(s, '')})",
        key=f"{S}_slice",
        help="seen / never seen in training, low-resource (least CC-100 data), or one language; by query language",
    )
    metric = c3.selectbox("Metric", ["map", "rank_distance"], key=f"{S}_metric")

    on_axis = sfig.curve_series(tidy[(tidy["dataset"] == ds) & (tidy["slice"] == sl)])
    fig = sfig.curve(tidy, ds, sl, metric) if on_axis else sfig.delta_forest(tidy, ds, sl, metric)
    st.plotly_chart(fig, key=f"{S}_chart")
    _export_ui.figure_downloads(fig, f"{plan['study']}-{plan['size']}-{ds}-{sl}-{metric}", f"{S}_fig")

    baseline, correction = study_spec.get("baseline", ""), study_spec.get("correction", "holm")
    st.subheader("Table")
    values = tables.value_table(tidy, ds, sl)
    st.dataframe(values, key=f"{S}_values")
    deltas = tables.delta_table(tidy, ds, sl)
    if len(deltas):
        st.markdown(f"**Against the baseline `{baseline}`** (Δ [95% CI], corrected p, d_z, minimum detectable effect)")
        st.dataframe(deltas, key=f"{S}_deltas")
    note = tables.footnote(tidy, ds, sl, baseline, correction, plan)
    st.caption(note)
    part = tidy[(tidy["dataset"] == ds) & (tidy["slice"] == sl)]
    latex = tables.latex_table(tables.value_table(tidy, ds, sl, latex=True), caption=f"{ds}, slice {sl}. {note}")
    _export_ui.table_downloads(part, f"{plan['study']}-{plan['size']}-{ds}-{sl}", f"{S}_tbl", tex=latex)
    if study_spec.get("reported"):
        st.subheader("In the paper's layout")
        paper = tables.paper_layout(tidy)
        st.dataframe(_ui.fmt_table(paper), key=f"{S}_paper")
        st.caption("Measured here: seed means over all languages. Reported: arXiv 2408.10536, not re-run here.")
    _study_noise(tidy, ds, sl, metric, f"{plan['study']}-{plan['size']}")
    bars = sfig.slice_bars(tidy, ds, metric)
    with st.expander("By language slice"):
        st.plotly_chart(bars, key=f"{S}_bars")
        _export_ui.figure_downloads(bars, f"{plan['study']}-{plan['size']}-{ds}-slices-{metric}", f"{S}_bars_fig")

    _export_ui.zip_button(
        lambda: _bundle(str(folder), (folder / "results.csv").stat().st_mtime),
        f"{plan['study']}-{plan['size']}-paper-bundle",
        f"{S}_bundle",
        label="Paper bundle (zip)",
        help="tables (CSV, Markdown, LaTeX booktabs), every figure as PNG / SVG / PDF, all numbers, README",
    )


def _study_noise(tidy, ds: str, sl: str, metric: str, stem: str) -> None:
    """A study evaluated on noisy queries too: each arm's metric vs noise level (from its results table)."""
    from hybrid_core.analysis import robustness

    parsed = robustness.parse_noisy_name(ds)
    base = parsed[0] if parsed else ds
    if base not in robustness.study_noise_bases(tidy):
        return
    st.subheader("Under query noise")
    table = robustness.study_noise_table(tidy, base, sl, metric)
    c1, c2 = st.columns(2)
    kinds = [k for k in figures.KIND_ORDER if k in set(table["kind"])]
    kind = c1.selectbox("Setting kind", kinds, key=f"{S}_noise_kind")
    fams = robustness.families(table)
    fam = c2.selectbox("Noise", fams, key=f"{S}_noise_family") if len(fams) > 1 else (fams or [""])[0]
    shown = robustness.family_rows(table[table["kind"] == kind], fam)
    fig = robustness.curves_figure(shown, title=f"{base} · {sl}: {kind} {metric} under {fam} noise")
    st.plotly_chart(fig, key=f"{S}_noise_chart")
    st.caption(
        "One line per arm; bands: the study's 95% CIs over questions (seeds averaged query by query). Change vs "
        "clean is the arm's noisy minus clean value; paired CIs of that change are on the **Robustness** page."
    )
    cols = ["series", "kind", "noise", "level", "value", "ci_low", "ci_high", "drop", "n_seeds"]
    out = shown[[c for c in cols if c in shown.columns]].rename(columns={"series": "arm"})
    _export_ui.figure_and_table_downloads(
        fig, out, f"{stem}-{base}-{sl}-{kind}-{metric}-noise", f"{S}_noise", caption=f"{base}, {sl}: under noise"
    )
    st.dataframe(_ui.fmt_table(out), hide_index=True, key=f"{S}_noise_table")


def run_groups_section() -> None:
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
    _export_ui.figure_downloads(fig, f"ablation-{key}-{dataset}-{metric}", f"{K}_fig")

    st.subheader("Table")
    st.dataframe(ablations.wide(sweep, key, metric), key=f"{K}_table")
    st.caption(f"{metric} with 95% bootstrap CIs, per value of {key} and setting kind.")
    _export_ui.table_downloads(sweep, f"ablation-{key}-{dataset}", f"{K}_dl", caption=f"Effect of {key} on {dataset}")
    with st.expander("All metrics (tidy table, as downloaded)"):
        st.dataframe(_ui.fmt_table(sweep), hide_index=True, key=f"{K}_tidy")
    _ui.configs_expander(frame, group, f"{K}_configs")


st.title("Ablations")
tab_studies, tab_groups = st.tabs(["Studies", "Groups of runs"])
with tab_studies, _ui.guard("the studies view"):
    studies_section()
with tab_groups, _ui.guard("the ablation view"):
    run_groups_section()
