"""Robustness: how do runs hold up on noisy queries, and does training augmentation help?"""

from __future__ import annotations

import streamlit as st

from hybrid_core.analysis import robustness, stats
from hybrid_core.analysis.compare import ALL_METRICS, KINDS, display_order
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "robust"
A = "augment"
ALL_KINDS = "all kinds"
VIEWS = ("absolute", "change vs clean")


@st.cache_data(show_spinner=False, max_entries=16)
def _configs(root: str, key: tuple):
    from hybrid_core.analysis import ablations
    from hybrid_core.runs import RunStore

    return ablations.config_frame(RunStore(root))


def _slices(runs: list[str], base: str) -> dict[str, list[str]]:
    """All languages, the low-resource ones (CC-100 size), and each language: the query-language slices."""
    from hybrid_core.studies.slices import language_slices

    langs = sorted(set().union(*(_ui.summary(r, base).get("data", {}).get("languages", []) for r in runs)))
    # seen / unseen depend on each run's training languages, so they are a study's slices, not offered here
    return {k: v for k, v in language_slices(langs, seen=langs).items() if k != "seen"}


def _controls(key: str, runs: list[str], base: str, cols) -> tuple[tuple[str, ...], tuple[str, ...] | None, str, str]:
    """Kind, language slice and metric pickers; returns (kinds, languages or None, metric, slice name)."""
    kind = cols[0].selectbox("Setting kind", [*KINDS, ALL_KINDS], key=f"{key}_kind")
    slices = _slices(runs, base)
    sl = cols[1].selectbox(
        "Languages",
        list(slices),
        format_func=lambda s: f"{s} ({', '.join(slices[s])})" if s != "all" else "all",
        key=f"{key}_slice",
        help="by query language; low-resource = the least CC-100 pre-training data",
    )
    metric = cols[2].selectbox("Metric", display_order(ALL_METRICS), key=f"{key}_metric")
    kinds = tuple(KINDS) if kind == ALL_KINDS else (kind,)
    if metric == "rank_distance":
        kinds = ("multi",)
    return kinds, (None if sl == "all" else tuple(slices[sl])), metric, sl


def _show(table, base: str, where: str, stem: str, key: str, what: str) -> None:
    """Family picker, the curves, their table and the downloads."""
    if table.empty:
        st.info("No results for this kind and language slice.", icon=":material/info:")
        return
    fams = robustness.families(table)
    if len(fams) > 1:
        fam = st.selectbox("Noise", fams, key=f"{key}_family", help="each kind of noise is its own curve")
    else:
        fam = fams[0] if fams else ""
    shown = robustness.family_rows(table, fam)
    kinds = "/".join(k for k in KINDS if k in set(shown["kind"]))
    view = st.radio("View", VIEWS, horizontal=True, key=f"{key}_view", help="change vs clean: paired, narrower CIs")
    change = view == VIEWS[1]
    metric = shown["metric"].iloc[0]
    what_y = f"change in {metric} vs clean" if change else metric
    fig = robustness.curves_figure(
        shown, title=f"{base} · {kinds} · {where}: {what_y} under {fam or 'no'} noise", change=change
    )
    st.plotly_chart(fig, key=f"{key}_chart")
    if change:
        st.caption(
            f"One line per {what}; dash = setting kind. Each noisy level minus the same line's clean score, paired "
            f"question by question; bands: 95% bootstrap CIs of that difference ({stats.N_BOOT} resamples), "
            "narrower than the absolute bands as the spread between questions cancels out. Below 0: noise hurts."
        )
    else:
        st.caption(
            f"One line per {what}; dash = setting kind. Bands: 95% bootstrap CIs over questions ({stats.N_BOOT} "
            "resamples, translations together). Level = the noise rate (0 = the clean queries)."
        )
    caption = f"{base}: {metric} under {fam} noise, change vs clean queries with 95% CI"
    stem = f"{stem}-{fam}-change" if change else f"{stem}-{fam}"
    _export_ui.figure_and_table_downloads(fig, shown, stem, key, caption=caption)
    st.dataframe(_ui.fmt_table(robustness.curve_display(shown)), hide_index=True, key=f"{key}_table")
    st.caption(
        "Change vs clean: the same queries without noise, paired question by question (95% bootstrap CI); "
        f"p: {stats.TEST_NAME}, Holm-corrected over the table's noisy rows."
    )


