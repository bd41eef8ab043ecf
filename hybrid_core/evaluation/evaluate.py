"""Evaluation over settings x pools: mono (X->X), cross (X->Y) and multilingual (X->all).

A *setting* is a query language and a pool. For a parallel set with languages L:
- mono: queries in X against the candidates in X, for every X (|L| settings);
- cross: queries in X against the candidates in Y, for every ordered pair X != Y;
- multi: queries in X against every candidate of every language (one pool), for every X.
A query takes part in a setting when the pool holds at least one of its relevant candidates
(MLQA-R questions exist in 2-4 languages only), as in LAReQA. Macro averages are the mean over
queries within a setting, then the mean over the settings of a kind.

Non-parallel sets (BEIR-style) get one setting per query language against the whole corpus
(kind ``multi``; with one language that is simply the standard retrieval evaluation).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.evaluation.metrics import BIAS_METRICS, HIT_METRICS, METRICS, OWN_LANGUAGE, OWN_TOP_K, compute
from hybrid_core.evaluation.scoring import relevant_ranks, score_matrix, top_k
from hybrid_core.evaluation.settings import KINDS, MULTI, Setting, settings_for


def _relevance_table(dataset: RetrievalDataset) -> pd.DataFrame:
    """One row per (query position, candidate position, grade, candidate language)."""
    q_pos = {qid: i for i, qid in enumerate(dataset.queries["id"].to_numpy(dtype=object))}
    doc_pos = {did: i for i, did in enumerate(dataset.corpus["id"].to_numpy(dtype=object))}
    rows = [
        (q_pos[q], doc_pos[d], g)
        for q, rel in dataset.qrels.items()
        if q in q_pos
        for d, g in rel.items()
        if g > 0 and d in doc_pos
    ]
    table = pd.DataFrame(rows, columns=["q", "d", "grade"]).astype({"q": np.int64, "d": np.int64})
    table["doc_language"] = dataset.corpus["language"].to_numpy()[table["d"].to_numpy()]
    return table[["q", "d", "grade", "doc_language"]]


@dataclass(frozen=True)
class _Columns:
    """The dataset's columns as numpy arrays, converted once per evaluation (not once per setting).

    Languages are integer codes (index into ``languages``) so pool and bias masks compare ints, not strings.
    """

    languages: list[str]
    q_code: np.ndarray
    q_id: np.ndarray
    q_question: np.ndarray
    c_code: np.ndarray

    @classmethod
    def of(cls, dataset: RetrievalDataset) -> _Columns:
        languages = dataset.languages
        code = {lang: i for i, lang in enumerate(languages)}
        q_lang = dataset.queries["language"].to_numpy(dtype=object)
        c_lang = dataset.corpus["language"].to_numpy(dtype=object)
        return cls(
            languages=languages,
            q_code=np.array([code[x] for x in q_lang], dtype=np.int32),
            q_id=dataset.queries["id"].to_numpy(dtype=object),
            q_question=dataset.queries["question_id"].to_numpy(dtype=object),
            c_code=np.array([code[x] for x in c_lang], dtype=np.int32),
        )

    def code(self, language: str) -> int:
        return self.languages.index(language) if language in self.languages else -1


def _padded(rel: pd.DataFrame, order: np.ndarray, col: str, fill: float) -> np.ndarray:
    """Ragged per-query values (rows of ``rel`` keyed by query position ``q``) as a (len(order), R) array."""
    row = np.searchsorted(order, rel["q"].to_numpy())  # order is sorted and holds every q of rel
    srt = np.argsort(row, kind="stable")
    row = row[srt]
    starts = np.searchsorted(row, row, side="left")
    slot = np.arange(len(row)) - starts  # position within the query's group
    out = np.full((len(order), int(slot.max()) + 1 if len(slot) else 1), fill, dtype=np.float64)
    out[row, slot] = rel[col].to_numpy()[srt]
    return out


def _block(scores: torch.Tensor, rows: np.ndarray | None, cols: np.ndarray) -> torch.Tensor:
    """``scores[rows][:, cols]`` without copying when the rows are all and the columns a contiguous range."""
    if rows is not None:
        scores = scores[torch.from_numpy(rows)]
    if len(cols) and cols[-1] - cols[0] + 1 == len(cols):
        return scores[:, int(cols[0]) : int(cols[-1]) + 1]
    return scores[:, torch.from_numpy(cols)]


def _setting_columns(
    dataset: RetrievalDataset,
    setting: Setting,
    query_emb: np.ndarray,
    corpus_emb: np.ndarray,
    relevance: pd.DataFrame,
    cols: _Columns,
    language_scores: tuple[np.ndarray, torch.Tensor] | None = None,
) -> dict[str, np.ndarray] | None:
    """Per-query columns of one setting as arrays (None when no query has a relevant candidate in the pool).

    ``language_scores`` = (query positions, their scores against the whole corpus): the setting's block is cut
    from it instead of multiplied again (the same float32 products: a matrix product's entries do not depend
    on which other rows or columns are computed with them).
    """
    n_corpus = len(cols.c_code)
    in_pool = np.ones(n_corpus, bool) if setting.pool == MULTI else cols.c_code == cols.code(setting.pool)
    pool_idx = np.flatnonzero(in_pool)
    local = np.full(n_corpus, -1)
    local[pool_idx] = np.arange(len(pool_idx))
    q_mask = cols.q_code == cols.code(setting.query_language)
    rel = relevance[q_mask[relevance["q"].to_numpy()] & in_pool[relevance["d"].to_numpy()]].copy()
    if rel.empty:
        return None
    rel["local"] = local[rel["d"].to_numpy()]
    order = np.unique(rel["q"].to_numpy())
    relevant = _padded(rel, order, "local", -1).astype(np.int64)
    gains = _padded(rel, order, "grade", 0.0)
    if language_scores is None:
        scores = score_matrix(query_emb[order], corpus_emb[pool_idx])
    else:
        positions, full = language_scores
        rows = None if np.array_equal(positions, order) else np.searchsorted(positions, order)
        scores = _block(full, rows, pool_idx)
    rr = relevant_ranks(scores, relevant, gains)
    n = len(order)
    out: dict[str, np.ndarray] = {
        "setting": np.full(n, setting.name, dtype=object),
        "kind": np.full(n, setting.kind, dtype=object),
        "query_language": np.full(n, setting.query_language, dtype=object),
        "pool": np.full(n, setting.pool, dtype=object),
        "query_id": cols.q_id[order],
        "question_id": cols.q_question[order],
        "n_relevant": rr.n_relevant,
        **compute(rr),
    }
    if setting.pool == MULTI and dataset.parallel:
        out["rank_distance"] = BIAS_METRICS["rank_distance"](rr)
        doc_codes = cols.c_code[pool_idx]
        # best rank of the relevant candidate in each language (NaN when it has none there)
        rel_code = np.where(relevant >= 0, doc_codes[np.maximum(relevant, 0)], -1)
        for lang in dataset.corpus_languages:
            best = np.where(rel_code == cols.code(lang), rr.ranks, np.inf).min(axis=1)
            out[f"rank:{lang}"] = np.where(np.isinf(best), np.nan, best)
        top_idx, _ = top_k(scores, OWN_TOP_K)
        for name, metric in HIT_METRICS.items():
            out[name] = metric(doc_codes[top_idx], cols.code(setting.query_language))
    return out


def score_setting(
    dataset: RetrievalDataset,
    setting: Setting,
    query_emb: np.ndarray,
    corpus_emb: np.ndarray,
    relevance: pd.DataFrame,
    columns: _Columns | None = None,
) -> pd.DataFrame:
    """Per-query metrics of one setting (and bias columns for multilingual pools)."""
    cols = columns or _Columns.of(dataset)
    out = _setting_columns(dataset, setting, query_emb, corpus_emb, relevance, cols)
    return pd.DataFrame() if out is None else pd.DataFrame(out)


def _stack(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One frame from per-setting column dicts (columns in order of appearance; absent ones NaN, as pd.concat)."""
    names = list(dict.fromkeys(name for part in parts for name in part))
    data = {}
    for name in names:
        chunks = [p[name] if name in p else np.full(len(p["setting"]), np.nan) for p in parts]
        data[name] = np.concatenate(chunks)
    return pd.DataFrame(data)


