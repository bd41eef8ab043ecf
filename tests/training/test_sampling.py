"""Batch samplers: statistics over many batches, never single draws."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import DataError, HybridIRError
from hybrid_core.training.samplers import HybridBatchSampler, SamplerError, build_pairs, parse_sampler

N_BATCHES = 400


@pytest.fixture(scope="module")
def pairs(synthetic_ds):
    return build_pairs(synthetic_ds)


def draw(pairs, name, n=N_BATCHES, **kw):
    kw.setdefault("batch_size", 8)
    s = HybridBatchSampler(pairs, name, **kw)
    return [s.next_batch() for _ in range(n)]


def test_build_pairs_counts(synthetic_ds, pairs):
    # every question: |langs it is in|^2 pairs (es lacks 12 of 60 questions)
    per_q = synthetic_ds.queries.groupby("question_id").size()
    assert len(pairs) == int((per_q**2).sum()) == 48 * 16 + 12 * 9
    df = pairs.pairs
    assert set(df["query_language"]) == {"de", "en", "es", "fr"}
    # the positive is relevant to the query and in the passage language
    for row in df.sample(50, random_state=0).itertuples():
        assert row.passage_id in synthetic_ds.qrels[row.query_id]
        assert row.passage_id.startswith(row.passage_language + ":")


def test_hard_negative_candidates_are_the_rest_of_the_paragraph(pairs, synthetic_ds):
    corpus = synthetic_ds.corpus
    for i in range(0, len(pairs), 37):
        row = pairs.pairs.iloc[i]
        cands = corpus.iloc[pairs.hard_negative_candidates(i)]
        pos = corpus.set_index("id").loc[row["passage_id"]]
        assert len(cands) >= 1 and (cands["paragraph"] == pos["paragraph"]).all()
        assert (cands["language"] == row["passage_language"]).all()
        assert row["passage_id"] not in set(cands["id"])


def test_build_pairs_hand_example():
    """2 questions x {en, de}, each answered in both languages -> 2 * 2 * 2 = 8 pairs."""
    queries = pd.DataFrame(
        [
            {
                "id": f"{lang}:q{i}",
                "text": f"{lang} question {i}",
                "language": lang,
                "question_id": f"q{i}",
                "article": "a",
            }
            for lang in ("en", "de")
            for i in (1, 2)
        ]
    )
    corpus = pd.DataFrame(
        [
            {
                "id": f"{lang}:s{i}",
                "text": f"{lang} sentence {i}",
                "language": lang,
                "paragraph": f"{lang}:p",
                "article": "a",
            }
            for lang in ("en", "de")
            for i in (1, 2, 3)
        ]
    )
    qrels = {f"{x}:q{i}": {f"{y}:s{i}": 1 for y in ("en", "de")} for x in ("en", "de") for i in (1, 2)}
    ps = build_pairs(RetrievalDataset("hand", queries, corpus, qrels, parallel=True))
    assert len(ps) == 8
    assert sorted(ps.pairs["group"].unique()) == [0, 1]
    with pytest.raises(DataError, match=r"\['fr'\] have no training pairs"):
        build_pairs(RetrievalDataset("hand", queries, corpus, qrels, parallel=True), languages=["en", "fr"])


@pytest.mark.parametrize("name", ["x-x", "x-x-mono", "x-y", "hybrid"])
def test_no_duplicate_question_in_any_batch(pairs, name):
    df = pairs.pairs
    for b in draw(pairs, name, batch_size=16):
        assert len(b.pairs) == 16
        qids = df["question_id"].to_numpy()[b.pairs]
        assert len(qids) == len(set(qids))
        assert len(set(df["group"].to_numpy()[b.pairs])) == 16


def test_modes_and_languages(pairs):
    df = pairs.pairs
    x, y = df["query_language"].to_numpy(), df["passage_language"].to_numpy()
    for b in draw(pairs, "x-x"):
        assert b.mode == "x-x" and (x[b.pairs] == y[b.pairs]).all()
    mixed = sum(len(set(x[b.pairs])) > 1 for b in draw(pairs, "x-x"))
    assert mixed > 0.9 * N_BATCHES  # languages mix within x-x batches
    for b in draw(pairs, "x-y"):
        assert b.mode == "x-y" and (x[b.pairs] != y[b.pairs]).all()
    for b in draw(pairs, "x-x-mono"):
        assert b.mode == "x-x-mono"
        assert set(x[b.pairs]) == set(y[b.pairs]) == {b.language}


def test_mono_language_balance_is_uniform(pairs):
    counts = Counter(b.language for b in draw(pairs, "x-x-mono", n=2000))
    expected = 2000 / 4
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert set(counts) == {"de", "en", "es", "fr"}
    assert chi2 < 16.27  # chi-square, 3 dof, p = 0.001


@pytest.mark.parametrize("alpha", [0.0, 0.25, 0.5, 0.9, 1.0])
def test_hybrid_alpha_within_binomial_tolerance(pairs, alpha):
    n = 2000
    mono = sum(b.mode == "x-x-mono" for b in draw(pairs, "hybrid", n=n, alpha=alpha))
    sd = math.sqrt(n * alpha * (1 - alpha))
    assert abs(mono - n * alpha) <= 4 * sd + 1e-9


def test_each_pair_once_per_epoch(pairs):
    """Within an epoch of the x-y pool no pair repeats; over 2 epochs ~every pair is seen."""
    s = HybridBatchSampler(pairs, "x-y", batch_size=8, seed=3)
    pool = s._pools["x-y"]
    seen: list[int] = []
    while pool.epoch == 0:
        seen += s.next_batch().pairs.tolist()
    first_epoch = seen[: len(seen) - 8]  # the last batch may straddle the epoch boundary
    assert len(first_epoch) == len(set(first_epoch))
    assert len(set(seen)) >= len(pool.indices) - 8 - 8


def test_same_seed_same_batches_other_seed_differs(pairs):
    a = [b.pairs.tolist() for b in draw(pairs, "hybrid", n=50, seed=1, hard_negatives=True)]
    b = [b.pairs.tolist() for b in draw(pairs, "hybrid", n=50, seed=1, hard_negatives=True)]
    c = [b.pairs.tolist() for b in draw(pairs, "hybrid", n=50, seed=2, hard_negatives=True)]
    assert a == b and a != c


def test_state_dict_resumes_the_same_stream(pairs):
    ref = draw(pairs, "hybrid", n=120, seed=5, hard_negatives=True)
    s = HybridBatchSampler(pairs, "hybrid", batch_size=8, seed=5, hard_negatives=True)
    for _ in range(70):
        s.next_batch()
    state = s.state_dict()
    fresh = HybridBatchSampler(pairs, "hybrid", batch_size=8, seed=5, hard_negatives=True)
    fresh.load_state_dict(state)
    rest = [fresh.next_batch() for _ in range(50)]
    for r, b in zip(ref[70:], rest, strict=True):
        assert (r.pairs == b.pairs).all() and (r.hard_negatives == b.hard_negatives).all() and r.mode == b.mode
    other = HybridBatchSampler(pairs, "hybrid", batch_size=8, seed=6)
    with pytest.raises(SamplerError, match="seed"):
        other.load_state_dict(state)


def test_ranks_disjoint_same_mode_and_union_is_the_single_process_batch(pairs):
    world = 4
    single = draw(pairs, "hybrid", n=200, batch_size=16, seed=9)
    ranks = [draw(pairs, "hybrid", n=200, batch_size=16, seed=9, rank=r, world_size=world) for r in range(world)]
    for t in range(200):
        modes = {(rk[t].mode, rk[t].language) for rk in ranks}
        assert modes == {(single[t].mode, single[t].language)}
        parts = [set(rk[t].pairs.tolist()) for rk in ranks]
        assert all(len(p) == 4 for p in parts)
        assert len(set().union(*parts)) == 16  # disjoint
        assert set().union(*parts) == set(single[t].pairs.tolist())


def test_hard_negatives_same_paragraph_language_and_never_relevant(pairs, synthetic_ds):
    df = pairs.pairs
    corpus = synthetic_ds.corpus
    para = corpus["paragraph"].to_numpy()
    lang = corpus["language"].to_numpy()
    text = corpus["text"].to_numpy()
    ids = corpus["id"].to_numpy()
    row = {d: i for i, d in enumerate(ids)}
    for b in draw(pairs, "hybrid", n=200, batch_size=8, hard_negatives=True):
        relevant = {
            text[row[d]]
            for q in df["query_id"].to_numpy()[b.pairs]
            for qq in synthetic_ds.queries.loc[synthetic_ds.queries["question_id"] == q.split(":")[1], "id"]
            for d in synthetic_ds.qrels[qq]
        }
        for i, neg in zip(b.pairs, b.hard_negatives, strict=True):
            pos = row[df["passage_id"].iat[i]]
            assert lang[neg] == lang[pos] == df["passage_language"].iat[i]
            assert para[neg] == para[pos]  # every synthetic paragraph has 4 sentences
            assert text[neg] not in relevant


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sampler": "mixed"}, "unknown sampler 'mixed'"),
        ({"alpha": 1.5}, r"alpha must be a probability in \[0, 1\], got 1.5"),
        ({"alpha": -0.1}, "alpha must be a probability"),
        ({"batch_size": 59}, r"only 52 distinct question ids among the monolingual de pairs .* than batch_size 59"),
        ({"batch_size": 10, "world_size": 4}, "not divisible by the 4 processes"),
    ],
)
def test_bad_input(pairs, kwargs, match):
    kw = {"sampler": "hybrid", "batch_size": 8} | kwargs
    with pytest.raises(HybridIRError, match=match):
        HybridBatchSampler(pairs, **kw)


def test_language_without_monolingual_pairs_is_an_error():
    """A language with queries but answers only in other languages cannot make x-x-mono batches."""
    queries = pd.DataFrame(
        [
            {"id": f"{lang}:q{i}", "text": f"{lang} q{i}", "language": lang, "question_id": f"q{i}", "article": "a"}
            for lang in ("en", "th")
            for i in range(4)
        ]
    )
    corpus = pd.DataFrame(
        [{"id": f"en:s{i}", "text": f"s{i}", "language": "en", "paragraph": "p", "article": "a"} for i in range(4)]
    )
    qrels = {f"{lang}:q{i}": {f"en:s{i}": 1} for lang in ("en", "th") for i in range(4)}
    ps = build_pairs(RetrievalDataset("no-th", queries, corpus, qrels, parallel=True))
    with pytest.raises(SamplerError, match=r"\['th'\] have no monolingual pairs"):
        HybridBatchSampler(ps, "x-x-mono", batch_size=2)
    HybridBatchSampler(ps, "x-y", batch_size=2)  # th -> en pairs exist


def test_parse_sampler_accepts_enum_and_case():
    assert parse_sampler("X-Y").value == "x-y"
    assert parse_sampler(parse_sampler("hybrid")).value == "hybrid"
    assert np.isclose(HybridBatchSampler.__init__.__defaults__[0], 0.5)
