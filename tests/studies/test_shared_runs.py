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
