"""Language-bias views: rank distance per language, its per-query distribution, mean ranks, own-language share.

Rank distance (Huang et al. 2023, arXiv 2305.09025; used by arXiv 2408.10536): in the multilingual pool,
for one query, the rank of its worst-ranked relevant translation minus the rank of its best one; lower
is less biased. The per-language and macro numbers come from ``summary["bias"]``; distributions come
from the per-query rows (``kind == "multi"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybrid_core.analysis import stats
from hybrid_core.analysis.compare import question_tensor
from hybrid_core.analysis.language_pairs import language_order
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
    table = table.reindex(language_order([*table.index, "macro"]))
    table.index.name = "query language"
    return table


def rank_distance_values(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per-query rank distances (long: run, query_language, question_id, rank_distance), NaNs dropped."""
    cols = ["run", "query_language", "question_id", "rank_distance"]
    parts = []
    for run, pq in frames.items():
        if "rank_distance" not in pq.columns:
            continue
        multi = pq.loc[pq["kind"] == "multi", cols[1:]].dropna(subset=["rank_distance"])
        parts.append(multi.assign(run=run))
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True)[cols]


def rank_distance_from_values(values: pd.DataFrame) -> pd.DataFrame:
    """:func:`rank_distance_table` computed from per-query rows (:func:`rank_distance_values`), e.g. restricted
    to the queries several runs share: mean per query language, then ``macro`` = mean over languages."""
    per = values.groupby(["query_language", "run"], sort=False)["rank_distance"].mean().unstack("run")
    per = per.reindex(columns=list(dict.fromkeys(values["run"])))
    table = pd.concat([per, per.mean(axis=0).to_frame("macro").T])
    table = table.reindex(language_order(table.index)).astype(float)
    table.index.name, table.columns.name = "query language", None
    return table


def rank_distance_intervals(
    frames: dict[str, pd.DataFrame], n_boot: int = stats.N_BOOT, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """95% bootstrap CIs (low, high) of the mean rank distance per query language and of the macro mean.

    Same layout as :func:`rank_distance_table` (rows: languages then ``macro``; columns: runs). Questions
    are resampled with all their translations together (:func:`hybrid_core.analysis.stats.macro_bootstrap`),
    so the per-language intervals and the macro interval come from the same resamples of questions.
    """
    low, high = {}, {}
    for run, pq in frames.items():
        if "rank_distance" not in pq.columns:
            continue
        values, _, settings = question_tensor(pq, "multi", ["rank_distance"])
        if not settings:
            continue
        langs = [s.split("->", 1)[0] for s in settings]
        lo, hi = {}, {}
        for j, lang in enumerate(langs):
            ci = stats.macro_bootstrap(values[:, [j], :], n_boot=n_boot, seed=seed)[0]
            lo[lang], hi[lang] = ci.low, ci.high
        ci = stats.macro_bootstrap(values, n_boot=n_boot, seed=seed)[0]
        lo["macro"], hi["macro"] = ci.low, ci.high
        low[run], high[run] = pd.Series(lo, dtype=float), pd.Series(hi, dtype=float)
    out = []
    for part in (low, high):
        t = pd.DataFrame(part)
        t = t.reindex(language_order(t.index)) if not t.empty else t
        t.index.name = "query language"
        out.append(t)
    return out[0], out[1]


def rank_distance_table_with_ci(table: pd.DataFrame, low: pd.DataFrame, high: pd.DataFrame) -> pd.DataFrame:
    """Run x language table of ``mean [low, high]`` strings (1 decimal) for display and export."""
    out = pd.DataFrame(index=table.columns, columns=table.index, dtype=object)
    for run in table.columns:
        for lang in table.index:
            v = table.at[lang, run]
            lo = low.at[lang, run] if lang in low.index and run in low.columns else np.nan
            hi = high.at[lang, run] if lang in high.index and run in high.columns else np.nan
            out.at[run, lang] = "–" if pd.isna(v) else (f"{v:.1f}" if pd.isna(lo) else f"{v:.1f} [{lo:.1f}, {hi:.1f}]")
    out.index.name = "run"
    out.columns.name = None
    return out


def mean_rank_matrix(summary: dict) -> pd.DataFrame:
    """Query language (rows) x candidate language (columns): mean rank of the relevant candidate in that language."""
    m = pd.DataFrame.from_dict(_bias(summary)["mean_rank"], orient="index").astype(float)
    langs = language_order(set(m.index) | set(m.columns))
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
    t = t.rename(columns={"share": f"share of top-{key.split('@')[1]}", "pool_share": "share of pool"})
    t = t.reindex(language_order(t.index))
    t["ratio"] = t.iloc[:, 0] / t.iloc[:, 1].where(t.iloc[:, 1] > 0)
    t.index.name = "query language"
    return t
