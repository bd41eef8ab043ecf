"""Training-query augmentation: changes queries, deterministic by (seed, step), resume-safe, bad specs refused."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from safetensors.torch import load_file

from hybrid_core.augment import AugmentError
from hybrid_core.augment.training import QueryAugmenter, build_augmenter
from hybrid_core.errors import HybridIRError
from hybrid_core.runs import RunStore
from hybrid_core.training.trainer import TrainConfig, train

from .test_train import cfg  # noqa: F401  (the shared tiny training config)


@pytest.fixture
def aug_cfg(cfg) -> TrainConfig:  # noqa: F811
    """test_train's tiny config, shorter, with checkpoints every 3 steps and query augmentation on."""
    return dataclasses.replace(
        cfg, steps=6, checkpoint_every=3, log_every=3, augment="noise=typos:0.3,casing:1", augment_prob=0.5
    )


def test_augmenter_share_and_determinism(tmp_path):
    aug = build_augmenter("noise=casing:1", prob=0.5, seed=0)
    texts = [f"Query Number {i}" for i in range(400)]
    out = aug(texts, ["en"] * 400, step=3)
    share = sum(o != t for o, t in zip(out, texts, strict=True)) / 400
    assert 0.4 < share < 0.6 and all(o in (t, t.lower()) for o, t in zip(out, texts, strict=True))
    assert aug(texts, ["en"] * 400, step=3) == out
    assert aug(texts[::-1], ["en"] * 400, step=3) == out[::-1]  # position in the batch does not matter
    assert aug(texts, ["en"] * 400, step=4) != out  # a new draw each step
    d = tmp_path / "en-de.txt"
    d.write_text("river\tFluss\n", encoding="utf-8")
    cs = build_augmenter(f"codeswitch=1@{d}", prob=1.0)
    assert cs(["the river", "the river"], ["en", "de"], 0) == ["the Fluss", "the river"]
    assert build_augmenter(None) is None


@pytest.mark.parametrize(
    ("spec", "prob", "match"),
    [
        ("noise=typos:2", 0.5, "outside"),
        ("nois=typos:0.1", 0.5, "is not one of noise, codeswitch"),
        ("codeswitch=0.3", 0.5, "needs dictionaries"),
        ("codeswitch=0.3@/nowhere/en-de.txt", 0.5, "not found"),
        ("noise=typos:0.1", 0.0, "augment_prob"),
    ],
)
def test_bad_augment_specs(spec, prob, match):
    with pytest.raises(AugmentError, match=match):
        build_augmenter(spec, prob)


def test_bad_spec_refused_before_anything_is_written(aug_cfg):
    store = RunStore()
    with pytest.raises(HybridIRError, match="outside"):
        train(dataclasses.replace(aug_cfg, augment="noise=typos:1.5"), "bad", progress=False, log=lambda *a: None)
    assert not store.exists("bad")


def test_training_augments_queries_and_resumes_identically(aug_cfg, monkeypatch):
    cfg = aug_cfg  # noqa: F811
    seen: list[tuple[int, list[str], list[str]]] = []
    original = QueryAugmenter.__call__

    def spy(self, texts, languages, step):
        out = original(self, texts, languages, step)
        seen.append((step, list(texts), out))
        return out

    monkeypatch.setattr(QueryAugmenter, "__call__", spy)
    quiet = {"progress": False, "log": lambda *a: None}
    full = train(cfg, "full", **quiet)
    assert [s for s, _, _ in seen] == list(range(6))
    changed = sum(a != b for _, ins, outs in seen for a, b in zip(ins, outs, strict=True))
    assert 0 < changed < 6 * 8
    first = list(seen)

    def crash_at_4(self, texts, languages, step):
        if step == 4:
            raise KeyboardInterrupt
        return spy(self, texts, languages, step)

    seen.clear()
    monkeypatch.setattr(QueryAugmenter, "__call__", crash_at_4)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, "cut", **quiet)
    monkeypatch.setattr(QueryAugmenter, "__call__", spy)
    cut = train(cfg, "cut", resume=True, **quiet)
    assert [s for s, _, _ in seen] == [0, 1, 2, 3, 3, 4, 5]  # resumed from the step-3 checkpoint
    assert seen[4][2] == first[3][2] and seen[-1][2] == first[-1][2]
    wa = load_file(str(full.path / "model" / "model.safetensors"))
    wb = load_file(str(cut.path / "model" / "model.safetensors"))
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=1e-5, atol=1e-7, msg=k)
    plain = train(dataclasses.replace(cfg, augment=None), "plain", **quiet)
    wp = load_file(str(plain.path / "model" / "model.safetensors"))
    assert any(not torch.equal(wp[k], wa[k]) for k in wa)  # augmentation changed what was learnt
