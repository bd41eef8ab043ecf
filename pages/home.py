"""Home: what is on disk (runs, data sets, the default model), and a one-click start when nothing is."""

from __future__ import annotations

import streamlit as st

from hybrid_core import jobs
from hybrid_core.analysis.overview import INCOMPLETE, describe_dataset, runs_overview
from hybrid_core.data.available import data_status
from hybrid_core.jobs import EVALUATE_PRESETS, exposure_warning
from hybrid_core.models.loading import model_status
from pages import _ui

_ui.ensure_app_navigation()

K = "home"

st.title("hybrid-ir")
st.caption(
    "Train and analyse multilingual dense retrievers with hybrid batch training: monolingual, cross-lingual and "
    "multilingual retrieval, language bias, ablations."
)
if exposed := exposure_warning(st.get_option("server.address")):
    st.warning(exposed, icon=":material/public:")


def _start_preset(preset: str) -> None:
    spec = EVALUATE_PRESETS[preset]
    jobs.start(jobs.cli_argv(*spec["args"]), label=spec["label"])


def _running_jobs() -> None:
    active = jobs.running()
    if _ui.jobs_finished(K, active):
        st.rerun()  # a job ended: rerun the whole page so its new run shows up
    if not active:
        return
    st.subheader("Running jobs")
    for job in active:
        label = f"{job.label} — {(job.progress or 0):.0%} · {job.last_line[:120]}"
        st.progress(job.progress or 0.0, text=label)
    st.caption("Results appear below when a job finishes. Details and cancel on the **Jobs** page.")


with _ui.guard("the home page"):
    table = _ui.run_table()
    good = _ui.good_runs(table) if not table.empty else table
    models = model_status()
    data = data_status()

    c1, c2, c3 = st.columns(3)
    c1.metric(
        "Runs on disk", f"{len(good)}" + (f" (+{len(table) - len(good)} unreadable)" if len(table) > len(good) else "")
    )
    c2.metric("Data sets found", f"{int(data['available'].sum())} of {len(data)}")
    c3.metric("Default model", "ready" if models["ready"] else "not converted")

    st.fragment(_running_jobs, run_every=2 if jobs.running() else None)()

    if good.empty:
        st.subheader("Get started")
        st.info(
            "There are no evaluated runs yet. Evaluate the default model (multilingual-e5-small, bundled offline) "
            "as a background job so the other pages have something to show.",
            icon=":material/rocket_launch:",
        )
        preset = st.radio(
            "What to evaluate",
            list(EVALUATE_PRESETS),
            format_func=lambda p: EVALUATE_PRESETS[p]["title"],
            key=f"{K}_preset",
            horizontal=True,
        )
        busy = bool(jobs.running())
        if st.button(
            "Evaluate the default model",
            type="primary",
            key=f"{K}_evaluate",
            disabled=busy,
            icon=":material/play_arrow:",
        ):
            _start_preset(preset)
            st.rerun()
        if busy:
            st.caption("A job is already running; wait for it to finish or cancel it on the Jobs page.")
    else:
        st.subheader("Runs")
        datasets = _ui.all_datasets(table)
        dataset = st.columns(3)[0].selectbox("mAP columns for", datasets, key=f"{K}_dataset") if datasets else None
        overview = runs_overview(table, dataset, jobs.live_runs())
        stopped = overview[overview["state"].isin(INCOMPLETE)]
        st.dataframe(
            overview[~overview["state"].isin(INCOMPLETE)],
            hide_index=True,
            key=f"{K}_runs",
            column_config={
                "run": st.column_config.TextColumn(pinned=True),
                "state": st.column_config.TextColumn(help="training… / evaluating… while a job works on the run"),
                "data sets": st.column_config.TextColumn(help="data sets the run has results for"),
                "alpha": st.column_config.TextColumn(
                    "α", help="the sampler's effective α: hybrid its α, X-Y 0, X-X-mono 1 (blank for X-X)"
                ),
            },
        )
        st.caption(
            "mAP: macro mAP on the chosen data set per setting kind (mono X→X, cross X→Y, multi X→all); "
            "– = no result on that set."
        )
        st.caption(" · ".join(describe_dataset(d) for d in datasets))
        if not stopped.empty:
            with st.expander(f"{len(stopped)} incomplete run(s), not listed above (cancelled or stopped jobs)"):
                st.dataframe(stopped[["run", "state", "kind", "steps", "created"]], hide_index=True, key=f"{K}_stopped")
                st.caption(
                    "A training run stopped mid-way resumes with `python -m hybrid_core train --run <name> --resume`; "
                    "an evaluation picks up where it stopped when started again."
                )
    bad = table[table["error"].notna()] if "error" in table.columns else table.iloc[0:0]
    if not bad.empty:
        st.subheader("Unreadable runs")
        _ui.error_cards(dict(zip(bad["name"], bad["error"], strict=True)))

    left, right = st.columns(2)
    with left:
        st.subheader("Data sets")
        st.dataframe(data.drop(columns=["available", "folder"]), hide_index=True, key=f"{K}_data")
        st.caption(f"Data folder: `{data['folder'].iloc[0].rsplit('/', 1)[0]}` (`$HYBRID_IR_DATA`).")
    with right:
        st.subheader("Default model")
        st.markdown(f"**{models['name']}** — {models['detail']}")
        if not models["ready"]:
            st.caption("Convert it with `python -m hybrid_core setup` (the evaluate button does it when needed).")
