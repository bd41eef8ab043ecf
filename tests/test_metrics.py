"""Metrics on hand-computed cases, and cross-checked against sklearn and pytrec_eval."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from hybrid_core.evaluation.metrics import METRICS, RelevantRanks, compute, rank_distance


def rr(*ranks, gains=None):
    return RelevantRanks.from_lists([list(ranks)], None if gains is None else [gains])


@pytest.mark.parametrize(
    ("ranks", "expected"),
    [((1,), 1.0), ((2,), 0.5), ((1, 3), (1 + 2 / 3) / 2), ((2, 3), (1 / 2 + 2 / 3) / 2), ((3, 3), 2 / 3)],
)
def test_average_precision_by_hand(ranks, expected):
    # (3, 3): two relevant tied at rank 3 -> each counts 2 relevant in the top 3 (sklearn's tie rule)
    assert compute(rr(*ranks), ["map"])["map"][0] == pytest.approx(expected)


def test_rank_metrics_by_hand():
    got = compute(rr(2, 50))
    assert got["recall@1"][0] == 0.0
    assert got["recall@10"][0] == 0.5
    assert got["recall@100"][0] == 1.0
    assert got["mrr@10"][0] == 0.5
    assert got["ndcg@10"][0] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert compute(rr(11))["mrr@10"][0] == 0.0


def test_graded_ndcg_by_hand():
    # gains 2 at rank 2, 1 at rank 1: DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3)
    got = compute(rr(1, 2, gains=[1, 2]), ["ndcg@10"])["ndcg@10"][0]
    assert got == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_rank_distance_by_hand():
    values = rank_distance(RelevantRanks.from_lists([[1, 2, 40], [5], [7, 7]]))
    assert values[0] == 39
    assert math.isnan(values[1])  # one relevant: no spread
    assert values[2] == 0


def test_padding_is_ignored():
    padded = RelevantRanks.from_lists([[3], [1, 2, 4]])
    assert compute(padded, ["map"])["map"][0] == pytest.approx(1 / 3)
    assert padded.n_relevant.tolist() == [1, 3]


def test_unknown_metric_is_named():
    with pytest.raises(KeyError, match="ndcg@7"):
        compute(rr(1), ["ndcg@7"])


def _pessimistic_ranks(scores, labels):
    return [int((scores >= scores[j]).sum()) for j in np.flatnonzero(labels)]


def test_map_equals_sklearn_with_ties():
    rng = np.random.default_rng(1)
    for _ in range(200):
        n = int(rng.integers(5, 60))
        scores = rng.integers(0, 8, size=n).astype(float)  # many ties on purpose
        labels = np.zeros(n, bool)
        labels[rng.choice(n, size=int(rng.integers(1, 5)), replace=False)] = True
        ours = compute(RelevantRanks.from_lists([_pessimistic_ranks(scores, labels)]), ["map"])["map"][0]
        assert ours == pytest.approx(average_precision_score(labels, scores), abs=1e-12)


def test_all_metrics_equal_pytrec_eval_without_ties():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = np.random.default_rng(2)
    qrels, run, ranks, gains = {}, {}, [], []
    for q in range(100):
        n = int(rng.integers(20, 300))
        scores = rng.permutation(n).astype(float) + rng.random()  # distinct scores: no ties
        rel = rng.choice(n, size=int(rng.integers(1, 6)), replace=False)
        grade = rng.integers(1, 3, size=len(rel))
        qrels[f"q{q}"] = {f"d{d}": int(g) for d, g in zip(rel, grade, strict=True)}
        run[f"q{q}"] = {f"d{d}": float(s) for d, s in enumerate(scores)}
        ranks.append([int((scores >= scores[d]).sum()) for d in rel])
        gains.append(grade.tolist())
    trec = pytrec_eval.RelevanceEvaluator(
        qrels, {"map", "ndcg_cut_10", "recall_1", "recall_10", "recall_100", "recip_rank"}
    ).evaluate(run)
    ours = compute(RelevantRanks.from_lists(ranks, gains))
    names = {
        "map": "map",
        "ndcg@10": "ndcg_cut_10",
        "recall@1": "recall_1",
        "recall@10": "recall_10",
        "recall@100": "recall_100",
    }
    for metric, trec_name in names.items():
        expected = np.array([trec[f"q{q}"][trec_name] for q in range(100)])
        np.testing.assert_allclose(ours[metric], expected, atol=1e-12, err_msg=metric)
    # trec_eval's recip_rank has no cut-off; ours is MRR@10
    rr_full = np.array([trec[f"q{q}"]["recip_rank"] for q in range(100)])
    np.testing.assert_allclose(ours["mrr@10"], np.where(rr_full >= 0.1, rr_full, 0.0), atol=1e-12)


def test_registry_spellings():
    assert list(METRICS) == ["map", "ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10"]
