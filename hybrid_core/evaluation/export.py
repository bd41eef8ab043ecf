"""Interop: TREC run + qrels files for any setting, and summary tables as CSV / LaTeX.

TREC run lines are ``qid Q0 docid rank score tag`` with 1-based ranks, sorted by score descending
and, on equal scores, by candidate id ascending (a deterministic tie-break, as pyserini does).
With ``depth=None`` every pool candidate is ranked, so pool-wide mAP and rank distance can be
recomputed from the file alone by trec_eval, pytrec_eval or ranx.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.metrics import METRICS
from hybrid_core.evaluation.scoring import score_matrix
from hybrid_core.evaluation.settings import KINDS, MULTI, Setting
from hybrid_core.evaluation.tables import table_text
from hybrid_core.io_utils import atomic_path


def write_trec(
    dataset: RetrievalDataset,
    setting: Setting,
    query_emb: np.ndarray,
    corpus_emb: np.ndarray,
    out_dir: Path,
    depth: int | None = 100,
    tag: str = "hybrid-ir",
) -> tuple[Path, Path]:
    """Write ``<setting>.run`` and ``<setting>.qrels`` (only queries with a relevant candidate in the pool)."""
    queries, corpus = dataset.queries, dataset.corpus
    pool_mask = np.ones(len(corpus), bool) if setting.pool == MULTI else (corpus["language"] == setting.pool).to_numpy()
    pool_ids = corpus["id"].to_numpy()[pool_mask]
    pool_set = set(pool_ids)
    q_rows = np.flatnonzero((queries["language"] == setting.query_language).to_numpy())
    q_rows = [i for i in q_rows if any(d in pool_set for d in dataset.qrels.get(queries["id"].iat[i], {}))]
    scores = score_matrix(query_emb[q_rows], corpus_emb[pool_mask]).numpy()
    k = len(pool_ids) if depth is None else min(depth, len(pool_ids))
    order_ids = np.argsort(pool_ids, kind="stable")  # tie-break: candidate id ascending
    stem = setting.name.replace("->", "_to_")
    run_path, qrels_path = out_dir / f"{stem}.run", out_dir / f"{stem}.qrels"
    with atomic_path(run_path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row, qi in enumerate(q_rows):
            s = scores[row][order_ids]
            top = order_ids[np.argsort(-s, kind="stable")[:k]]
            qid = queries["id"].iat[qi]
            fh.writelines(f"{qid} Q0 {pool_ids[d]} {r} {scores[row, d]:.6f} {tag}\n" for r, d in enumerate(top, 1))
    with atomic_path(qrels_path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for qi in q_rows:
            qid = queries["id"].iat[qi]
            for d, g in sorted(dataset.qrels[qid].items()):
                if d in pool_set:
                    fh.write(f"{qid} 0 {d} {g}\n")
    return run_path, qrels_path


def summary_table(summary: dict) -> pd.DataFrame:
    """Macro averages: one row per kind (mono / cross / multi), one column per metric."""
    macro = summary.get("macro", {})
    cols = [*METRICS, "rank_distance"]
    rows = {k: {c: macro[k].get(c) for c in cols if c in macro[k]} for k in KINDS if k in macro}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("kind")


def settings_table(summary: dict) -> pd.DataFrame:
    """Every setting's mean metrics, one row per setting."""
    return pd.DataFrame.from_dict(summary.get("settings", {}), orient="index").rename_axis("setting").reset_index()


def write_table(table: pd.DataFrame, path: Path, caption: str = "") -> Path:
    """CSV or LaTeX (by suffix ``.csv`` / ``.tex``), written atomically; same text the dashboard exports."""
    if path.suffix not in (".csv", ".tex"):
        raise HybridIRError(f"unknown table format {path.suffix!r} for {path}; use .csv or .tex")
    text = table_text(table, path.suffix[1:], caption)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
