"""Settings, per-query scoring and summaries on a toy parallel set, checked against sklearn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from hybrid_core.evaluation.evaluate import score_all, summarize
from hybrid_core.evaluation.scoring import relevant_ranks, score_matrix
from hybrid_core.evaluation.settings import Setting, settings_for


def test_settings_counts(toy):
    ds, _, _ = toy
    kinds = pd.Series([s.kind for s in settings_for(ds)]).value_counts()
    assert kinds.to_dict() == {"cross": 6, "mono": 3, "multi": 3}
    assert Setting("en", "de").name == "en->de"
    assert Setting("en", "multi").kind == "multi"


def test_per_query_map_equals_sklearn_including_ties(toy):
    ds, q, c = toy
    c[5] = c[3]  # an exact duplicate candidate: a tie in every query's scores
    c[7] = c[0]  # a tie with a relevant candidate
    per_query = score_all(ds, q, c)
    cid, clang = ds.corpus["id"].to_numpy(), ds.corpus["language"].to_numpy()
    qpos = {qid: i for i, qid in enumerate(ds.queries["id"])}
    for row in per_query.itertuples():
        pool = np.ones(len(cid), bool) if row.pool == "multi" else clang == row.pool
        labels = np.isin(cid[pool], list(ds.qrels[row.query_id]))
        assert row.map == pytest.approx(average_precision_score(labels, c[pool] @ q[qpos[row.query_id]]), abs=1e-9)


def test_queries_without_relevant_in_pool_are_skipped(toy):
    ds, q, c = toy
    per_query = score_all(ds, q, c)
    counts = per_query.groupby("setting").size()
    assert counts["en->de"] == 40
    assert counts["en->fr"] == 40 - 6  # q0, q7, ... q35 have no French answer
    assert counts["fr->fr"] == 34
    assert (per_query.loc[per_query["pool"] == "multi", "n_relevant"] >= 2).all()


def test_bias_columns_and_summary(toy):
    ds, q, c = toy
    per_query = score_all(ds, q, c)
    multi = per_query[per_query["kind"] == "multi"]
    ranks = multi[["rank:de", "rank:en", "rank:fr"]].to_numpy()
    np.testing.assert_allclose(multi["rank_distance"], np.nanmax(ranks, 1) - np.nanmin(ranks, 1))
    summary = summarize(per_query, ds)
    by_setting = per_query.groupby("setting")["map"].mean()
    mono = np.mean([by_setting[f"{x}->{x}"] for x in ("en", "de", "fr")])
    assert summary["macro"]["mono"]["map"] == pytest.approx(mono)
    assert summary["bias"]["rank_distance"]["macro"] == pytest.approx(
        multi.groupby("query_language")["rank_distance"].mean().mean()
    )
    assert summary["bias"]["own@10"]["en"]["pool_share"] == pytest.approx(1 / 3)
    assert summary["bias"]["mean_rank"]["en"]["de"] == pytest.approx(
        multi.loc[multi.query_language == "en", "rank:de"].mean()
    )


def test_perfect_embeddings_score_one(toy):
    ds, _, _ = toy
    # each question and its answers share one direction; every setting must be perfect
    dim = 64
    basis = np.eye(dim, dtype=np.float32)
    qnum = ds.queries["question_id"].str[1:].astype(int).to_numpy()
    snum = ds.corpus["id"].str.split(":").str[1].astype(int).to_numpy()
    q = basis[qnum]
    c = basis[snum % dim] * 0.5 + basis[(snum + 1) % dim] * 0.01
    per_query = score_all(ds, q, c)
    mono = per_query[per_query["kind"] != "multi"]
    assert mono["map"].min() == pytest.approx(1.0)
    assert mono["mrr@10"].min() == pytest.approx(1.0)
    multi = per_query[per_query["kind"] == "multi"]
    assert (multi["rank_distance"] <= multi["n_relevant"] - 1).all()


def test_relevant_ranks_match_a_plain_count():
    rng = np.random.default_rng(3)
    q, p = rng.normal(size=(37, 5)).astype(np.float32), rng.normal(size=(90, 5)).astype(np.float32)
    p[10] = p[11]  # a tie
    relevant = rng.integers(-1, 90, size=(37, 3))
    relevant[:, 0] = 10
    s = score_matrix(q, p).numpy()
    got = relevant_ranks(score_matrix(q, p), relevant)
    for i in range(37):
        for j in range(3):
            expected = (s[i] >= s[i, relevant[i, j]]).sum() if relevant[i, j] >= 0 else np.inf
            assert got.ranks[i, j] == expected
    assert (got.ranks[:, 0] >= 2).all()  # tied with candidate 11: ranked after it (pessimistic)


def test_score_all_blocks_equal_per_setting_products(toy):
    """score_all cuts each setting from one product per query language; the rows must equal a product per
    setting (scored alone by score_setting), also with a shuffled corpus (pools not contiguous) and queries
    missing from some pools (fr)."""

    from hybrid_core.data.dataset import RetrievalDataset
    from hybrid_core.evaluation.evaluate import _Columns, _relevance_table, score_setting

    ds, q, c = toy
    # multiples of 1/16 below 4 in magnitude: every product and every partial sum of 8 of them is exact in float32,
    # so a block of one big product equals a product of its own on every CPU, whatever the kernel's summation order
    q, c = (np.clip(np.round(x * 16) / 16, -4, 4).astype(np.float32) for x in (q, c))
    perm = np.random.default_rng(1).permutation(len(ds.corpus))
    shuffled = RetrievalDataset("toy", ds.queries, ds.corpus.iloc[perm].reset_index(drop=True), ds.qrels, parallel=True)
    for dataset, corpus_emb in ((ds, c), (shuffled, c[perm])):
        settings = settings_for(dataset)
        rel, cols = _relevance_table(dataset), _Columns.of(dataset)
        one_by_one = pd.concat(
            [score_setting(dataset, s, q, corpus_emb, rel, cols) for s in settings], ignore_index=True
        )
        pd.testing.assert_frame_equal(score_all(dataset, q, corpus_emb, settings), one_by_one, check_exact=True)
