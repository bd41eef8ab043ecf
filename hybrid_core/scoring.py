"""Fast exact scoring: pessimistic ranks of relevant candidates from a query x pool score matrix.

The plain way to score a query is to argsort its whole row (O(N log N)) and hand it to a metric.
We only need the rank of each *relevant* candidate, which is a count: ``rank(d) = |{c : s_c >= s_d}|``
(ties pessimistic, see :mod:`hybrid_core.metrics`). Counting is one vectorised comparison per
relevant candidate (numpy's SIMD ``count_nonzero``), cheaper than sorting the row — the benchmark
``benchmarks/bench_scoring.py`` checks it against argsort + sklearn to 1e-9.
"""

from __future__ import annotations

import numpy as np
import torch

from hybrid_core.metrics import RelevantRanks


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
    s = scores.numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    mask = relevant >= 0
    thr = np.take_along_axis(s, np.where(mask, relevant, 0), axis=1)  # (Q, R) scores of the relevant
    # one column of relevant candidates at a time: a (Q, N) comparison + popcount, no sort needed
    counts = np.stack([np.count_nonzero(s >= thr[:, j : j + 1], axis=1) for j in range(thr.shape[1])], axis=1)
    ranks = np.where(mask, counts.astype(np.float64), np.inf)
    g = np.where(mask, 1.0 if gains is None else gains, 0.0).astype(np.float64)
    return RelevantRanks(ranks, g)


def top_k(scores: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and scores of the k best candidates per query, best first (ties: lower index first)."""
    k = min(k, scores.shape[1])
    values, indices = torch.topk(scores, k, dim=1, largest=True, sorted=True)
    return indices.numpy(), values.numpy()
