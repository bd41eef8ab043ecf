"""Corpora too large for one score matrix (a million passages): sharded embeddings, blocked search and ranks.

- Embeddings are streamed to disk while encoding: fixed-size ``.npy`` shards (float32, memory-mapped when
  read), each written under a temporary name and renamed when complete, so an interrupted encoding resumes
  at the first missing shard (:func:`encode_corpus`).
- Search is exact by default: FAISS's flat inner-product index over one shard at a time, the running top k
  merged shard by shard (:func:`exact_search`; Johnson et al. 2019, "Billion-scale similarity search with
  GPUs", arXiv 1702.08734). An approximate index (IVF, or HNSW: Malkov & Yashunin 2018, arXiv 1603.09320) is
  an option (:func:`build_index` / :func:`index_search`) with its recall against exact reported
  (:func:`recall_at`).
- Pool-wide metrics need the rank of every relevant passage, not only those in the top k: ranks are counts
  (``rank(d) = |{c : s_c >= s_d}|``, pessimistic ties as :mod:`hybrid_core.evaluation.scoring`), and counts
  over column blocks add up, so :func:`pool_ranks` multiplies one (query block x shard) at a time and never
  holds the full score matrix. mAP, nDCG@10, Recall@100/1000, MRR@10 and rank distance then come from the
  same metric functions as every other evaluation.

Memory is bounded by one query block x one shard of scores plus one shard of embeddings, whatever the corpus.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybrid_core.errors import DataError
from hybrid_core.evaluation.metrics import BIAS_METRICS, METRICS, RelevantRanks, _recall_at
from hybrid_core.evaluation.scoring import count_at_least, score_matrix
from hybrid_core.io_utils import kill_point, read_json, write_json

SHARD_ROWS = 65_536
QUERY_BLOCK = 1024
#: Every metric of the in-memory path, and Recall@1000 (BEIR's deep cut).
LARGE_METRICS: dict[str, Callable[[RelevantRanks], np.ndarray]] = {**METRICS, "recall@1000": _recall_at(1000)}
META = "meta.json"


# ------------------------------------------------------------------------------------------ sharded store


@dataclass
class ShardStore:
    """A folder of ``shard-00000.npy`` ... (float32 rows, ``shard_rows`` each but the last) and ``meta.json``."""

    folder: Path
    dim: int
    shard_rows: int

    @classmethod
    def open(
        cls, folder: str | os.PathLike, dim: int | None = None, shard_rows: int = SHARD_ROWS, key: dict | None = None
    ):
        """Open (or create, when ``dim`` is given) a store; ``key`` (model, prompt, precision...) must match."""
        folder = Path(folder)
        meta_path = folder / META
        if meta_path.is_file():
            meta = read_json(meta_path)
            if key is not None and meta.get("key") != key:
                raise DataError(
                    f"{meta_path}: embeddings were made for {meta.get('key')}, not {key}; use another folder"
                )
            return cls(folder, int(meta["dim"]), int(meta["shard_rows"]))
        if dim is None:
            raise DataError(f"{folder}: no {META}; not an embedding store")
        folder.mkdir(parents=True, exist_ok=True)
        write_json(meta_path, {"dim": dim, "shard_rows": shard_rows, "key": key})
        return cls(folder, dim, shard_rows)

    def shard_path(self, i: int) -> Path:
        return self.folder / f"shard-{i:05d}.npy"

    def shards(self) -> list[Path]:
        """Complete shards, in order (stops at the first gap)."""
        out = []
        while self.shard_path(len(out)).is_file():
            out.append(self.shard_path(len(out)))
        return out

    def write_shard(self, i: int, rows: np.ndarray) -> None:
        """Write shard ``i`` through a memory map under a temporary name, then rename (atomic)."""
        target = self.shard_path(i)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=rows.shape)
        mm[:] = rows
        mm.flush()
        del mm
        os.replace(tmp, target)

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(first row, rows)`` per shard, memory-mapped copy-on-write (never written; writable so torch can wrap
        it without a copy; pages leave memory with the map)."""
        offset = 0
        for path in self.shards():
            rows = np.load(path, mmap_mode="c", allow_pickle=False)
            yield offset, rows
            offset += len(rows)

    def __len__(self) -> int:
        return sum(np.load(p, mmap_mode="r", allow_pickle=False).shape[0] for p in self.shards())

    def rows(self, index: np.ndarray) -> np.ndarray:
        """Embeddings of the given global row numbers (any order), read shard by shard."""
        index = np.asarray(index, dtype=np.int64)
        out = np.empty((len(index), self.dim), dtype=np.float32)
        shard = index // self.shard_rows
        for s in np.unique(shard):
            mm = np.load(self.shard_path(int(s)), mmap_mode="r", allow_pickle=False)
            sel = np.flatnonzero(shard == s)
            out[sel] = mm[index[sel] - s * self.shard_rows]
        return out


