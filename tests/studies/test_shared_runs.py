"""Studies share runs trained with identical options (share_runs), and arms of several tables share a curve (series)."""

from __future__ import annotations

import pandas as pd
import pytest

from hybrid_core.runs import RunStore
from hybrid_core.studies.plan import build_plan
from hybrid_core.studies.runner import run_study
from hybrid_core.studies.spec import StudyError, load_study
from hybrid_core.studies.tables import read_results
from tests.studies.conftest import tiny_study_text

HYBRID = """
[[arm]]
name = "hybrid"
sampler = "hybrid"
alpha = 0.5
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_identical_arms_of_another_study_are_reused_not_retrained(tmp_path, tiny_model_dir, synthetic_dir) -> None:
    runs, out = tmp_path / "runs", tmp_path / "studies"
    quiet = {"runs_dir": runs, "out_root": out, "n_boot": 50, "n_perm": 50, "log": lambda *a: None}
    first = load_study(_write(tmp_path, "tiny", tiny_study_text(tiny_model_dir, synthetic_dir)), "quick")
    run_study(first, **quiet)
    store = RunStore(runs)
    before = {r.name for r in store.list()}
    x_y_log = (store.path("tiny-quick-x-y-s0") / "train_log.jsonl").read_text()

    text = tiny_study_text(tiny_model_dir, synthetic_dir, name="twin", extra_arms=HYBRID)
    second = load_study(_write(tmp_path, "twin", text), "quick")
    plan = build_plan(second, runs_dir=runs)
    cells = {c.arm: c for c in plan.cells}
    assert cells["x-y"].run == "tiny-quick-x-y-s0" and cells["x-y"].shared and cells["x-y"].state == "done"
    assert cells["x-x-mono"].run == "tiny-quick-x-x-mono-s0" and cells["x-x-mono"].shared
    assert cells["hybrid"].run == "twin-quick-hybrid-s0" and not cells["hybrid"].shared
    assert cells["hybrid"].state == "todo"
    # the merge follows its sources to the shared runs
    assert cells["soup-l0.5"].sources == ["tiny-quick-x-y-s0", "tiny-quick-x-x-mono-s0"]
    assert "shared: identical options" in plan.describe()

    logs: list[str] = []
    _, folder = run_study(second, **{**quiet, "log": logs.append})
    new = {r.name for r in store.list()} - before
    assert new == {"twin-quick-base", "twin-quick-hybrid-s0", "twin-quick-soup-l0.5-s0"}
    assert (store.path("tiny-quick-x-y-s0") / "train_log.jsonl").read_text() == x_y_log  # not trained again
    assert "tiny-quick-x-y-s0: trained already" in "\n".join(logs)
    # the shared arm's numbers are the same in both studies' tables
    a = read_results(out / "tiny" / "quick")
    b = read_results(folder)
    cols = ["dataset", "slice", "kind", "metric", "value"]
    pick = (a["arm"] == "x-y") & (a["slice"] == "all")
    pd.testing.assert_frame_equal(
        a.loc[pick, cols].reset_index(drop=True),
        b.loc[(b["arm"] == "x-y") & (b["slice"] == "all"), cols].reset_index(drop=True),
    )


def test_no_sharing_when_any_option_differs_or_sharing_is_off(tmp_path, tiny_model_dir, synthetic_dir) -> None:
    runs = tmp_path / "runs"
    first = load_study(_write(tmp_path, "tiny", tiny_study_text(tiny_model_dir, synthetic_dir)), "quick")
    run_study(first, runs_dir=runs, out_root=tmp_path / "studies", n_boot=20, n_perm=20, log=lambda *a: None)

    longer = tiny_study_text(tiny_model_dir, synthetic_dir, name="longer", steps=7)
    plan = build_plan(load_study(_write(tmp_path, "longer", longer), "quick"), runs_dir=runs)
    assert not any(c.shared for c in plan.cells)
    assert {c.run for c in plan.cells if c.kind == "train"} == {"longer-quick-x-y-s0", "longer-quick-x-x-mono-s0"}

    off = tiny_study_text(tiny_model_dir, synthetic_dir, name="off").replace(
        'baseline = "x-y"', 'baseline = "x-y"\nshare_runs = false'
    )
    plan = build_plan(load_study(_write(tmp_path, "off", off), "quick"), runs_dir=runs)
    assert not any(c.shared for c in plan.cells) and all(c.state == "todo" for c in plan.cells if c.kind == "train")


def test_series_puts_arms_of_several_tables_on_one_curve(tmp_path, tiny_model_dir, synthetic_dir) -> None:
    text = tiny_study_text(tiny_model_dir, synthetic_dir, extra_arms=HYBRID.replace("alpha = 0.5", "alpha = [0.25]"))
    text = text.replace('name = "x-y"\nsampler = "x-y"', 'name = "x-y"\nsampler = "x-y"\nseries = "hybrid"')
    spec = load_study(_write(tmp_path, "s", text), "quick")
    arms = {a.label: a for a in spec.arms}
    assert (arms["x-y"].series, arms["x-y"].axis) == ("hybrid", 0.0)
    assert (arms["hybrid-a0.25"].series, arms["hybrid-a0.25"].axis) == ("hybrid", 0.25)
    assert (arms["x-x-mono"].series, arms["x-x-mono"].axis) == ("x-x-mono", 1.0)
    assert "series" not in arms["x-y"].options  # not a training option

    bad = text.replace('series = "hybrid"', "series = 3")
    with pytest.raises(StudyError, match=r"s\.toml: arm\[0\] \(x-y\)\.series: must be a non-empty string"):
        load_study(_write(tmp_path, "s", bad), "quick")
    bad = text.replace("share_runs", "x") + "\n"
    bad = bad.replace('baseline = "x-y"', 'baseline = "x-y"\nshare_runs = "yes"')
    with pytest.raises(StudyError, match=r"share_runs: must be true or false"):
        load_study(_write(tmp_path, "s", bad), "quick")


def test_int8_study_reuses_the_runs_and_keeps_fp32_results_apart(tmp_path, tiny_model_dir, synthetic_dir) -> None:
    import dataclasses

    runs, out = tmp_path / "runs", tmp_path / "studies"
    quiet = {"runs_dir": runs, "out_root": out, "n_boot": 50, "n_perm": 50, "log": lambda *a: None}
    path = _write(tmp_path, "tiny", tiny_study_text(tiny_model_dir, synthetic_dir))
    fp32 = load_study(path, "quick")
    assert fp32.precision == "fp32"
    _, folder32 = run_study(fp32, **quiet)
    tidy32 = read_results(folder32)

    int8 = dataclasses.replace(fp32, precision="int8")  # what `study --precision int8` does
    plan = build_plan(int8, runs_dir=runs)
    ds = plan.datasets[0]["name"]
    assert ds.endswith("-int8") and plan.datasets[0]["precision"] == "int8"
    assert all(c.state == "done" and c.evals_done == [] for c in plan.cells if c.kind == "train")
    assert "encoded in int8" in plan.describe()
    _, folder8 = run_study(int8, **quiet)
    assert folder8.name == "quick-int8" and folder32.name == "quick"
    store = RunStore(runs)
    run = store.get("tiny-quick-x-y-s0")
    assert sorted(run.datasets()) == sorted([ds.removesuffix("-int8"), ds])
    assert run.summary(ds)["precision"] == "int8"
    tidy8 = read_results(folder8)
    rows = tidy8[(tidy8["arm"] == "x-y") & (tidy8["slice"] == "all") & (tidy8["metric"] == "map")]
    for kind, value in zip(rows["kind"], rows["value"], strict=True):
        assert value == pytest.approx(run.summary(ds)["macro"][kind]["map"], abs=1e-12)
    pd.testing.assert_frame_equal(read_results(folder32), tidy32)  # the fp32 tables are untouched

    bad = path.read_text().replace('data = ["', 'precision = "int4"\ndata = ["')
    with pytest.raises(StudyError, match=r"eval\.precision: must be one of fp32, int8, got 'int4'"):
        load_study(_write(tmp_path, "bad", bad), "quick")
