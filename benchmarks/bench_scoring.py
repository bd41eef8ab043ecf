"""Scoring every XQuAD-R setting from cached embeddings, against plain baselines in the same process.

Baseline A (plain): per query, ``numpy.argsort`` of the pool scores + ``sklearn.average_precision_score``.
Baseline B (floor): the bare matmul of queries x pool for every setting, nothing else.
Ours: ``hybrid_core.evaluation.evaluate.score_all`` (all metrics + bias columns), asserted equal to A to 1e-9.

    .venv/bin/python benchmarks/bench_scoring.py            # real embeddings (default model, cached)
    .venv/bin/python benchmarks/bench_scoring.py --random   # random unit vectors, no model needed
    .venv/bin/python benchmarks/bench_scoring.py --random --rounds 3 --plain-every 11   # plain loop on 1/11

``--plain-every K`` runs the (slow) plain loop on every K-th setting only, checks those rows, and scales its
time by the share of per-query rows it covered (the loop's cost is linear in rows); the ratio is then
labelled as extrapolated.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from sklearn.metrics import average_precision_score

from hybrid_core.data import load_dataset
from hybrid_core.evaluation.evaluate import score_all
from hybrid_core.evaluation.scoring import score_matrix
from hybrid_core.evaluation.settings import MULTI, settings_for


def embeddings(ds, random: bool):
    if random:
        rng = np.random.default_rng(0)
        q = rng.normal(size=(len(ds.queries), 384)).astype(np.float32)
        c = rng.normal(size=(len(ds.corpus), 384)).astype(np.float32)
        return q / np.linalg.norm(q, axis=1, keepdims=True), c / np.linalg.norm(c, axis=1, keepdims=True)
    from hybrid_core.evaluation.evaluate import embed_dataset
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model

    ref = resolve_model(None)
    return embed_dataset(load_model(ref), ds, model_fingerprint(ref), progress=True)


def plain_baseline(ds, q, c, settings):
    """Per query: argsort the pool, AP by sklearn. Returns {(setting, query id): AP}."""
    out = {}
    qid, qlang = ds.queries["id"].to_numpy(), ds.queries["language"].to_numpy()
    cid, clang = ds.corpus["id"].to_numpy(), ds.corpus["language"].to_numpy()
    for s in settings:
        pool = np.ones(len(cid), bool) if s.pool == MULTI else clang == s.pool
        pool_ids = cid[pool]
        rows = np.flatnonzero(qlang == s.query_language)
        # same float32 scores as ours (one matmul per setting), so near-ties cannot flip between the two
        scores_all = score_matrix(q[rows], c[pool]).numpy()
        for i, scores in zip(rows, scores_all, strict=True):
            labels = np.isin(pool_ids, list(ds.qrels.get(qid[i], {})))
            if not labels.any():
                continue
            order = np.argsort(-scores, kind="stable")  # the ranking a plain evaluator builds
            out[(s.name, qid[i])] = average_precision_score(labels[order], scores[order])
    return out


def bare_matmul(ds, q, c, settings):
    qlang, clang = ds.queries["language"].to_numpy(), ds.corpus["language"].to_numpy()
    for s in settings:
        pool = np.ones(len(clang), bool) if s.pool == MULTI else clang == s.pool
        _ = score_matrix(q[qlang == s.query_language], c[pool])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="xquad-r")
    ap.add_argument("--random", action="store_true", help="random embeddings instead of the default model's")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds of matmul and ours (best of)")
    ap.add_argument(
        "--plain-every", type=int, default=1, help="run the plain loop on every K-th setting and extrapolate"
    )
    args = ap.parse_args()
    ds = load_dataset(args.data)
    q, c = embeddings(ds, args.random)
    settings = settings_for(ds)
    print(
        f"load avg {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine); torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{ds.name}: {len(settings)} settings, {len(ds.queries)} queries, {len(ds.corpus)} candidates")

    t_mm = t_ours = float("inf")
    for _ in range(args.rounds):  # interleaved, best of: machine noise hits both alike
        t = time.perf_counter()
        bare_matmul(ds, q, c, settings)
        t_mm = min(t_mm, time.perf_counter() - t)
        t = time.perf_counter()
        ours = score_all(ds, q, c, settings)
        t_ours = min(t_ours, time.perf_counter() - t)
    subset = settings[:: max(1, args.plain_every)]
    t = time.perf_counter()
    base = plain_baseline(ds, q, c, subset)
    t_base = time.perf_counter() - t

    got = ours.set_index(["setting", "query_id"])["map"]
    scale = len(got) / len(base)  # the plain loop's cost is linear in per-query rows
    if len(subset) < len(settings):
        print(
            f"plain loop on {len(subset)} of {len(settings)} settings ({len(base)} of {len(got)} rows): "
            f"time x{scale:.2f}"
        )
        t_base *= scale
        got = got[got.index.get_level_values("setting").isin({s.name for s in subset})]
    assert len(got) == len(base), (len(got), len(base))
    diff = max(abs(got[k] - v) for k, v in base.items())
    assert diff <= 1e-9, diff
    print(f"per-query rows {len(got)}; max |mAP ours - sklearn| = {diff:.2e}")
    print(f"bare matmul      {t_mm:8.2f} s")
    print(f"ours (all metrics + bias) {t_ours:8.2f} s  = {t_ours / t_mm:5.2f}x the bare matmul")
    label = "plain argsort+sklearn" + (" (extrapolated)" if scale != 1 else "")
    print(f"{label} {t_base:8.2f} s  -> ours is {t_base / t_ours:6.1f}x faster")


if __name__ == "__main__":
    main()
