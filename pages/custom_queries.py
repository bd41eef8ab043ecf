"""Custom queries: how do the runs do on my own questions, and what does a run retrieve for a query I type?"""

from __future__ import annotations

import streamlit as st

from hybrid_core import jobs
from hybrid_core.analysis import bias, compare, figures, language_pairs
from hybrid_core.analysis.overview import distinct_model_runs
from hybrid_core.augment.noise import NOISE_KINDS
from hybrid_core.data import uploads
from hybrid_core.data.available import dataset_choices, load_named
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation import search
from pages import _ui

_ui.ensure_app_navigation()

K = "custom"


@st.cache_resource(show_spinner=False, max_entries=4)
def _dataset(name: str):
    return load_named(name)


@st.cache_resource(show_spinner=False, max_entries=4)
def _index(model_ref: str, dataset_key: str, _dataset_obj):
    model, fingerprint = _ui.model_for(model_ref)
    return search.corpus_index(model, _dataset_obj, fingerprint)


def _follow_file_names(files) -> None:
    """The set's name follows the uploaded files (until the user types one for these files)."""
    names = tuple(sorted(f.name for f in files or []))
    if st.session_state.get(f"{K}_file_names") != names:
        st.session_state[f"{K}_file_names"] = names
        st.session_state[f"{K}_name"] = uploads.suggest_name(names) if names else "upload-set"


def _evaluation_job() -> None:
    """The running (or finished) evaluation job of this session: whole-job progress, cancel, then the results."""
    job_id, set_name, names = st.session_state[f"{K}_job"]
    job = jobs.status(job_id)
    if _ui.jobs_finished(K, [job]):
        st.rerun()  # the job ended: a full rerun renders the results and stops polling
    if job.state == "running":
        st.progress(job.progress or 0.0, text=job.last_line[:160] or "starting…")
        if st.button("Cancel", key=f"{K}_cancel", icon=":material/stop:"):
            jobs.cancel(job_id)
            st.rerun()
    elif job.state == "done":
        _results(set_name, list(names))
    else:
        st.error(f"The evaluation job {job.state}: {job.last_line[:300]}", icon=":material/error:")
        st.code("\n".join(jobs.tail(job_id, 15)) or "(no output)", language="log")


def _results(set_name: str, names: list[str]) -> None:
    report = _ui.cached_core(compare.compare_runs, tuple(names), set_name, names[0], names=names)
    _ui.error_cards(report.errors)
    for kind in compare.KINDS:
        wide = report.wide(kind)
        if not wide.empty:
            st.markdown(f"**{kind}** (95% bootstrap CIs over questions)")
            st.dataframe(wide, key=f"{K}_table_{kind}")
    summaries, _ = _ui.summaries(names, set_name)
    first = summaries.get(names[0])
    if first and first.get("data", {}).get("parallel"):
        with _ui.guard("the language-pair heatmap"):
            st.plotly_chart(
                figures.pair_heatmap(
                    language_pairs.pair_matrix(first, "map"), "map", title=f"{names[0]}: mAP per language pair"
                ),
                key=f"{K}_heatmap",
            )
    with_bias = {n: s for n, s in summaries.items() if s.get("bias")}
    if with_bias:
        st.plotly_chart(figures.rank_distance_bars(bias.rank_distance_table(with_bias)), key=f"{K}_rd")
        st.caption("Rank distance per query language: lower means less language bias.")


HIT_COLUMNS = {
    "score": st.column_config.NumberColumn("cosine", format="%.3f"),
    "text": st.column_config.TextColumn("candidate", width="large"),
    "clean_rank": st.column_config.NumberColumn("rank for the clean query", format="%d"),
}


def _hits_table(hits, key: str) -> None:
    mix = search.language_mix(hits)
    st.caption("Languages among the hits: " + ", ".join(f"{lang} {n}" for lang, n in mix.items()))
    st.dataframe(hits, hide_index=True, key=key, column_config=HIT_COLUMNS)


def _noisy_hits(model, ci, text: str, noise: str, seed: int, k: int, langs) -> None:
    """The perturbed query and its hits beside the clean query's (a bad spec: an error naming the bad item)."""
    try:
        noisy_text, clean, noisy = search.noisy_search(model, ci, text, noise, seed, k, langs)
    except HybridIRError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    kept = int(noisy["clean_rank"].notna().sum())
    st.markdown(f"Noisy query (`{noise.strip()}`, seed {seed}): **{noisy_text}**")
    st.caption(f"{kept} of the noisy query's {len(noisy)} hits are also among the clean query's top {k}.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Clean query**")
        _hits_table(clean, f"{K}_hits")
    with right:
        st.markdown("**Noisy query**")
        _hits_table(noisy, f"{K}_noisy_hits")


st.title("Custom queries")

