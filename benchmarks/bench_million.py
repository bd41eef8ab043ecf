"""A million passages with bounded memory: synthetic embeddings on disk, exact blocked search, pool-wide ranks,
an IVF index's recall against exact, and the encode time extrapolated from a measured rate.

Synthetic corpus: N clustered unit vectors (384-d, float32) written shard by shard as memory-mapped ``.npy`` files
(1M x 384 = 1.5 GB on disk), never all in memory. Queries: noisy copies of random passages (each query's
source passage and 0-2 others relevant), so ranks and metrics are meaningful. The encode rate is measured
on real XQuAD-R passages with the default model (fp32 and int8, same process) and multiplied out.

    .venv/bin/python benchmarks/bench_million.py --n 1000000 --queries 1000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from hybrid_core.evaluation.large import (
    SHARD_ROWS,
    ShardStore,
    build_index,
    exact_search,
    index_search,
    metrics_of,
    pool_ranks,
    ranks_from_topk,
    recall_at,
)

DIM = 384


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def synthetic_store(folder: Path, n: int, seed: int = 0, topics: int = 4096) -> ShardStore:
    """Clustered unit vectors (a topic centre + noise), like real embeddings and unlike uniform noise, in which
    no index finds neighbours (every point is about equally far from every other)."""
    store = ShardStore.open(folder, dim=DIM, key={"synthetic": n, "seed": seed})
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, DIM), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    for i, start in enumerate(range(0, n, SHARD_ROWS)):
        m = min(SHARD_ROWS, n - start)
        x = centres[rng.integers(0, topics, size=m)] + rng.standard_normal((m, DIM), dtype=np.float32) * 0.06
        store.write_shard(i, x / np.linalg.norm(x, axis=1, keepdims=True))
    return store


def encode_rates(n_texts: int) -> dict[str, float]:
    """Texts/s of plain fp32 encode and of the int8 model on the same XQuAD-R passages (interleaved, best of 2)."""
    from hybrid_core.data import load_dataset
    from hybrid_core.models.encode import set_threads
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model
    from hybrid_core.models.precision import as_precision

    set_threads()
    texts = ["passage: " + t for t in load_dataset("xquad-r").corpus["text"].sample(n=n_texts, random_state=1)]
    ref = resolve_model(None)
    fp32 = load_model(ref)
    models = {"fp32": fp32, "int8": as_precision(fp32, "int8", ref, model_fingerprint(ref))}
    best = {k: float("inf") for k in models}
    for _ in range(2):
        for name, m in models.items():
            t = time.perf_counter()
            m.encode(texts, batch_size=32, normalize_embeddings=True)
            best[name] = min(best[name], time.perf_counter() - t)
    return {k: n_texts / v for k, v in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000, help="passages")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--nlist", type=int, default=1024)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--encode-texts", type=int, default=200, help="XQuAD-R passages for the encode rate (0: skip)")
    ap.add_argument("--dir", help="where the shards go (default: a temporary folder, removed at the end)")
    args = ap.parse_args()
    import torch

    print(
        f"CPU: {os.cpu_count()} cores, AVX2 (no AVX-512/VNNI); torch threads {torch.get_num_threads()}; "
        f"load avg {os.getloadavg()[0]:.1f} (shared machine)"
    )
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-million-"))
    try:
        t = time.perf_counter()
        store = synthetic_store(folder / "store", args.n)
        t_write = time.perf_counter() - t
        size = sum(p.stat().st_size for p in store.shards()) / 2**30
        print(
            f"{args.n} x {DIM} float32 in {len(store.shards())} shards, {size:.2f} GB on disk, "
            f"written in {t_write:.1f} s; peak RSS {rss_gb():.2f} GB"
        )

        rng = np.random.default_rng(1)
        src = rng.choice(args.n, size=args.queries, replace=False)
        q = store.rows(src) + rng.standard_normal((args.queries, DIM), dtype=np.float32) * 0.04
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        relevant = np.full((args.queries, 3), -1, dtype=np.int64)
        relevant[:, 0] = src
        extra = rng.integers(0, 3, size=args.queries)
        for i in np.flatnonzero(extra):
            relevant[i, 1 : 1 + extra[i]] = rng.choice(args.n, size=extra[i], replace=False)

        t = time.perf_counter()
        _, top = exact_search(q, store, k=args.k)
        t_exact = time.perf_counter() - t
        print(
            f"exact blocked search (torch), top {args.k}: {t_exact:.1f} s ({args.queries / t_exact:.1f} queries/s); "
            f"peak RSS {rss_gb():.2f} GB"
        )

        t = time.perf_counter()
        rr = pool_ranks(q, store, relevant)
        t_ranks = time.perf_counter() - t
        m = {k: float(np.nanmean(v)) for k, v in metrics_of(rr, with_bias=True).items()}
        print(f"pool-wide ranks by block counts: {t_ranks:.1f} s; peak RSS {rss_gb():.2f} GB")
        print("  " + ", ".join(f"{k} {v:.4f}" for k, v in m.items()))
        from_top = metrics_of(ranks_from_topk(top, relevant))
        same = all(np.array_equal(from_top[k], metrics_of(rr)[k]) for k in ("ndcg@10", "recall@100", "mrr@10"))
        print(f"  nDCG@10 / Recall@100 / MRR@10 from the exact top {args.k} equal the block-count ones: {same}")

        t = time.perf_counter()
        index = build_index(store, "ivf", nlist=args.nlist)
        t_build = time.perf_counter() - t
        print(f"IVF-Flat nlist {args.nlist}: built in {t_build:.1f} s; peak RSS {rss_gb():.2f} GB")
        for nprobe in args.nprobe:
            t = time.perf_counter()
            _, approx = index_search(index, q, k=args.k, nprobe=nprobe)
            t_s = time.perf_counter() - t
            rec = {k: recall_at(approx, top, k) for k in (10, 100, args.k)}
            ndcg = float(np.mean(metrics_of(ranks_from_topk(approx, relevant))["ndcg@10"]))
            print(
                f"  nprobe {nprobe}: search {t_s:.1f} s ({args.queries / t_s:.0f} queries/s); recall vs exact "
                + ", ".join(f"@{k} {v:.4f}" for k, v in rec.items())
                + f"; nDCG@10 {ndcg:.4f} (exact {m['ndcg@10']:.4f})"
            )
        del index
    finally:
        if not args.dir:
            shutil.rmtree(folder, ignore_errors=True)
    if args.encode_texts:
        rates = encode_rates(args.encode_texts)
        for name, rate in rates.items():
            print(
                f"encode {name}: {rate:.1f} texts/s on {args.encode_texts} XQuAD-R passages -> {args.n} passages in "
                f"{args.n / rate / 3600:.1f} h on this machine (2 cores, loaded)"
            )
    print(f"peak RSS of the whole benchmark: {rss_gb():.2f} GB (limit 4 GB)")


if __name__ == "__main__":
    main()
