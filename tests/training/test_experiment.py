"""The experiment: three arms from one start, the untrained model, one table; re-running reuses the runs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from hybrid_core.errors import HybridIRError
from hybrid_core.experiment import experiment_config, load_preset, paper_checks, run_experiment, to_markdown
from hybrid_core.runs import RunStore


@pytest.fixture
def preset(tmp_path, tiny_model_dir, synthetic_dir):
    p = tmp_path / "mini.json"
    p.write_text(
        json.dumps(
            {
                "description": "tiny",
                "train": {
                    "model": str(tiny_model_dir),
                    "train_data": str(synthetic_dir),
                    "train_split": "train",
                    "split_test_fraction": 0.2,
                    "steps": 3,
                    "batch_size": 8,
                    "warmup_steps": 1,
                    "checkpoint_every": 0,
                },
                "arms": [
                    {"label": "x-x-mono", "sampler": "x-x-mono"},
                    {"label": "x-y", "sampler": "x-y"},
                    {"label": "hybrid-0.5", "sampler": "hybrid", "alpha": 0.5},
                ],
                "eval_data": [str(synthetic_dir), f"{synthetic_dir}:test"],
                "eval_max_questions": 10,
                "eval_seed": 0,
            }
        )
    )
    return p


def test_experiment_table_and_files(preset, tmp_path):
    cfg = experiment_config(str(preset), "mini")
    lines: list[str] = []
    table, folder = run_experiment(cfg, out_dir=tmp_path / "exp", progress=False, log=lines.append)
    assert table["arm"].tolist() == ["untrained", "x-x-mono", "x-y", "hybrid-0.5"]
    sets = ["synth-q10-s0", "synth-test-q10-s0"]
    for ds in sets:
        for col in ("mono mAP", "cross mAP", "multi mAP", "RD"):
            assert table[f"{ds} {col}"].notna().all()
    assert (folder / "table.csv").is_file() and (folder / "table.md").is_file()
    md = (folder / "table.md").read_text()
    assert "seeded sample of 10 question ids" in md and "| hybrid-0.5 |" in md
    assert pd.read_csv(folder / "table.csv")["arm"].tolist() == table["arm"].tolist()
    # whole-job progress: the marks of every stage (base evaluation, then train + evaluate per arm) only grow
    from hybrid_core.progress import parse_progress_line

    fractions = [f for f in (parse_progress_line(str(m)) for m in lines) if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    store = RunStore()
    runs = {r.name: r.info for r in store.list()}
    assert set(runs) == {"mini-base", "mini-x-x-mono", "mini-x-y", "mini-hybrid-0.5"}
    # same start, seed and budget; only the sampler differs
    cfgs = [runs[f"mini-{a}"]["config"] for a in ("x-x-mono", "x-y", "hybrid-0.5")]
    for key in ("model", "seed", "steps", "batch_size", "lr", "train_data", "train_split"):
        assert len({json.dumps(c[key]) for c in cfgs}) == 1
    assert [c["sampler"] for c in cfgs] == ["x-x-mono", "x-y", "hybrid"]
    # re-running reuses finished runs and results on disk
    lines.clear()
    again, _ = run_experiment(cfg, out_dir=tmp_path / "exp", progress=False, log=lines.append)
    assert sum("trained already" in str(m) for m in lines) == 3
    pd.testing.assert_frame_equal(again, table)
    assert len(json.loads((folder / "experiment.json").read_text())["invocations"]) == 2
    # but not when the options changed since
    changed = experiment_config(str(preset), "mini", lr=1e-4)
    with pytest.raises(HybridIRError, match=r"'mini-x-x-mono' was trained with other options \(lr: 3e-05 -> 0.0001"):
        run_experiment(changed, out_dir=tmp_path / "exp", progress=False, log=lines.append)


def test_int8_experiment_shares_the_trained_runs_and_keeps_its_tables_apart(preset, tmp_path, monkeypatch):
    import dataclasses

    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    cfg = experiment_config(str(preset), "mini")
    fp32, folder32 = run_experiment(cfg, progress=False, log=lambda *_: None)
    lines: list[str] = []
    int8, folder8 = run_experiment(
        dataclasses.replace(cfg, eval_precision="int8"), progress=False, log=lambda m: lines.append(str(m))
    )
    assert (folder32.name, folder8.name) == ("mini", "mini-int8")
    assert sum("trained already" in m for m in lines) == 3  # nothing is trained again
    assert "int8 encoding" in (folder8 / "table.md").read_text()
    assert "fp32 encoding" in (folder32 / "table.md").read_text()
    run = RunStore().get("mini-hybrid-0.5")
    assert sorted(run.datasets()) == sorted(
        ["synth-q10-s0", "synth-test-q10-s0", "synth-q10-s0-int8", "synth-test-q10-s0-int8"]
    )
    assert run.summary("synth-q10-s0-int8")["precision"] == "int8"
    # the table reads the int8 results (not the fp32 ones read back), which stay close to fp32
    row = int8.set_index("arm").loc["hybrid-0.5"]
    assert row["synth-q10-s0 multi mAP"] == run.summary("synth-q10-s0-int8")["macro"]["multi"]["map"]
    cols = [c for c in fp32.columns if c.endswith("mAP")]
    assert (int8[cols] - fp32[cols]).abs().to_numpy().max() < 0.25
    with pytest.raises(HybridIRError, match="eval_precision 'int4' is not one of fp32, int8"):
        bad = json.loads(preset.read_text()) | {"eval_precision": "int4"}
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        experiment_config(str(tmp_path / "bad.json"))


def test_paper_checks_by_hand():
    t = pd.DataFrame(
        [
            {"arm": "m", "d mono mAP": 0.8, "d cross mAP": 0.6, "d multi mAP": 0.5, "d RD": 400.0},
            {"arm": "x", "d mono mAP": 0.7, "d cross mAP": 0.7, "d multi mAP": 0.6, "d RD": 300.0},
            {"arm": "h", "d mono mAP": 0.8, "d cross mAP": 0.7, "d multi mAP": 0.6, "d RD": 290.0},
        ]
    )
    assert paper_checks(t, "h", "m", "x") == [
        "d: cross >= X-X-mono yes, multi >= X-X-mono yes, mono >= X-Y yes, RD < X-X-mono yes"
    ]
    assert to_markdown(t).splitlines()[2] == "| m | 0.800 | 0.600 | 0.500 | 400.0 |"


def test_presets_load_and_bad_presets():
    quick = experiment_config("quick")
    assert quick.train.steps <= 150 and quick.train.freeze_word_embeddings and quick.eval_max_questions
    paper = experiment_config("paper")
    assert (paper.train.batch_size, paper.train.lr, paper.train.weight_decay) == (100, 3e-5, 0.01)
    assert [a.sampler for a in paper.arms] == ["x-x-mono", "x-y", "hybrid"]
    with pytest.raises(HybridIRError, match="unknown preset 'fast'; available: paper, quick"):
        load_preset("fast")
    with pytest.raises(HybridIRError, match=r"alpha must be a probability"):
        experiment_config("quick", alpha=2.0)


def test_leaking_preset_is_refused(tmp_path):
    bad = tmp_path / "leaky.json"
    bad.write_text(json.dumps({"train": {"train_data": "mlqa-r", "train_split": "all"}, "eval_data": ["mlqa-r:test"]}))
    with pytest.raises(HybridIRError, match="leaks its test questions"):
        experiment_config(str(bad))


def test_command_line_overrides_are_named_in_the_description(preset) -> None:
    from hybrid_core.experiment import with_overrides

    cfg = experiment_config(str(preset), "mini")
    assert with_overrides(cfg) == cfg  # nothing changed: the preset's words stand
    whole = with_overrides(cfg, {"steps": 7}, eval_max_questions=0, precision="int8")
    assert whole.eval_max_questions is None and whole.eval_precision == "int8"
    assert whole.description.startswith(cfg.description)
    assert "Changed on the command line: steps 7, whole sets, int8 encoding" in whole.description
    assert "a 20-question sample" in with_overrides(cfg, eval_max_questions=20).description