def score_all(
    dataset: RetrievalDataset,
    query_emb: np.ndarray,
    corpus_emb: np.ndarray,
    settings: list[Setting] | None = None,
) -> pd.DataFrame:
    """Per-query results of every setting, one row per (setting, query).

    Settings are taken one query language at a time: when a language has several settings, its queries are
    multiplied with the whole corpus once and every setting's pool is a block of that matrix (the mono and
    cross pools of a parallel set tile the multilingual one), so each product is computed once, not twice.
    """
    settings = settings_for(dataset) if settings is None else settings
    relevance = _relevance_table(dataset)
    columns = _Columns.of(dataset)
    by_language: dict[str, list[int]] = {}
    for i, s in enumerate(settings):
        by_language.setdefault(s.query_language, []).append(i)
    parts: list[dict[str, np.ndarray] | None] = [None] * len(settings)
    for language, idx in by_language.items():
        shared = None
        if len(idx) > 1:
            positions = np.flatnonzero(columns.q_code == columns.code(language))
            shared = (positions, score_matrix(query_emb[positions], corpus_emb))
        for i in idx:
            parts[i] = _setting_columns(dataset, settings[i], query_emb, corpus_emb, relevance, columns, shared)
        shared = None
    kept = [p for p in parts if p is not None]
    return _stack(kept) if kept else pd.DataFrame()


