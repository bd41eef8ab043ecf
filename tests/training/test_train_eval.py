"""Training ends in the one evaluation path: results/<data>/ like any run; bad or leaking eval data fails first."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hybrid_core.errors import DataError
from hybrid_core.jobs import parse_progress
from hybrid_core.runs import RunStore
from hybrid_core.training.trainer import (
    TrainConfig,
    TrainConfigError,
    default_train_split,
    read_log,
    train,
    validate_config,
)

from .conftest import run_cli


@pytest.fixture
def cfg(tiny_model_dir, synthetic_dir) -> TrainConfig:
    return TrainConfig(
        model=str(tiny_model_dir),
        train_data=str(synthetic_dir),
        train_split="train",
        train_languages=("en", "de"),
        steps=3,
        batch_size=4,
        warmup_steps=1,
        checkpoint_every=0,
        eval_data=f"{synthetic_dir}:test",
        eval_max_questions=5,
    )


def test_acceptance_command_leaves_results_and_a_listed_run(tmp_path, tiny_model_dir, synthetic_dir):
    """The issue's command on the tiny model and the synthetic set: train, then results/<set>-q10-s0/."""
    runs = tmp_path / "runs"
    argv = ["train", "--run", "t", "--steps", "3", "--batch-size", "4", "--languages", "en", "de"]
    argv += ["--eval-data", str(synthetic_dir), "--eval-max-questions", "10", "--model", str(tiny_model_dir)]
    argv += ["--warmup-steps", "1", "--runs-dir", str(runs)]
    out = run_cli(argv, env={"HYBRID_IR_EMBEDDINGS": str(tmp_path / "emb")})
    assert out.returncode == 0, out.stderr
    run = RunStore(runs).get("t")
    assert run.datasets() == ["synth-q10-s0"]
    summary = json.loads((run.path / "results" / "synth-q10-s0" / "summary.json").read_text())
    assert summary["data"]["questions"] == 10 and summary["model"] == run.info["model"]
    assert all(0 <= summary["macro"][k]["map"] <= 1 for k in ("mono", "cross", "multi"))
    assert (run.path / "results" / "synth-q10-s0" / "per_query.parquet").is_file()
    assert run.info["status"] == "done"
    table = RunStore(runs).table()
    row = table.set_index("name").loc["t"]
    assert row["synth-q10-s0 mono map"] == pytest.approx(summary["macro"]["mono"]["map"])
    # the whole-job progress lines: steps, then the evaluation stage; the last one says 4/4
    lines = out.stdout.splitlines()
    assert any(line.startswith("[3/4] t: step 3") for line in lines)
    assert parse_progress(lines) == 1.0


def test_final_evaluation_equals_a_later_evaluation_of_the_saved_model(cfg, tmp_path):
    """The in-memory model at the end (eval mode, base max length) scores as the saved folder does."""
    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.evaluation.run_eval import evaluate_run

    store = RunStore(tmp_path / "runs")
    run = train(cfg, "fin", runs_dir=str(store.root), progress=False, log=lambda *a: None)
    (name,) = run.datasets()
    assert name == "synth-test-q5-s0"
    stored = run.summary(name)
    ds = load_data_spec(cfg.eval_data, max_questions=5, sample_seed=0)
    again = evaluate_run(store.create("re", kind="evaluate", model=run.info["model"]), [ds], log=lambda *a: None)
    for kind in ("mono", "cross", "multi"):
        assert again[name]["macro"][kind]["map"] == pytest.approx(stored["macro"][kind]["map"], rel=1e-6)
    curve = [r for r in read_log(run) if r.get("event") == "eval"]
    assert [r["step"] for r in curve] == [3] and curve[0]["multi_map"] == round(stored["macro"]["multi"]["map"], 4)


def test_bad_eval_data_fails_before_any_step(cfg, tmp_path):
    store = RunStore(tmp_path / "runs")
    bad = dataclasses.replace(cfg, eval_data="no-such-set")
    with pytest.raises(DataError, match="no-such-set"):
        train(bad, "bad", runs_dir=str(store.root), progress=False, log=lambda *a: None)
    assert not store.path("bad").exists()  # nothing written: no run folder, no step


def test_leaking_combination_is_refused(cfg, synthetic_dir):
    leaking = dataclasses.replace(cfg, train_split="all")
    with pytest.raises(TrainConfigError, match="leaks its test questions"):
        validate_config(leaking)
    validate_config(cfg)  # the article-disjoint train part is fine
    validate_config(dataclasses.replace(leaking, eval_data=str(synthetic_dir)))  # no test part named: not refused
    assert default_train_split("mlqa-r:test") == "train"
    assert default_train_split("xquad-r") == "all" and default_train_split(None) == "all"
    with pytest.raises(TrainConfigError, match="leaks"):
        validate_config(TrainConfig(train_data="mlqa-r", train_split="all", eval_data="MLQA-R:test"))
