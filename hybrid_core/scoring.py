"""Fast exact scoring: pessimistic ranks of relevant candidates from a query x pool score matrix.

The plain way to score a query is to argsort its whole row (O(N log N)) and hand it to a metric.
We only need the rank of each *relevant* candidate, which is a count: ``rank(d) = |{c : s_c >= s_d}|``
(ties pessimistic, see :mod:`hybrid_core.metrics`). Counting is one vectorised comparison per
relevant candidate, done in chunks with torch (multithreaded, SIMD) — the benchmark
``benchmarks/bench_scoring.py`` checks it against argsort + sklearn to 1e-9.
"""

from __future__ import annotations

import numpy as np
import torch

from hybrid_core.metrics import RelevantRanks

_CHUNK_ELEMENTS = 32_000_000  # bound the (chunk, R, N) comparison tensor to ~32 MB of booleans


def score_matrix(queries: np.ndarray, pool: np.ndarray) -> torch.Tensor:
    """Inner products (cosine for normalised embeddings), float32, queries x pool."""
    return (
        torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
        @ torch.from_numpy(np.ascontiguousarray(pool, dtype=np.float32)).T
    )


def relevant_ranks(scores: torch.Tensor, relevant: np.ndarray, gains: np.ndarray | None = None) -> RelevantRanks:
    """Ranks of relevant candidates.

    Args:
        scores: (Q, N) score matrix.
        relevant: (Q, R) int indices into the pool, ``-1`` for unused slots.
        gains: (Q, R) relevance grades (default 1 where ``relevant >= 0``).
    """
    q, r = relevant.shape
    mask = relevant >= 0
    idx = torch.from_numpy(np.where(mask, relevant, 0).astype(np.int64))
    rel_scores = torch.gather(scores, 1, idx)  # (Q, R)
    ranks = torch.empty((q, r), dtype=torch.int64)
    step = max(1, _CHUNK_ELEMENTS // max(1, r * scores.shape[1]))
    for start in range(0, q, step):
        block = scores[start : start + step]
        thr = rel_scores[start : start + step]
        ranks[start : start + step] = (block.unsqueeze(1) >= thr.unsqueeze(2)).sum(dim=2)
    ranks_np = np.where(mask, ranks.numpy().astype(np.float64), np.inf)
    g = np.where(mask, 1.0 if gains is None else gains, 0.0).astype(np.float64)
    return RelevantRanks(ranks_np, g)


def top_k(scores: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best candidates per query, best first (ties: lower index first)."""
    k = min(k, scores.shape[1])
    values, indices = torch.topk(scores, k, dim=1, largest=True, sorted=True)
    return indices.numpy(), values.numpy()
