"""A run trained with an evaluation set reaches Compare with its numbers (issue 8: one evaluation path)."""

from __future__ import annotations

from hybrid_core.runs import RunStore
from hybrid_core.training.trainer import TrainConfig, train
from tests.dashboard.helpers import app, no_exceptions
from tests.training.conftest import build_tiny_model, write_synthetic_lareqa


def test_trained_run_appears_on_compare_with_numbers(tmp_path, monkeypatch) -> None:
    data = write_synthetic_lareqa(tmp_path / "synth")
    model = build_tiny_model(tmp_path / "model")
    runs = tmp_path / "runs"
    monkeypatch.setenv("HYBRID_IR_RUNS", str(runs))
    cfg = TrainConfig(
        model=str(model),
        train_data=str(data),
        train_split="train",
        steps=3,
        batch_size=4,
        warmup_steps=1,
        checkpoint_every=0,
        eval_data=f"{data}:test",
        eval_max_questions=6,
    )
    train(cfg, "trained", progress=False, log=lambda *a: None)
    summary = RunStore(runs).get("trained").summary("synth-test-q6-s0")
    at = app("compare", compare_nboot=200, compare_nperm=500)
    no_exceptions(at)
    assert at.selectbox(key="compare_dataset").value == "synth-test-q6-s0"
    mono = at.dataframe[0].value
    assert list(mono.index) == ["trained"]
    assert mono.loc["trained", "map"].startswith(f"{summary['macro']['mono']['map']:.3f} [")