with _ui.guard("the custom-query page"):
    table = _ui.run_table()
    runs = list(_ui.good_runs(table)["name"]) if not table.empty else []
    choices = dataset_choices()

    st.subheader("1 · Upload a query set")
    st.markdown(
        "Accepted: a **CSV / TSV / JSONL** query set with columns `query, language` and `relevant_ids` (candidate "
        "ids, `|`-separated) or `answer` (text contained in the relevant sentences), judged against a data set's "
        "candidates or an uploaded BEIR `corpus.jsonl` (`_id, text, language`); **SQuAD / LAReQA** `<lang>.json` "
        "files (several languages sharing question ids make a parallel set); or a **BEIR** set: `corpus.jsonl`, "
        f"`queries.jsonl` and one qrels `.tsv`. Up to {uploads.MAX_FILE_BYTES // 2**20} MB per file, UTF-8. "
        "Nothing is saved until you evaluate (then the files are kept under `cache/uploads/<name>/` for the "
        "background job)."
    )
    files = st.file_uploader(
        "Files",
        type=["csv", "tsv", "jsonl", "ndjson", "json"],
        accept_multiple_files=True,
        key=f"{K}_files",
        max_upload_size=max(1, uploads.MAX_FILE_BYTES // 2**20),
    )
    _follow_file_names(files)
    a, b = st.columns(2)
    corpus = a.selectbox("Corpus for a query set (unless you upload corpus.jsonl)", choices, key=f"{K}_corpus")
    name = b.text_input("Name for this set", key=f"{K}_name", help="derived from the file names; edit freely")
    if st.button("Validate", key=f"{K}_validate", disabled=not files, icon=":material/fact_check:"):
        st.session_state.pop(f"{K}_set", None)
        try:
            ds, notes = uploads.load_upload(
                [(f.name, f.getvalue()) for f in files], corpus=_dataset(corpus), name=name.strip()
            )
        except HybridIRError as exc:
            st.session_state[f"{K}_upload_error"] = str(exc)
        else:
            st.session_state[f"{K}_upload_error"] = None
            st.session_state[f"{K}_set"] = ds
            st.session_state[f"{K}_set_corpus"] = corpus  # the job loads the upload against this corpus
            st.session_state[f"{K}_notes"] = notes
    if st.session_state.get(f"{K}_upload_error"):
        st.error(st.session_state[f"{K}_upload_error"], icon=":material/error:")
    ds = st.session_state.get(f"{K}_set")
    if ds is not None:
        s = ds.summary()
        st.success(
            f"**{ds.name}**: {s['queries']} queries ({s['questions']} questions) in {', '.join(s['languages'])}; "
            f"{s['candidates']} candidates; {'parallel' if ds.parallel else 'not parallel'}.",
            icon=":material/check_circle:",
        )
        for note in st.session_state.get(f"{K}_notes", []):
            st.warning(note, icon=":material/warning:")

    st.subheader("2 · Evaluate runs on it")
    if ds is None:
        st.caption("Validate an upload first.")
    elif not runs:
        _ui.no_runs_notice()
    else:
        chosen = st.multiselect(
            "Runs",
            runs,
            default=distinct_model_runs(table, 2),
            key=f"{K}_eval_runs",
            help="by default two runs with different models (two runs of one model score the same)",
        )
        if st.button(
            "Evaluate",
            type="primary",
            key=f"{K}_evaluate",
            disabled=not chosen or not files,
            icon=":material/play_arrow:",
        ):
            folder = uploads.save_upload(
                [(f.name, f.getvalue()) for f in files], st.session_state.get(f"{K}_set_corpus", corpus), ds.name
            )
            job_id = jobs.start(
                jobs.cli_argv(*jobs.evaluate_runs_args(chosen, [str(folder)])),
                label=f"evaluate {', '.join(chosen)} on {ds.name}",
            )
            st.session_state[f"{K}_job"] = (job_id, ds.name, tuple(chosen))
        if st.session_state.get(f"{K}_job", ("", None))[1] == ds.name:
            running = jobs.status(st.session_state[f"{K}_job"][0]).state == "running"
            st.caption("Runs as a background job (also listed on **Jobs**); you can leave the page.")
            st.fragment(_evaluation_job, run_every=2 if running else None)()

    st.subheader("3 · Try a query")
    if not runs:
        _ui.no_runs_notice()
    else:
        a, b, c = st.columns([2, 2, 1])
        run = a.selectbox("Run", runs, key=f"{K}_search_run")
        sets = ([ds.name] if ds is not None else []) + choices
        target = b.selectbox("Search in", sets, key=f"{K}_search_set")
        k = c.number_input("Hits", 1, 100, 10, key=f"{K}_k")
        target_ds = ds if ds is not None and target == ds.name else _dataset(target)
        langs = st.multiselect("Only these languages (empty = all)", target_ds.languages, key=f"{K}_search_langs")
        text = st.text_input("Query", "", key=f"{K}_query", placeholder="e.g. Where does the Danube rise?")
        a, b = st.columns([3, 1])
        noise = a.text_input(
            "Perturb the query (optional noise spec)",
            "",
            key=f"{K}_noise",
            placeholder="e.g. typos:0.1,diacritics:1",
            help="kind:rate[,kind:rate...]; kinds: " + ", ".join(NOISE_KINDS) + "; rates in [0, 1]",
        )
        noise_seed = b.number_input("Noise seed", 0, 2**31 - 1, 0, key=f"{K}_noise_seed")
        if text.strip():
            info = _ui.store().get(run).info
            with st.spinner("Encoding the corpus (cached after the first time)…"):
                ci = _index(info["model"], f"{target}:{target_ds.fingerprint()}", target_ds)
            model, _ = _ui.run_model(run)
            if noise.strip():
                _noisy_hits(model, ci, text, noise, int(noise_seed), int(k), langs or None)
            else:
                hits = search.search(model, ci, text, int(k), langs or None)
                _hits_table(hits, f"{K}_hits")
