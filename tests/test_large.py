"""Million-passage path on a small synthetic corpus: sharded store, blocked exact search, blocked ranks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybrid_core.errors import DataError
from hybrid_core.evaluation.large import (
    ShardStore,
    build_index,
    encode_corpus,
    exact_search,
    index_search,
    metrics_of,
    pool_ranks,
    ranks_from_topk,
    recall_at,
)
from hybrid_core.evaluation.metrics import compute
from hybrid_core.evaluation.scoring import relevant_ranks, score_matrix

N, DIM, SHARD = 1000, 16, 128  # 8 shards, the last one partial


def unit(rng, n, d=DIM):
    x = rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    emb = unit(rng, N)
    emb[500] = emb[3]  # an exact tie across shards
    store = ShardStore.open(tmp_path / "store", dim=DIM, shard_rows=SHARD, key={"model": "m"})
    for i in range(0, N, SHARD):
        store.write_shard(i // SHARD, emb[i : i + SHARD])
    queries = unit(rng, 40)
    queries[:5] += 0.5 * emb[[3, 10, 200, 640, 999]]  # some queries close to a passage
    relevant = np.full((40, 3), -1, dtype=np.int64)
    for qi in range(40):
        k = 1 + qi % 3
        relevant[qi, :k] = rng.choice(N, size=k, replace=False)
    relevant[0, 0], relevant[0, 1] = 3, 500  # the tied pair, both relevant
    return store, emb, queries, relevant


def test_blocked_exact_search_equals_full_search(corpus):
    """Shard-by-shard search (torch and FAISS engines) = one FAISS search over everything (scores), = a full
    argsort (order; ties by lower index, which one FAISS search does not promise: rows 3 and 500 are equal)."""
    import faiss

    store, emb, queries, _ = corpus
    assert len(store.shards()) == 8 and len(store) == N
    s, i = exact_search(queries, store, k=50, query_block=16)
    s2, i2 = exact_search(queries, store, k=50, engine="faiss")
    full = faiss.IndexFlatIP(DIM)
    full.add(emb)
    fs, _ = full.search(queries, 50)
    tol = DIM * np.finfo(np.float32).eps  # unit vectors: |s| <= 1, DIM roundings
    np.testing.assert_allclose(s, fs, rtol=0, atol=tol)
    np.testing.assert_allclose(s2, fs, rtol=0, atol=tol)
    ref = np.argsort(-(queries.astype(np.float64) @ emb.T.astype(np.float64)), axis=1, kind="stable")[:, :50]
    np.testing.assert_array_equal(i, ref)
    np.testing.assert_array_equal(i2, ref)


def test_blocked_ranks_equal_full_matrix_ranks(corpus):
    store, emb, queries, relevant = corpus
    gains = np.where(relevant >= 0, 1.0, 0.0)
    blocked = pool_ranks(queries, store, relevant, gains, query_block=16)
    full = relevant_ranks(score_matrix(queries, emb), relevant, gains)
    np.testing.assert_array_equal(blocked.ranks, full.ranks)
    for name, values in compute(full).items():
        if name in ("map", "ndcg@10", "recall@100", "mrr@10"):
            np.testing.assert_array_equal(metrics_of(blocked)[name], values)
    assert blocked.ranks[0, 0] == blocked.ranks[0, 1]  # the tie: both pessimistic


def test_topk_ranks_and_approximate_index(corpus):
    store, _, queries, relevant = corpus
    _, top = exact_search(queries, store, k=N)
    rr = ranks_from_topk(top, relevant)
    exact = pool_ranks(queries, store, relevant)
    untied = relevant[:, 0] != 3
    np.testing.assert_array_equal(rr.ranks[untied], exact.ranks[untied])  # no ties: position = count
    index = build_index(store, "ivf", nlist=8)
    _, approx = index_search(index, queries, k=10, nprobe=8)  # every list probed: exact
    assert recall_at(approx, top, 10) == 1.0
    hnsw = build_index(store, "hnsw", hnsw_m=8)
    _, approx = index_search(hnsw, queries, k=10)
    assert 0.5 <= recall_at(approx, top, 10) <= 1.0


def test_encode_resumes_and_keys_must_match(tmp_path):
    calls: list[int] = []

    def fake_encode(texts):
        calls.append(len(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    texts = [f"t{'x' * i}" for i in range(10)]
    store = ShardStore.open(tmp_path / "s", dim=2, shard_rows=4, key={"model": "m"})
    store.write_shard(0, fake_encode(texts[:4]))  # as if an earlier run stopped after one shard
    calls.clear()
    assert encode_corpus(fake_encode, iter(texts), store) == 10
    assert calls == [4, 2]  # shard 0 skipped
    np.testing.assert_array_equal(store.rows(np.arange(10))[:, 0], [len(t) for t in texts])
    assert not list((tmp_path / "s").glob("*.tmp"))
    with pytest.raises(DataError, match="made for"):
        ShardStore.open(tmp_path / "s", key={"model": "other"})


def test_iter_corpus_streams_title_and_text(tmp_path):
    from hybrid_core.data.beir import iter_corpus

    path = tmp_path / "corpus.jsonl"
    rows = [{"_id": "d1", "title": "T", "text": "body"}, {"_id": "d2", "text": "only", "language": "de"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    assert list(iter_corpus(path, language="en")) == [("d1", "T body", "en"), ("d2", "only", "de")]
