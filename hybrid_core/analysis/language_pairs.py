"""Language-pair views of a run's summary: query language x pool language matrices and per-language tables.

All views read ``summary["settings"]`` (mean over queries per setting), so they are cheap and equal the
numbers the CLI prints. The diagonal of a pair matrix is the mono setting X->X, off-diagonal cells are
the cross settings X->Y; the multilingual pool (X->multi) is a separate column in :func:`per_language`.
Runs evaluated on different slices of one set are read through :func:`pair_summaries`, which rebuilds the
per-setting means from the per-query rows of the queries every run shares.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybrid_core.analysis.compare import common_queries, pick_datasets
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.metrics import METRICS
from hybrid_core.evaluation.settings import MULTI
from hybrid_core.runs import RunStore

#: rows that summarise languages go after them, in this order
_SUMMARY_ROWS = ("macro", "multi", "all")


def language_order(languages) -> list[str]:
    """The one language order of every table and figure: ISO codes alphabetically (the papers' XQuAD-R / MLQA-R
    order: ar de el en es hi ru th tr vi zh), summary rows such as ``macro`` last."""
    langs = [str(x) for x in dict.fromkeys(languages)]
    return sorted(x for x in langs if x not in _SUMMARY_ROWS) + [x for x in _SUMMARY_ROWS if x in langs]


def _settings(summary: dict) -> pd.DataFrame:
    s = summary.get("settings", {})
    if not s:
        raise HybridIRError("this result has no per-setting numbers")
    frame = pd.DataFrame.from_dict(s, orient="index").rename_axis("setting").reset_index()
    parts = frame["setting"].str.split("->", n=1, expand=True)
    frame["query_language"], frame["pool"] = parts[0], parts[1]
    return frame


def available_metrics(summary: dict) -> list[str]:
    """Metrics present in every setting of a summary (registry spelling)."""
    frame = _settings(summary)
    return [m for m in METRICS if m in frame.columns]


def pair_matrix(summary: dict, metric: str = "map") -> pd.DataFrame:
    """Query language (rows) x pool language (columns) matrix of ``metric``; NaN where no setting exists."""
    frame = _settings(summary)
    if metric not in frame.columns:
        raise HybridIRError(f"metric {metric!r} is not in this result; available: {available_metrics(summary)}")
    frame = frame[frame["pool"] != MULTI]
    if frame.empty:
        raise HybridIRError("this result has no mono/cross settings (not a parallel data set)")
    langs = language_order(set(frame["query_language"]) | set(frame["pool"]))
    m = frame.pivot(index="query_language", columns="pool", values=metric).reindex(index=langs, columns=langs)
    m.index.name, m.columns.name = "query language", "passage language"
    return m.astype(float)


def pair_difference(summary_a: dict, summary_b: dict, metric: str = "map") -> pd.DataFrame:
    """``pair_matrix(a) - pair_matrix(b)`` on the union of languages (NaN where either lacks a cell)."""
    a, b = pair_matrix(summary_a, metric), pair_matrix(summary_b, metric)
    langs = language_order(set(a.index) | set(b.index))
    diff = a.reindex(index=langs, columns=langs) - b.reindex(index=langs, columns=langs)
    diff.index.name, diff.columns.name = a.index.name, a.columns.name
    return diff


def per_language(summary: dict, metric: str = "map") -> pd.DataFrame:
    """One row per language: mono (X->X), cross as query (mean of X->Y), cross as target (mean of Y->X), multi."""
    frame = _settings(summary)
    if metric not in frame.columns:
        raise HybridIRError(f"metric {metric!r} is not in this result; available: {available_metrics(summary)}")
    langs = language_order(set(frame["query_language"]))
    out = pd.DataFrame(index=pd.Index(langs, name="language"))
    mono = frame[frame["query_language"] == frame["pool"]].set_index("query_language")[metric]
    cross = frame[(frame["query_language"] != frame["pool"]) & (frame["pool"] != MULTI)]
    multi = frame[frame["pool"] == MULTI].set_index("query_language")[metric]
    out["mono"] = mono.reindex(langs)
    out["cross (as query)"] = cross.groupby("query_language")[metric].mean().reindex(langs)
    out["cross (as passage)"] = cross.groupby("pool")[metric].mean().reindex(langs)
    out["multi"] = multi.reindex(langs)
    return out.dropna(axis=1, how="all").astype(float)


def matrix_extent(*matrices: pd.DataFrame) -> float:
    """Largest absolute finite value over matrices (for a symmetric colour range); 0 when empty."""
    vals = np.concatenate([m.to_numpy(dtype=float).ravel() for m in matrices]) if matrices else np.array([])
    vals = vals[np.isfinite(vals)]
    return float(np.abs(vals).max()) if vals.size else 0.0


def settings_summary(per_query: pd.DataFrame) -> dict:
    """``{"settings": {setting: {kind, n_queries, metric means}}}`` from per-query rows (as the evaluator sums up)."""
    cols = [m for m in METRICS if m in per_query.columns]
    means = per_query.groupby(["kind", "setting"], sort=False)[cols].mean()
    counts = per_query.groupby("setting", sort=False).size()
    return {
        "settings": {s: {"kind": k, "n_queries": int(counts[s]), **row.to_dict()} for (k, s), row in means.iterrows()}
    }


def pair_summaries(
    names: list[str], dataset: str, store: RunStore | None = None
) -> tuple[dict[str, dict], dict[str, str], dict[str, str], tuple[int, int] | None]:
    """Summaries of runs for the pair views, comparable even when the runs come from different slices of a set.

    Returns (summaries, errors, ``{run: data set read}``, shared (questions, queries) or None). When all runs
    have ``dataset`` the stored summaries are returned; otherwise each run's slice (see
    :func:`hybrid_core.analysis.compare.pick_datasets`) is restricted to the queries they all share and the
    per-setting means are recomputed from those rows.
    """
    store = store or RunStore()
    summaries: dict[str, dict] = {}
    errors: dict[str, str] = {}
    found: dict[str, list[str]] = {}
    for n in names:
        try:
            found[n] = store.get(n).datasets()
        except HybridIRError as exc:
            errors[n] = str(exc)
    used = pick_datasets(found, dataset)
    for n in found:
        if n not in used:
            errors[n] = f"run {n!r} has no results for {dataset!r} or another slice of it"
    if len(set(used.values())) <= 1:
        for n, d in used.items():
            try:
                summaries[n] = store.get(n).summary(d)
            except HybridIRError as exc:
                errors[n] = str(exc)
        return summaries, errors, used, None
    frames = {}
    for n, d in used.items():
        try:
            frames[n] = store.get(n).per_query(d)
        except HybridIRError as exc:
            errors[n] = str(exc)
    frames, n_q, n_queries = common_queries(frames)
    if n_queries == 0:
        raise HybridIRError(f"the runs' slices of {dataset!r} share no questions: {used}")
    summaries = {n: settings_summary(pq) for n, pq in frames.items()}
    return summaries, errors, {n: used[n] for n in frames}, (n_q, n_queries)