def summarize(per_query: pd.DataFrame, dataset: RetrievalDataset | None, metrics: tuple[str, ...] = ()) -> dict:
    """Macro averages per kind, every setting's means, and the language-bias views.

    ``metrics`` names columns beyond :data:`METRICS` to average too (``recall@1000`` of the large path). Without
    ``dataset`` (a corpus never loaded whole) the own-language share, which needs the pool's languages, is left out.
    """
    metric_cols = [m for m in (*METRICS, *metrics) if m in per_query.columns]
    by_setting = per_query.groupby(["kind", "setting"], sort=False)[metric_cols].mean()
    counts = per_query.groupby("setting", sort=False).size()
    macro = {
        kind: by_setting.loc[kind].mean().to_dict() for kind in KINDS if kind in by_setting.index.get_level_values(0)
    }
    settings = {s: {"kind": k, "n_queries": int(counts[s]), **row.to_dict()} for (k, s), row in by_setting.iterrows()}
    summary = {"macro": macro, "settings": settings, "n_queries": int(per_query["query_id"].nunique())}
    multi = per_query[per_query["kind"] == "multi"]
    if "rank_distance" in multi.columns and not multi.empty:
        rd = multi.groupby("query_language")["rank_distance"].mean()
        rank_cols = [c for c in multi.columns if c.startswith("rank:")]
        mean_rank = multi.groupby("query_language")[rank_cols].mean()
        mean_rank.columns = [c.split(":", 1)[1] for c in rank_cols]
        summary["bias"] = {
            "rank_distance": {"macro": float(rd.mean()), "per_language": rd.to_dict()},
            "mean_rank": {
                x: {y: (None if pd.isna(v) else float(v)) for y, v in row.items()} for x, row in mean_rank.iterrows()
            },
        }
        if dataset is not None and OWN_LANGUAGE in multi.columns:
            own = multi.groupby("query_language")[OWN_LANGUAGE].mean()
            pool_share = dataset.corpus["language"].value_counts(normalize=True)
            summary["bias"][OWN_LANGUAGE] = {
                x: {"share": float(v), "pool_share": float(pool_share.get(x, 0.0))} for x, v in own.items()
            }
        summary["macro"].setdefault("multi", {})["rank_distance"] = float(rd.mean())
    return summary


@dataclass
class Evaluation:
    """What one evaluation produced: per-query rows, the summary, and timings (seconds)."""

    per_query: pd.DataFrame
    summary: dict
    timings: dict


def embed_dataset(
    model, dataset: RetrievalDataset, fingerprint: str | None, progress: bool = False, precision: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Query and candidate embeddings with the model's own prompts, through the (precision-keyed) cache."""
    from hybrid_core.models.encode import encode
    from hybrid_core.models.loading import passage_prompt, query_prompt

    kw = {"model_fingerprint": fingerprint, "progress": progress, "precision": precision}
    q = encode(model, dataset.queries["text"].tolist(), query_prompt(model), **kw)
    c = encode(model, dataset.corpus["text"].tolist(), passage_prompt(model), **kw)
    return q, c


def evaluate_model(
    model,
    dataset: RetrievalDataset,
    *,
    fingerprint: str | None = None,
    kinds: tuple[str, ...] = KINDS,
    progress: bool = False,
    precision: str | None = None,
) -> Evaluation:
    """Encode (cached) and score every setting of ``dataset`` for a loaded sentence-transformers model."""
    t0 = time.perf_counter()
    q_emb, c_emb = embed_dataset(model, dataset, fingerprint, progress, precision)
    t1 = time.perf_counter()
    per_query = score_all(dataset, q_emb, c_emb, settings_for(dataset, kinds))
    summary = summarize(per_query, dataset)
    t2 = time.perf_counter()
    return Evaluation(per_query, summary, {"encode_seconds": t1 - t0, "score_seconds": t2 - t1})