def encode_corpus(
    encode_texts: Callable[[list[str]], np.ndarray],
    texts: Iterable[str],
    store: ShardStore,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode ``texts`` (any iterable, e.g. streamed from disk) shard by shard into ``store``; returns the rows.

    Shards already on disk are skipped (their texts are read past, not encoded), so a killed run resumes
    where it stopped (kill point ``large:shard-written`` after each shard, see ``io_utils.kill_point``).
    ``encode_texts`` maps a list of texts to float32 rows (e.g. a partial of
    :func:`hybrid_core.models.encode.encode` with the passage prompt and the cache off).
    """
    done = len(store.shards())
    n, chunk, shard = 0, [], 0

    def flush() -> None:
        nonlocal shard
        if shard >= done:
            store.write_shard(shard, np.asarray(encode_texts(chunk), dtype=np.float32))
            kill_point("large:shard-written")
        if progress is not None:
            progress(shard, n)
        shard += 1
        chunk.clear()

    for text in texts:
        chunk.append(text)
        n += 1
        if len(chunk) == store.shard_rows:
            flush()
    if chunk:
        flush()
    return n


# ------------------------------------------------------------------------------------------ search


def _merge(best_s: np.ndarray, best_i: np.ndarray, s: np.ndarray, i: np.ndarray, k: int):
    """Keep the k best of two candidate lists per row (higher score first, ties: lower index first)."""
    all_s = np.concatenate([best_s, s], axis=1)
    all_i = np.concatenate([best_i, i], axis=1)
    order = _row_lexsort(all_s, all_i)[:, :k]
    return np.take_along_axis(all_s, order, 1), np.take_along_axis(all_i, order, 1)


def _row_lexsort(s: np.ndarray, i: np.ndarray) -> np.ndarray:
    """Per row: order by score descending, then index ascending (-1 fillers last)."""
    key_i = np.where(i < 0, np.iinfo(np.int64).max, i)
    first = np.argsort(key_i, axis=1, kind="stable")
    second = np.argsort(-np.take_along_axis(s, first, 1), axis=1, kind="stable")
    return np.take_along_axis(first, second, 1)


def exact_search(
    queries: np.ndarray, store: ShardStore, k: int = 1000, *, engine: str = "torch", query_block: int = QUERY_BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top k (scores, global row numbers) per query, one (query block x shard) at a time, merged.

    ``engine="torch"``: a float32 matrix product and ``torch.topk`` per block (the default: on this 2-core AVX2
    machine 3-6x faster than FAISS's flat index at k = 1000, whose per-query heap dominates, see the README);
    ``engine="faiss"``: ``faiss.IndexFlatIP`` per shard. Both exact; ties at the cut may keep either passage.
    """
    q_all = np.ascontiguousarray(queries, dtype=np.float32)
    out_s = np.empty((len(q_all), 0), dtype=np.float32)
    out_i = np.empty((len(q_all), 0), dtype=np.int64)
    parts_s, parts_i = [], []
    for a in range(0, len(q_all), query_block):
        q = q_all[a : a + query_block]
        best_s = np.full((len(q), 0), -np.inf, dtype=np.float32)
        best_i = np.full((len(q), 0), -1, dtype=np.int64)
        for offset, rows in store.blocks():
            s, i = _block_top(q, rows, min(k, len(rows)), engine)
            best_s, best_i = _merge(best_s, best_i, s, np.where(i >= 0, i + offset, -1), k)
        parts_s.append(best_s)
        parts_i.append(best_i)
    if parts_s:
        out_s, out_i = np.concatenate(parts_s), np.concatenate(parts_i)
    return out_s, out_i


def _block_top(q: np.ndarray, rows: np.ndarray, k: int, engine: str) -> tuple[np.ndarray, np.ndarray]:
    if engine == "faiss":
        import faiss

        index = faiss.IndexFlatIP(rows.shape[1])
        index.add(np.ascontiguousarray(rows))
        return index.search(q, k)
    if engine != "torch":
        raise DataError(f"unknown search engine {engine!r}; use torch or faiss")
    import torch

    values, indices = torch.topk(score_matrix(q, rows), k, dim=1, largest=True, sorted=True)
    return values.numpy(), indices.numpy().astype(np.int64)


def build_index(
    store: ShardStore,
    kind: str = "ivf",
    *,
    nlist: int | None = None,
    hnsw_m: int = 32,
    train_per_list: int = 40,
    seed: int = 0,
):
    """An approximate FAISS index over the store, filled shard by shard: ``ivf`` (IVF-Flat, ``nlist`` ~ sqrt(N)
    lists, k-means on ``train_per_list`` x nlist sampled rows) or ``hnsw`` (HNSW-Flat, ``hnsw_m`` links per node)."""
    import faiss

    n = len(store)
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(store.dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
    elif kind == "ivf":
        nlist = nlist or max(1, int(np.sqrt(n)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(store.dim), store.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = np.sort(np.random.default_rng(seed).choice(n, size=min(n, train_per_list * nlist), replace=False))
        index.train(store.rows(sample))
    else:
        raise DataError(f"unknown index kind {kind!r}; use ivf or hnsw")
    for _, rows in store.blocks():
        index.add(np.ascontiguousarray(rows))
    return index


def index_search(index, queries: np.ndarray, k: int = 1000, *, nprobe: int = 32, ef_search: int = 128):
    """Top k (scores, row numbers) from an approximate index (``nprobe`` lists for IVF, ``ef_search`` for HNSW)."""
    import faiss

    if isinstance(index, faiss.IndexIVF):
        index.nprobe = nprobe
    elif isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = max(ef_search, k)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def recall_at(approx: np.ndarray, exact: np.ndarray, k: int) -> float:
    """Mean share of the exact top k that the approximate top k also returns."""
    hits = []
    for a, e in zip(approx[:, :k], exact[:, :k], strict=True):
        e = e[e >= 0]
        hits.append(len(np.intersect1d(a[a >= 0], e)) / max(1, len(e)))
    return float(np.mean(hits))


# ------------------------------------------------------------------------------------------ pool-wide ranks


def pool_ranks(
    queries: np.ndarray,
    store: ShardStore,
    relevant: np.ndarray,
    gains: np.ndarray | None = None,
    *,
    query_block: int = QUERY_BLOCK,
) -> RelevantRanks:
    """Pessimistic ranks of every relevant passage in the whole pool, block by block.

    ``relevant`` is (Q, R) global row numbers (-1 = unused slot). For each (query block, shard) the scores are
    multiplied once and, per relevant passage, the candidates scoring at least as high are counted and added
    up. The thresholds are the relevant passages' own scores, read from the block product in which they
    occur; a first estimate (one product with the relevant rows) drives the count, and the few queries whose
    estimate differs in the last bit from the block value are counted again, so the ranks equal those of one
    full score matrix (:func:`hybrid_core.evaluation.scoring.relevant_ranks`).
    """
    relevant = np.asarray(relevant, dtype=np.int64)
    mask = relevant >= 0
    q_all = np.ascontiguousarray(queries, dtype=np.float32)
    counts = np.zeros(relevant.shape, dtype=np.int64)
    for a in range(0, len(q_all), query_block):
        rows = slice(a, a + query_block)
        q, rel, m = q_all[rows], relevant[rows], mask[rows]
        if not m.any():
            continue
        flat = np.unique(rel[m])
        by_rel = score_matrix(q, store.rows(flat)).numpy()  # the same GEMM as the blocks, on fewer columns
        col = np.searchsorted(flat, np.where(m, rel, flat[0]))
        est = np.where(m, np.take_along_axis(by_rel, col, axis=1), np.inf).astype(np.float32)
        exact = est.copy()
        c = np.zeros(rel.shape, dtype=np.int64)
        for offset, shard in store.blocks():
            s = score_matrix(q, shard).numpy()
            c += count_at_least(s, est)
            inside = m & (rel >= offset) & (rel < offset + len(shard))
            qi, ri = np.nonzero(inside)
            exact[qi, ri] = s[qi, rel[qi, ri] - offset]
        redo = np.flatnonzero((exact != est).any(axis=1))
        if len(redo):  # thresholds and counts from products of one shape: a GEMM's last bit depends on its rows
            c[redo] = _consistent_counts(q[redo], store, rel[redo], m[redo])
        counts[rows] = c
    ranks = np.where(mask, counts.astype(np.float64), np.inf)
    g = np.where(mask, 1.0 if gains is None else gains, 0.0).astype(np.float64)
    return RelevantRanks(ranks, g)


def _consistent_counts(q: np.ndarray, store: ShardStore, rel: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Counts for a few queries in two passes over the store, both with the same (``q`` x shard) products: the
    relevant passages' own scores first, then the counts; each passage therefore counts itself."""
    thr = np.full(rel.shape, np.inf, dtype=np.float32)
    for offset, shard in store.blocks():
        s = score_matrix(q, shard).numpy()
        qi, ri = np.nonzero(m & (rel >= offset) & (rel < offset + len(shard)))
        thr[qi, ri] = s[qi, rel[qi, ri] - offset]
    c = np.zeros(rel.shape, dtype=np.int64)
    for _, shard in store.blocks():
        c += count_at_least(score_matrix(q, shard).numpy(), thr)
    return c


def ranks_from_topk(top: np.ndarray, relevant: np.ndarray, gains: np.ndarray | None = None) -> RelevantRanks:
    """Ranks of relevant passages within returned top-k lists (1-based position; inf when not returned)."""
    mask = relevant >= 0
    ranks = np.full(relevant.shape, np.inf)
    for qi in range(len(top)):
        pos = {int(d): p + 1 for p, d in enumerate(top[qi]) if d >= 0}
        for j in np.flatnonzero(mask[qi]):
            ranks[qi, j] = pos.get(int(relevant[qi, j]), np.inf)
    g = np.where(mask, 1.0 if gains is None else gains, 0.0).astype(np.float64)
    return RelevantRanks(ranks, g)


def metrics_of(rr: RelevantRanks, with_bias: bool = False) -> dict[str, np.ndarray]:
    """Per-query metrics of :data:`LARGE_METRICS` (and rank distance) from ranks."""
    out = {name: fn(rr) for name, fn in LARGE_METRICS.items()}
    if with_bias:
        out["rank_distance"] = BIAS_METRICS["rank_distance"](rr)
    return out
