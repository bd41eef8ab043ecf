"""Custom queries: how do the runs do on my own questions, and what does a run retrieve for a query I type?"""

from __future__ import annotations

import re
from pathlib import Path

import streamlit as st

from hybrid_core.analysis import bias, compare, figures, language_pairs
from hybrid_core.data import uploads
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation import search
from hybrid_core.status import dataset_choices, load_named
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


def _default_name(files) -> str:
    stem = Path(files[0].name).stem if files else "set"
    return "upload-" + (re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-.") or "set")


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
        "Nothing is saved until you evaluate."
    )
    files = st.file_uploader(
        "Files",
        type=["csv", "tsv", "jsonl", "ndjson", "json"],
        accept_multiple_files=True,
        key=f"{K}_files",
        max_upload_size=max(1, uploads.MAX_FILE_BYTES // 2**20),
    )
    a, b = st.columns(2)
    corpus = a.selectbox("Corpus for a query set (unless you upload corpus.jsonl)", choices, key=f"{K}_corpus")
    name = b.text_input("Name for this set", _default_name(files), key=f"{K}_name")
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
        chosen = st.multiselect("Runs", runs, default=runs[:2], key=f"{K}_eval_runs")
        if st.button(
            "Evaluate", type="primary", key=f"{K}_evaluate", disabled=not chosen, icon=":material/play_arrow:"
        ):
            from hybrid_core.evaluation.run_eval import evaluate_run

            bar = st.progress(0.0, text="starting…")
            for i, run in enumerate(chosen):
                bar.progress(i / len(chosen), text=f"{run}: loading the model and encoding…")
                model, _ = _ui.run_model(run)
                evaluate_run(_ui.store().get(run), [ds], model=model, log=lambda *_: None)
            bar.progress(1.0, text="done")
            st.session_state[f"{K}_evaluated"] = (ds.name, tuple(chosen))
        done = st.session_state.get(f"{K}_evaluated")
        if done and done[0] == ds.name:
            names = list(done[1])
            report = _ui.cached_core(compare.compare_runs, tuple(names), ds.name, names[0], names=names)
            _ui.error_cards(report.errors)
            for kind in compare.KINDS:
                wide = report.wide(kind)
                if not wide.empty:
                    st.markdown(f"**{kind}** (95% bootstrap CIs over questions)")
                    st.dataframe(wide, key=f"{K}_table_{kind}")
            summaries, _ = _ui.summaries(names, ds.name)
            first = summaries.get(names[0])
            if first and ds.parallel:
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
        if text.strip():
            info = _ui.store().get(run).info
            with st.spinner("Encoding the corpus (cached after the first time)…"):
                ci = _index(info["model"], f"{target}:{target_ds.fingerprint()}", target_ds)
            model, _ = _ui.run_model(run)
            hits = search.search(model, ci, text, int(k), langs or None)
            mix = search.language_mix(hits)
            st.caption("Languages among the hits: " + ", ".join(f"{lang} {n}" for lang, n in mix.items()))
            st.dataframe(
                hits,
                hide_index=True,
                key=f"{K}_hits",
                column_config={
                    "score": st.column_config.NumberColumn("cosine", format="%.3f"),
                    "text": st.column_config.TextColumn("candidate", width="large"),
                },
            )
