"""Jobs: start evaluations, training runs and experiments in the background; watch and cancel them."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from hybrid_core import jobs
from hybrid_core.errors import HybridIRError
from hybrid_core.models.precision import PRECISIONS
from pages import _ui

_ui.ensure_app_navigation()

K = "jobs"
SAMPLERS = ["hybrid", "x-y", "x-x-mono", "x-x"]
TRAIN_SETS = ["mlqa-r", "xquad-r"]
SPLITS = {"auto": "auto", "train": "train part", "all": "all"}
PRECISION_HELP = (
    "int8: encode with an ONNX Runtime dynamic int8 export of each model (made once, faster on CPU, mAP within "
    "about 0.01 of fp32; see README 'Speed'). Its results are stored beside the fp32 ones."
)

st.title("Jobs")
st.caption(
    "Each job runs `python -m hybrid_core …` as a background process; it keeps running if you close the page. "
    "Finished runs appear on the other pages."
)


def _launch(args: list[str], label: str) -> None:
    try:
        job_id = jobs.start(jobs.cli_argv(*args), label=label)
    except HybridIRError as exc:
        st.session_state[f"{K}_flash"] = ("error", str(exc))
    else:
        st.session_state[f"{K}_flash"] = ("success", f"Started job {job_id}: {label}")
    st.rerun()  # show the message above the forms and start polling the job list


with _ui.guard("the job forms"):
    flash = st.session_state.pop(f"{K}_flash", None)
    if flash:
        (st.success if flash[0] == "success" else st.error)(flash[1])

    t_eval, t_train, t_exp = st.tabs(["Evaluate", "Train", "Experiment"])
    with t_eval, st.form(f"{K}_eval_form"):
        model = st.text_input(
            "Model",
            "",
            key=f"{K}_eval_model",
            placeholder="empty = default model (multilingual-e5-small)",
            help="A sentence-transformers name you have locally, a model folder, or a trained run's model folder.",
        )
        data = st.multiselect("Data sets", ["xquad-r", "mlqa-r"], ["xquad-r"], key=f"{K}_eval_data")
        a, b, c = st.columns(3)
        run = a.text_input("Run name", "", key=f"{K}_eval_run", placeholder="default: eval-<model>")
        maxq = b.number_input("Question sample (0 = all)", 0, 5000, 200, step=50, key=f"{K}_eval_maxq")
        precision = c.radio("Precision", PRECISIONS, key=f"{K}_eval_precision", horizontal=True, help=PRECISION_HELP)
        if st.form_submit_button("Start evaluation", type="primary", icon=":material/play_arrow:"):
            if not data:
                st.error("Choose at least one data set.")
            else:
                args = jobs.evaluate_args(
                    model.strip() or None, data, run.strip() or None, int(maxq) or None, precision=precision
                )
                _launch(args, f"evaluate {model.strip() or 'default model'} on {', '.join(data)}")
    with t_train, st.form(f"{K}_train_form"):
        a, b, c = st.columns(3)
        run = a.text_input("Run name", "", key=f"{K}_train_run", placeholder="e.g. hybrid-a0.5")
        sampler = b.selectbox("Batch sampler", SAMPLERS, key=f"{K}_train_sampler")
        alpha = c.slider("α (hybrid: share of X-X-mono batches)", 0.0, 1.0, 0.5, 0.05, key=f"{K}_train_alpha")
        a, b, c, d = st.columns(4)
        steps = a.number_input("Steps", 1, 100_000, 100, key=f"{K}_train_steps")
        batch = b.number_input("Batch size", 2, 1024, 16, key=f"{K}_train_batch")
        train_data = c.selectbox("Training data", TRAIN_SETS, key=f"{K}_train_data")
        seed = d.number_input("Seed", 0, 10_000, 0, key=f"{K}_train_seed")
        a, b = st.columns([3, 1])
        base = a.text_input(
            "Base model", "", key=f"{K}_train_model", placeholder="empty = default model (multilingual-e5-small)"
        )
        split = b.selectbox(
            "Training part",
            SPLITS,
            key=f"{K}_train_split",
            format_func=SPLITS.get,
            help="auto: the article-disjoint train part whenever the evaluation names a :test part, else all",
        )
        a, b = st.columns([3, 1])
        eval_data = a.text_input(
            "Evaluate at the end on",
            "xquad-r",
            key=f"{K}_train_eval",
            help="e.g. xquad-r or mlqa-r:test (the held-out articles); empty = no evaluation. The results appear "
            "on Compare like any evaluation.",
        )
        eval_q = b.number_input("Question sample (0 = all)", 0, 5000, 50, step=10, key=f"{K}_train_evalq")
        if st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:"):
            try:
                args, label = jobs.train_job(
                    run.strip(),
                    sampler=sampler,
                    alpha=alpha,
                    steps=int(steps),
                    batch_size=int(batch),
                    train_data=train_data,
                    split=split,
                    seed=int(seed),
                    model=base.strip() or None,
                    eval_data=eval_data.strip() or None,
                    eval_max_questions=int(eval_q),
                )
            except HybridIRError as exc:
                st.error(str(exc), icon=":material/error:")
            else:
                _launch(args, label)
    with t_exp, st.form(f"{K}_exp_form"):
        st.markdown("Train X-X-mono, X-Y and hybrid(0.5) from the same start and compare them (the paper's table).")
        a, b, c = st.columns(3)
        preset = a.selectbox(
            "Preset",
            ["quick", "paper"],
            key=f"{K}_exp_preset",
            help="quick: CPU smoke scale (< 45 min); paper: GPU scale",
        )
        name = b.text_input("Name", "", key=f"{K}_exp_name", placeholder="default: the preset's name")
        steps = c.number_input("Steps per arm (0 = preset)", 0, 100_000, 0, key=f"{K}_exp_steps")
        a, b = st.columns(2)
        whole = a.checkbox(
            "Evaluate on the whole sets",
            key=f"{K}_exp_whole",
            help="Every question of XQuAD-R and of the held-out MLQA-R articles instead of the preset's sample "
            "(quick: 60 question ids).",
        )
        precision = b.radio("Precision", PRECISIONS, key=f"{K}_exp_precision", horizontal=True, help=PRECISION_HELP)
        if st.form_submit_button("Start experiment", type="primary", icon=":material/play_arrow:"):
            args = jobs.experiment_args(
                preset,
                name.strip() or None,
                int(steps) or None,
                max_questions=0 if whole else None,
                precision=precision,
            )
            _launch(
                args, f"experiment {preset}{' (whole sets)' if whole else ''}{f' {precision}' * (precision != 'fp32')}"
            )


def _job_list() -> None:
    with _ui.guard("the job list"):
        listed = jobs.list_jobs(limit=20)
        if _ui.jobs_finished(K, listed):
            st.rerun()  # stop polling: a full rerun re-creates this fragment without a timer
        if not listed:
            st.info("No jobs yet.", icon=":material/info:")
            return
        icons = {
            "running": ":material/progress_activity:",
            "done": ":material/check_circle:",
            "failed": ":material/error:",
            "cancelled": ":material/cancel:",
            "lost": ":material/help:",
        }
        for job in listed:
            started = dt.datetime.fromtimestamp(job.created).strftime("%Y-%m-%d %H:%M:%S")
            state = jobs.outcome(job)  # "cancelled after finishing (results complete)" when the results are whole
            with st.expander(
                f"{job.label} — {state} (started {started})", expanded=job.state == "running", icon=icons[job.state]
            ):
                if job.state == "running":  # the whole job (steps, then evaluation stages), not the current bar
                    st.progress(job.progress or 0.0, text=f"{(job.progress or 0):.0%} · {job.last_line[:150]}")
                    if st.button("Cancel", key=f"{K}_cancel_{job.id}", icon=":material/stop:"):
                        jobs.cancel(job.id)
                        st.rerun(scope="fragment")
                elif job.state == "failed":
                    st.error(f"exit code {job.returncode}: {job.last_line[:300]}")
                elif job.state == "cancelled" and state != job.state:
                    st.success("Cancelled after its results were complete: they are kept and shown on the other pages.")
                elif job.state == "lost":
                    st.warning("The job's supervisor ended without an exit code (machine restart or killed).")
                st.caption(f"job {job.id} · `{job.command[:200]}`")
                st.code("\n".join(jobs.tail(job.id, 15)) or "(no output yet)", language="log")


st.subheader("Recent jobs")
st.fragment(_job_list, run_every=2 if jobs.running() else None)()
