"""Language-bias views: rank distance per language, its per-query distribution, mean ranks, own-language share.

Rank distance (Huang et al. 2023, arXiv 2305.09025; used by arXiv 2408.10536): in the multilingual pool,
for one query, the rank of its worst-ranked relevant translation minus the rank of its best one; lower
is less biased. The per-language and macro numbers come from ``summary["bias"]``; distributions come
from the per-query rows (``kind == "multi"``).
"""

from __future__ import annotations

import pandas as pd

from hybrid_core.errors import HybridIRError


def _bias(summary: dict) -> dict:
    bias = summary.get("bias")
    if not bias:
        raise HybridIRError("this result has no language-bias numbers (needs a parallel set and the multi setting)")
    return bias


def rank_distance_table(summaries: dict[str, dict]) -> pd.DataFrame:
    """Mean rank distance per query language (rows, then ``macro``) for each run (columns)."""
    cols = {}
    for run, summary in summaries.items():
        rd = _bias(summary)["rank_distance"]
        cols[run] = pd.Series({**rd["per_language"], "macro": rd["macro"]}, dtype=float)
    table = pd.DataFrame(cols)
    langs = sorted(i for i in table.index if i != "macro")
    table = table.reindex([*langs, "macro"])
    table.index.name = "query language"
    return table


def rank_distance_values(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-query rank distances (long: run, query_language, rank_distance), NaNs dropped."""
    parts = []
    for run, pq in frames.items():
        if "rank_distance" not in pq.columns:
            continue
        multi = pq.loc[pq["kind"] == "multi", ["query_language", "rank_distance"]].dropna()
        parts.append(multi.assign(run=run))
    if not parts:
        return pd.DataFrame(columns=["run", "query_language", "rank_distance"])
    return pd.concat(parts, ignore_index=True)[["run", "query_language", "rank_distance"]]


def mean_rank_matrix(summary: dict) -> pd.DataFrame:
    """Query language (rows) x candidate language (columns): mean rank of the relevant candidate in that language."""
    m = pd.DataFrame.from_dict(_bias(summary)["mean_rank"], orient="index").astype(float)
    langs = sorted(set(m.index) | set(m.columns))
    m = m.reindex(index=langs, columns=langs)
    m.index.name, m.columns.name = "query language", "relevant candidate language"
    return m


def own_share_table(summary: dict) -> pd.DataFrame:
    """Own-language share of the top-k vs that language's share of the pool, per query language."""
    bias = _bias(summary)
    key = next((k for k in bias if k.startswith("own@")), None)
    if key is None:
        raise HybridIRError("this result has no own-language share numbers")
    t = pd.DataFrame.from_dict(bias[key], orient="index").astype(float)
    t = t.rename(columns={"share": f"share of top-{key.split('@')[1]}", "pool_share": "share of pool"}).sort_index()
    t["ratio"] = t.iloc[:, 0] / t.iloc[:, 1].where(t.iloc[:, 1] > 0)
    t.index.name = "query language"
    return t