def noisy_queries_section() -> None:
    table = _ui.run_table()
    bases = robustness.noisy_bases(_ui.datasets_by_run(table)) if not table.empty else {}
    if not bases:
        st.info(
            "No run has noisy results yet. Evaluate a run on perturbed queries, e.g. "
            "`python -m hybrid_core evaluate --run R --data xquad-r --noise typos:0.1 --noise-seed 0` "
            "(and once without `--noise`), then come back.",
            icon=":material/info:",
        )
        return
    c1, c2 = st.columns([1, 3])
    base = c1.selectbox("Data set", list(bases), key=f"{K}_dataset", help="data sets with clean and noisy results")
    _export_ui.keep_selection(f"{K}_runs", bases[base])
    default = None if f"{K}_runs" in st.session_state else bases[base][:6]
    runs = c2.multiselect("Runs", bases[base], default=default, key=f"{K}_runs")
    if not runs:
        st.info("Pick at least one run.", icon=":material/info:")
        return
    kinds, langs, metric, sl = _controls(K, runs, base, st.columns(3))
    with st.spinner("Bootstrapping…"):
        curves = _ui.cached_core(
            robustness.robustness_curves,
            tuple((r, (r,)) for r in runs),
            base,
            names=runs,
            metric=metric,
            kinds=kinds,
            languages=langs,
        )
    _show(curves, base, sl, f"robustness-{base}-{sl}-{metric}", K, "run (colour)")


def augmentation_section() -> None:
    store = _ui.store()
    frame = _configs(str(store.root), _ui.runs_key(store))
    groups = robustness.augment_groups(frame) if not frame.empty else []
    if not groups:
        st.info(
            "No group of trained runs differs only in its `augment` option yet. Train the same configuration with "
            'and without augmentation (e.g. `python -m hybrid_core train … --augment "noise=typos:0.1"` and without '
            "`--augment`), or run the `augmentation` study, then come back.",
            icon=":material/info:",
        )
        return
    labels = [f"{len(g)} runs: {', '.join(g[:4])}{'…' if len(g) > 4 else ''}" for g in groups]
    c1, c2 = st.columns([3, 1])
    gi = c1.selectbox("Group of runs", range(len(groups)), format_func=lambda i: labels[i], key=f"{A}_group")
    series = robustness.augment_series(frame, groups[gi])
    by_run = _ui.datasets_by_run(_ui.run_table())
    common = sorted(set.intersection(*(set(by_run.get(r, [])) for r in groups[gi])))
    clean = [d for d in common if robustness.parse_noisy_name(d) is None]
    if not clean:
        st.warning("These runs have no evaluated data set in common.", icon=":material/warning:")
        return
    noisy = robustness.noisy_bases({r: common for r in groups[gi]})
    base = c2.selectbox("Data set", sorted(clean, key=lambda d: d not in noisy), key=f"{A}_dataset")
    if base not in noisy:
        st.caption(f"Clean results only on {base}: evaluate these runs with `--noise` to see curves.")
    kinds, langs, metric, sl = _controls(A, groups[gi], base, st.columns(3))
    with st.spinner("Bootstrapping…"):
        curves = _ui.cached_core(
            robustness.robustness_curves,
            tuple((v, tuple(rs)) for v, rs in series.items()),
            base,
            names=list(groups[gi]),
            metric=metric,
            kinds=kinds,
            languages=langs,
        )
    _show(
        curves,
        base,
        sl,
        f"augmentation-{base}-{sl}-{metric}",
        A,
        "value of `augment` (colour; seeds averaged query by query)",
    )
    if len(series) > 1:
        ref = robustness.NO_AUGMENT if robustness.NO_AUGMENT in series else next(iter(series))
        versus = _ui.cached_core(
            robustness.versus_baseline,
            tuple((v, tuple(rs)) for v, rs in series.items()),
            base,
            ref,
            names=list(groups[gi]),
            metric=metric,
            kinds=kinds,
            languages=langs,
        )
        fams = robustness.families(versus) if not versus.empty else []
        fam = st.session_state.get(f"{A}_family", fams[0] if fams else "")
        versus = robustness.family_rows(versus, fam) if not versus.empty else versus
        if not versus.empty:
            st.markdown(f"**Against `augment` = {ref}**, on the same (clean or noisy) queries")
            st.dataframe(_ui.fmt_table(robustness.versus_display(versus)), hide_index=True, key=f"{A}_versus")
            st.caption(
                f"Δ: paired over questions, 95% bootstrap CI; p: {stats.TEST_NAME}, Holm-corrected over this table. "
                "Augmentation helps robustness when Δ grows with the noise level."
            )
            _export_ui.table_downloads(
                versus, f"augmentation-vs-{ref}-{base}-{sl}-{metric}", f"{A}_versus_dl", caption=f"vs {ref}"
            )
    _ui.configs_expander(robustness.augment_frame(frame), groups[gi], f"{A}_configs")


st.title("Robustness")
tab_noise, tab_aug = st.tabs(["Noisy queries", "Augmentation"])
with tab_noise, _ui.guard("the robustness view"):
    noisy_queries_section()
with tab_aug, _ui.guard("the augmentation view"):
    augmentation_section()
