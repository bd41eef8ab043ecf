"""InfoNCE: the hand-written reference, sentence-transformers' loss, and GradCache all agree."""

from __future__ import annotations

import math

import pytest
import torch

from hybrid_core.errors import HybridIRError
from hybrid_core.training.losses import build_loss, info_nce
from tests.numerics import assert_close_to_scale, grad_scale

QUERIES = [
    "query: de3 de6 de9 deq",
    "query: en16 en19 en22 enq",
    "query: fr29 fr32 fr35 frq",
    "query: es1 es4 esq",
    "query: de40 de43 deq",
    "query: en50 en53 enq",
]
PASSAGES = [
    "passage: de0 de3 de6 de9",
    "passage: en13 en16 en19 en22",
    "passage: fr26 fr29 fr32 fr35",
    "passage: es1 es4 es7",
    "passage: de40 de43 de46",
    "passage: en50 en53 en56",
]
NEGATIVES = [
    "passage: de5 de8 de11",
    "passage: en0 en2",
    "passage: fr1 fr3",
    "passage: es10 es12",
    "passage: de60 de61",
    "passage: en70 en71",
]


def test_info_nce_hand_example():
    # orthogonal unit vectors, q_i = p_i, t = 1: each row's logits are (1, 0) -> log(e + 1) - 1
    q = torch.eye(2)
    assert info_nce(q, q, 1.0).item() == pytest.approx(math.log(math.e + 1) - 1, abs=1e-6)
    # a hard negative equal to the positive doubles the positive's mass: log(e + e + 1) - 1 for row 0
    loss = info_nce(q, q, 1.0, negatives=q[:1])
    row0 = math.log(2 * math.e + 1) - 1
    row1 = math.log(math.e + 2) - 1
    assert loss.item() == pytest.approx((row0 + row1) / 2, abs=1e-6)


@pytest.fixture
def model(tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(str(tiny_model_dir), device="cpu")
    m.eval()  # no dropout: the comparisons are exact up to float error
    return m.double()  # float64: the two paths' different summation orders stay ~1e-16 apart on every CPU


def _features(model, with_negatives: bool):
    cols = [QUERIES, PASSAGES] + ([NEGATIVES] if with_negatives else [])
    return [model.preprocess(c) for c in cols]


def _grads(model):
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("with_negatives", [False, True])
def test_st_loss_equals_reference(model, with_negatives):
    loss = build_loss(model, temperature=0.05)
    value = loss(_features(model, with_negatives), None)
    with torch.no_grad():
        emb = [model(f)["sentence_embedding"] for f in _features(model, with_negatives)]
    ref = info_nce(emb[0], emb[1], 0.05, emb[2] if with_negatives else None)
    assert value.item() == pytest.approx(ref.item(), rel=1e-5)


@pytest.mark.parametrize("with_negatives", [False, True])
@pytest.mark.parametrize("mini_batch_size", [1, 4])
def test_gradcache_same_loss_and_gradients(model, with_negatives, mini_batch_size):
    plain = build_loss(model, temperature=0.05)
    model.zero_grad()
    lp = plain(_features(model, with_negatives), None)
    lp.backward()
    gp = _grads(model)
    cached = build_loss(model, temperature=0.05, mini_batch_size=mini_batch_size)
    assert type(cached).__name__ == "CachedMultipleNegativesRankingLoss"
    model.zero_grad()
    lc = cached(_features(model, with_negatives), None)
    lc.backward()
    gc = _grads(model)
    assert lc.item() == pytest.approx(lp.item(), rel=1e-5)
    assert gp.keys() == gc.keys() and len(gp) > 10
    for name in gp:
        assert_close_to_scale(gc[name], gp[name], scale=grad_scale(gp), msg=name)


def test_gradcache_replays_dropout(tiny_model_dir):
    """In train mode (dropout on) GradCache replays each chunk's RNG, so gradients still match."""
    from sentence_transformers import SentenceTransformer

    m = SentenceTransformer(str(tiny_model_dir), device="cpu").double()
    m.train()
    torch.manual_seed(0)
    m.zero_grad()
    build_loss(m, 0.05)(_features(m, False), None).backward()
    gp = _grads(m)
    torch.manual_seed(0)
    m.zero_grad()
    build_loss(m, 0.05, mini_batch_size=len(QUERIES))(_features(m, False), None).backward()
    gc = _grads(m)
    for name in gp:
        assert_close_to_scale(gc[name], gp[name], scale=grad_scale(gp), msg=name)


def test_bad_temperature(model):
    with pytest.raises(HybridIRError, match="temperature must be in"):
        build_loss(model, temperature=0)
