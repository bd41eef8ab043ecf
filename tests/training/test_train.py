"""The trainer in-process on the tiny model: run folder, schedule, GradCache equivalence, bad input."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from safetensors.torch import load_file

from hybrid_core.errors import DataError, HybridIRError, RunError
from hybrid_core.runs import RunStore
from hybrid_core.training.samplers import SamplerError
from hybrid_core.training.trainer import TrainConfig, TrainConfigError, lr_at, read_log, train
from tests.numerics import assert_same_training

from .conftest import build_tiny_model


@pytest.fixture
def cfg(tiny_model_dir, synthetic_dir) -> TrainConfig:
    return TrainConfig(
        model=str(tiny_model_dir),
        train_data=str(synthetic_dir),
        sampler="hybrid",
        alpha=0.5,
        steps=12,
        batch_size=8,
        warmup_steps=2,
        checkpoint_every=5,
        keep_checkpoints=1,
        log_every=4,
    )


@pytest.fixture(scope="module")
def no_dropout_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny-nodrop"), dropout=0.0)


def test_train_writes_a_complete_run(cfg, synthetic_ds):
    run = train(cfg, "t1", progress=False, log=lambda *a: None)
    info = run.info
    assert info["kind"] == "train" and info["status"] == "done" and info["steps"] == 12
    assert info["model"] == str((run.path / "model").resolve())
    assert info["config"]["sampler"] == "hybrid" and info["config"]["alpha"] == 0.5
    assert info["config"]["base_model"] == cfg.model and info["config"]["train_data"] == cfg.train_data
    log = read_log(run)
    assert [r["step"] for r in log] == list(range(1, 13))
    assert all(len(r["question_ids"]) == 8 == len(set(r["question_ids"])) for r in log)
    assert {r["mode"] for r in log} <= {"x-x-mono", "x-y"}
    ckpts = sorted(p.name for p in (run.path / "checkpoints").iterdir())
    assert ckpts == ["step-10"]  # keep_checkpoints=1; no checkpoint at the last step (the model is final)
    state = json.loads((run.path / "checkpoints" / "step-10" / "trainer_state.json").read_text())
    assert state["step"] == 10 and state["sampler"]["step"] == 10
    # the trained model differs from the base, except the frozen word embeddings
    base = load_file(f"{cfg.model}/model.safetensors")
    new = load_file(str(run.path / "model" / "model.safetensors"))
    emb = "embeddings.word_embeddings.weight"
    assert torch.equal(base[emb], new[emb])
    assert not torch.equal(
        base["encoder.layer.0.attention.self.query.weight"], new["encoder.layer.0.attention.self.query.weight"]
    )
    # the saved model keeps the base model's max length, not the training truncation
    from sentence_transformers import SentenceTransformer

    assert SentenceTransformer(str(run.path / "model"), device="cpu").max_seq_length == 128
    # and evaluation loads it from run.json's model
    from hybrid_core.evaluation.run_eval import evaluate_run

    summaries = evaluate_run(run, [synthetic_ds], log=lambda *a: None)
    assert 0 <= summaries["synth"]["macro"]["multi"]["map"] <= 1


def test_lr_schedule_by_hand():
    c = TrainConfig(lr=1.0, steps=10, warmup_steps=4)
    assert [round(lr_at(s, c), 4) for s in range(10)] == [
        0.25,
        0.5,
        0.75,
        1.0,
        1.0,
        0.8333,
        0.6667,
        0.5,
        0.3333,
        0.1667,
    ]
    assert lr_at(0, dataclasses.replace(c, warmup_steps=0)) == 1.0
    assert [lr_at(s, dataclasses.replace(c, steps=2, warmup_steps=100)) for s in range(2)] == [0.5, 1.0]


def test_gradcache_training_matches_plain(cfg, no_dropout_model):
    """Same steps with GradCache chunks of 2 texts: the same weights (dropout off, so exact up to float error)."""
    base = dataclasses.replace(cfg, model=str(no_dropout_model), steps=4, checkpoint_every=0, hard_negatives=True)
    plain = train(base, "plain", progress=False, log=lambda *a: None)
    cached = train(dataclasses.replace(base, mini_batch_size=2), "cached", progress=False, log=lambda *a: None)
    a = load_file(str(plain.path / "model" / "model.safetensors"))
    b = load_file(str(cached.path / "model" / "model.safetensors"))
    assert_same_training(a, b, start=load_file(str(no_dropout_model / "model.safetensors")))
    assert [r["loss"] for r in read_log(plain)] == pytest.approx([r["loss"] for r in read_log(cached)], rel=1e-4)


def _snapshot(root):
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"sampler": "mixed"}, SamplerError, "unknown sampler 'mixed'; choose one of x-x, x-x-mono, x-y, hybrid"),
        ({"alpha": 1.5}, SamplerError, r"alpha must be a probability in \[0, 1\], got 1.5"),
        ({"batch_size": 64}, SamplerError, "distinct question ids .* fewer than batch_size 64"),
        ({"train_languages": ("de", "th")}, DataError, r"\['th'\] have no training pairs"),
        ({"steps": 0}, TrainConfigError, "steps must be a positive integer"),
        ({"temperature": 0.0}, HybridIRError, r"temperature must be in \(0, 10\]"),
    ],
)
def test_bad_config_is_refused_before_anything_is_written(cfg, change, error, match):
    store = RunStore()
    before = _snapshot(store.root)
    with pytest.raises(error, match=match):
        train(dataclasses.replace(cfg, **change), "bad", progress=False, log=lambda *a: None)
    assert _snapshot(store.root) == before


def test_run_names_and_existing_runs(cfg):
    store = RunStore()
    with pytest.raises(RunError, match=r"invalid run name '\.\./x'"):
        train(cfg, "../x", progress=False)
    assert not (store.root.parent / "x").exists()
    with pytest.raises(RunError, match="cannot resume 'nope': no such run"):
        train(cfg, "nope", resume=True, progress=False)
    short = dataclasses.replace(cfg, steps=3, checkpoint_every=0)
    train(short, "once", progress=False, log=lambda *a: None)
    before = _snapshot(store.path("once"))
    with pytest.raises(RunError, match="already exists; pass --resume"):
        train(short, "once", progress=False)
    with pytest.raises(RunError, match="already finished training"):
        train(short, "once", resume=True, progress=False)
    with pytest.raises(TrainConfigError, match=r"config changed \(alpha: 0.5 -> 0.25; lr: 3e-05 -> 0.0001\)"):
        train(dataclasses.replace(short, lr=1e-4, alpha=0.25, log_every=1), "once", resume=True, progress=False)
    assert _snapshot(store.path("once")) == before


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(HybridIRError, match=r"unknown training option\(s\) \['lrate'\]"):
        TrainConfig.from_dict({"lrate": 1})
    assert TrainConfig.from_dict({"train_languages": ["de"], "base_model": "x"}).train_languages == ("de",)
