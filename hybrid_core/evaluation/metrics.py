"""Ranking metrics as pure functions of the ranks of each query's relevant candidates.

Every metric takes a :class:`RelevantRanks` and returns one value per query, so per-query results
can be stored, bootstrapped and tested. One spelling per metric everywhere (code, JSON, Parquet
columns, UI labels): the keys of :data:`METRICS`.

Ranks and ties
    ``ranks[i, j]`` is the 1-based rank of query *i*'s *j*-th relevant candidate in the full pool,
    computed **pessimistically**: the number of candidates whose score is >= its score (itself
    included). A relevant candidate tied with others is ranked after all of them. This is exactly
    scikit-learn's ``average_precision_score`` convention (a tie is one threshold), so our mAP equals
    sklearn's on every query, ties included; trec_eval instead breaks ties by document id and can
    differ on queries with ties (23 XQuAD-R / 60 MLQA-R candidates duplicate another's text).
    Without ties all conventions agree. Unused slots hold ``inf`` rank and gain 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RelevantRanks:
    """Ranks (Q, R) of relevant candidates, padded with ``inf``; gains (Q, R) padded with 0."""

    ranks: np.ndarray
    gains: np.ndarray

    @classmethod
    def from_lists(cls, ranks: list[list[float]], gains: list[list[float]] | None = None) -> RelevantRanks:
        """Build from ragged per-query lists (gains default to 1)."""
        width = max((len(r) for r in ranks), default=0) or 1
        r = np.full((len(ranks), width), np.inf)
        g = np.zeros((len(ranks), width))
        for i, row in enumerate(ranks):
            r[i, : len(row)] = row
            g[i, : len(row)] = gains[i] if gains is not None else 1.0
        return cls(r, g)

    @property
    def n_relevant(self) -> np.ndarray:
        return (self.gains > 0).sum(axis=1)


def average_precision(rr: RelevantRanks) -> np.ndarray:
    """AP over the whole pool (LAReQA's mAP; Roy et al. 2020, arXiv 2004.05484).

    ``AP = (1/R) * sum_{relevant d} |{relevant d' : rank(d') <= rank(d)}| / rank(d)``.
    Example: relevant at ranks 1 and 3 -> (1/1 + 2/3) / 2 = 0.8333.
    """
    ranks = np.where(rr.gains > 0, rr.ranks, np.inf)
    # relevant at-or-above each relevant: count of ranks <= own rank (pessimistic ties count all)
    above = (ranks[:, None, :] <= ranks[:, :, None]).sum(axis=2)
    prec = np.where(np.isfinite(ranks), above / ranks, 0.0)
    n = rr.n_relevant
    return np.divide(prec.sum(axis=1), n, out=np.zeros(len(n)), where=n > 0)


def _ndcg_at(k: int) -> Callable[[RelevantRanks], np.ndarray]:
    def ndcg(rr: RelevantRanks) -> np.ndarray:
        discount = np.where(rr.ranks <= k, 1.0 / np.log2(np.minimum(rr.ranks, k) + 1.0), 0.0)
        dcg = (rr.gains * discount).sum(axis=1)
        ideal = -np.sort(-rr.gains, axis=1)[:, :k]
        idcg = (ideal / np.log2(np.arange(2, ideal.shape[1] + 2))).sum(axis=1)
        return np.divide(dcg, idcg, out=np.zeros(len(dcg)), where=idcg > 0)

    ndcg.__doc__ = f"""nDCG@{k} with linear gains (trec_eval / pytrec_eval ``ndcg_cut_{k}``, as BEIR reports).

    ``DCG = sum_{{rank<={k}}} gain / log2(rank + 1)``, divided by the DCG of the ideal ordering.
    Example: one relevant at rank 2 -> 1/log2(3) = 0.6309.
    """
    return ndcg


def _recall_at(k: int) -> Callable[[RelevantRanks], np.ndarray]:
    def recall(rr: RelevantRanks) -> np.ndarray:
        hit = ((rr.ranks <= k) & (rr.gains > 0)).sum(axis=1)
        n = rr.n_relevant
        return np.divide(hit, n, out=np.zeros(len(n)), where=n > 0)

    recall.__doc__ = f"""Recall@{k}: share of a query's relevant candidates ranked in the top {k}.

    Example: relevant at ranks 1 and 50 -> Recall@{k} = {{1: 0.5, 10: 0.5, 100: 1.0}}[{k}] for k in 1/10/100.
    """
    return recall


def _mrr_at(k: int) -> Callable[[RelevantRanks], np.ndarray]:
    def mrr(rr: RelevantRanks) -> np.ndarray:
        best = np.where(rr.gains > 0, rr.ranks, np.inf).min(axis=1, initial=np.inf)
        return np.where(best <= k, 1.0 / best, 0.0)

    mrr.__doc__ = f"""MRR@{k}: reciprocal rank of the first relevant candidate, 0 beyond rank {k}.

    Example: first relevant at rank 4 -> 0.25.
    """
    return mrr


def rank_distance(rr: RelevantRanks) -> np.ndarray:
    """Rank distance (language bias; Huang et al. 2023, arXiv 2305.09025, as used by arXiv 2408.10536).

    In the multilingual pool each query has one relevant candidate per language; its rank distance is
    ``max rank - min rank`` over them. 0 means every translation is ranked together; a monolingually
    biased model ranks its own language first and the others far below. Queries with fewer than two
    relevant candidates get NaN. Example: ranks (1, 2, 40) -> 39.
    """
    ranks = np.where(rr.gains > 0, rr.ranks, np.nan)
    n = rr.n_relevant
    out = np.full(len(n), np.nan)
    ok = n >= 2
    out[ok] = np.nanmax(ranks[ok], axis=1) - np.nanmin(ranks[ok], axis=1)
    return out


#: The metric registry: one spelling per metric, used for columns, JSON keys and UI labels.
METRICS: dict[str, Callable[[RelevantRanks], np.ndarray]] = {
    "map": average_precision,
    "ndcg@10": _ndcg_at(10),
    "recall@1": _recall_at(1),
    "recall@10": _recall_at(10),
    "recall@100": _recall_at(100),
    "mrr@10": _mrr_at(10),
}

#: Metrics that only make sense in a pool holding several translations of the answer.
BIAS_METRICS: dict[str, Callable[[RelevantRanks], np.ndarray]] = {"rank_distance": rank_distance}

#: Direction of each metric, for significance tests and colour scales.
HIGHER_IS_BETTER: dict[str, bool] = {**{m: True for m in METRICS}, "rank_distance": False}


#: How many top hits :data:`OWN_LANGUAGE` looks at.
OWN_TOP_K = 10
#: Name of the own-language share metric (a function of the top-k hits' languages, not of relevant ranks).
OWN_LANGUAGE = f"own@{OWN_TOP_K}"


def own_language_share(top_languages: np.ndarray, query_language: int) -> np.ndarray:
    """Share of each query's top-k hits in the query's own language (language bias; 1 = only its own language).

    ``top_languages`` is (Q, k) language codes of the ranked hits. In a multilingual pool where every
    language holds one answer, an unbiased retriever's share is the pool's share of that language.
    """
    return (np.asarray(top_languages) == query_language).mean(axis=1)


#: Per-query bias metrics computed from the hits' languages (multilingual pools of parallel sets).
HIT_METRICS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {OWN_LANGUAGE: own_language_share}

#: Display labels (tables, axes, legends). Columns and JSON keys keep the registry's spelling.
LABELS: dict[str, str] = {
    "map": "mAP",
    "ndcg@10": "nDCG@10",
    "recall@1": "R@1",
    "recall@10": "R@10",
    "recall@100": "R@100",
    "mrr@10": "MRR@10",
    "rank_distance": "RD",
    OWN_LANGUAGE: f"own-language share @{OWN_TOP_K}",
}


def metric_label(metric: str) -> str:
    """The display label of a metric (``map`` -> ``mAP``, ``rank_distance`` -> ``RD``); unknown names as is."""
    return LABELS.get(metric, metric)


def column_name(metric: str, kind: str | None = None, dataset: str | None = None) -> str:
    """The one spelling of a wide-table column: ``column_name("map", "mono", "xquad-r")`` -> ``xquad-r mono map``."""
    return " ".join(p for p in (dataset, kind, metric) if p)


def column_label(metric: str, kind: str | None = None, dataset: str | None = None) -> str:
    """The same column for display: ``xquad-r mono mAP``, ``xquad-r RD`` (RD is always the multilingual pool's)."""
    return " ".join(p for p in (dataset, None if metric == "rank_distance" else kind, metric_label(metric)) if p)


def compute(rr: RelevantRanks, metrics: list[str] | None = None) -> dict[str, np.ndarray]:
    """Per-query values of the named metrics (default: all of :data:`METRICS`)."""
    table = {**METRICS, **BIAS_METRICS}
    names = list(METRICS) if metrics is None else metrics
    unknown = [m for m in names if m not in table]
    if unknown:
        raise KeyError(f"unknown metric(s) {unknown}; known: {sorted(table)}")
    return {m: table[m](rr) for m in names}
