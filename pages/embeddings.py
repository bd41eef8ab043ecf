"""Embedding space: do translations of a question land together, or does each language keep to itself?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hybrid_core.analysis import figures, projection
from hybrid_core.data.available import dataset_choices, load_named
from pages import _export_ui, _ui

_ui.ensure_app_navigation()

K = "emb"
METHOD_LABELS = {"pca": "PCA", "umap": "UMAP", "tsne": "t-SNE"}


@st.cache_resource(show_spinner=False, max_entries=4)
def _dataset(name: str):
    return load_named(name)


@st.cache_data(show_spinner=False, max_entries=32)
def _points(name: str, what: str, max_points: int, languages: tuple[str, ...], seed: int) -> pd.DataFrame:
    return projection.sample_points(_dataset(name), what, max_points, list(languages) or None, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _projected(run: str, mtime: float, points: pd.DataFrame, method: str, seed: int) -> tuple[pd.DataFrame, float]:
    model, fingerprint = _ui.run_model(run)
    return projection.projection_view(model, fingerprint, points, method, seed)


st.title("Embedding space")

with _ui.guard("the embedding view"):
    table = _ui.run_table()
    runs = list(_ui.good_runs(table)["name"]) if not table.empty else []
    if not runs:
        _ui.no_runs_notice()
        st.stop()

    c1, c2 = st.columns([1, 3])
    dataset = c1.selectbox("Data set", dataset_choices(), key=f"{K}_dataset")
    chosen = c2.multiselect(
        "Runs (one or two, shown side by side)", runs, default=runs[:1], max_selections=2, key=f"{K}_runs"
    )
    ds = _dataset(dataset)
    c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
    what = c1.segmented_control("Show", list(projection.WHAT), default="questions", key=f"{K}_what") or "questions"
    method = (
        c2.segmented_control(
            "Projection", list(METHOD_LABELS), format_func=METHOD_LABELS.get, default="pca", key=f"{K}_method"
        )
        or "pca"
    )
    max_points = c3.slider("Points (cap)", 50, 3000, 600, 50, key=f"{K}_max")
    seed = c4.number_input("Sample seed", 0, 10_000, 0, key=f"{K}_seed")
    languages = st.multiselect("Languages", ds.languages, default=ds.languages, key=f"{K}_langs")
    link = st.toggle("Link translations of a question", value=True, key=f"{K}_link")
    if not chosen or not languages:
        st.info("Pick a run and at least one language.", icon=":material/info:")
        st.stop()

    points = _points(dataset, what, max_points, tuple(languages), int(seed))
    st.caption(
        f"{len(points)} points: a seeded sample of {points['question_id'].nunique()} questions from {dataset} with "
        "every selected language version (and, with candidates, their answer sentences). Encoded with each run's "
        "model through the embedding cache; projections are cached on disk."
    )
    store = _ui.store()
    cols = st.columns(len(chosen))
    for col, run in zip(cols, chosen, strict=True):
        with col, _ui.guard(f"the projection of {run}"):
            with st.spinner(f"Encoding and projecting for {run}…"):
                frame, spread = _projected(run, store.get(run).mtime_key(), points, method, int(seed))
            fig = figures.projection_scatter(frame, link_translations=link, title=f"{run} · {method.upper()}")
            st.plotly_chart(fig, key=f"{K}_plot_{run}")
            if spread == spread:  # not NaN
                st.caption(
                    f"Translation spread {spread:.3f}: mean cosine distance between the translations of a question, "
                    "in the model's full embedding space (0 = translations coincide); the same whatever the projection."
                )
            _export_ui.figure_downloads(fig, f"embeddings-{run}-{dataset}-{method}", f"{K}_fig_{run}")
    st.caption(
        "How to read: each language has its own colour and marker; filled markers are questions, open ones candidate "
        "sentences. Markers are half transparent and outlined, so translations that land on one spot show as a "
        "stack of shapes. A language-agnostic model mixes the languages and draws short grey lines; a biased one "
        "forms one island per language."
    )
