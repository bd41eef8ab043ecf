"""Ablation grouping: one-factor groups, effective α, replicate seeds averaged, the tidy sweep table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis import ablations
from hybrid_core.evaluation.evaluate import score_all, summarize
from hybrid_core.runs import RunStore
from tests.conftest import make_toy


def _frame(rows: dict) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index")


def test_find_groups_one_factor_and_replicates() -> None:
    f = _frame(
        {
            "a0": {"sampler": "x-y", "alpha": 0.0, "lr": 1e-5, "seed": 0},
            "a5": {"sampler": "hybrid", "alpha": 0.5, "lr": 1e-5, "seed": 0},
            "a5s1": {"sampler": "hybrid", "alpha": 0.5, "lr": 1e-5, "seed": 1},
            "a1": {"sampler": "x-x-mono", "alpha": 1.0, "lr": 1e-5, "seed": 0},
            "lr": {"sampler": "hybrid", "alpha": 0.5, "lr": 3e-5, "seed": 0},
            "xx": {"sampler": "x-x", "alpha": None, "lr": 1e-5, "seed": 0},
        }
    )
    assert ablations.find_groups(f, "alpha") == [["a0", "a1", "a5", "a5s1"]]
    assert ablations.find_groups(f, "lr") == [["a5", "a5s1", "lr"]]
    assert ablations.find_groups(f, "sampler") == [["a0", "a1", "a5", "a5s1", "xx"]]
    assert ablations.varying_keys(f) == ["alpha", "lr", "sampler"]
    assert ablations.find_groups(f, "seed") == [] or "seed" not in ablations.varying_keys(f)


def test_config_frame_uses_effective_alpha(tmp_path) -> None:
    store = RunStore(tmp_path)
    base = {"base_model": "e5"}  # as train.py records it; each run's own model folder differs
    store.create("xy", "train", "m1", {**base, "sampler": "x-y", "alpha": 0.0, "log_every": 5})
    store.create("mono", "train", "m2", {**base, "sampler": "x-x-mono", "alpha": 0.0, "log_every": 10})
    store.create("h", "train", "m3", {**base, "sampler": "hybrid", "alpha": 0.25})
    (tmp_path / "bad").mkdir()
    f = ablations.config_frame(store)
    assert f.loc["xy", "alpha"] == 0.0 and f.loc["mono", "alpha"] == 1.0 and f.loc["h", "alpha"] == 0.25
    assert "bad" not in f.index
    assert ablations.find_groups(f, "alpha") == [["h", "mono", "xy"]]  # log_every is bookkeeping


def test_sweep_values_and_replicate_average(tmp_path) -> None:
    ds, q, c = make_toy(seed=0)
    store = RunStore(tmp_path)
    rng = np.random.default_rng(1)
    pqs = {}
    for name, alpha, seed in (("a0", 0.0, 0), ("a1", 1.0, 0), ("a1s1", 1.0, 1)):
        pq = score_all(ds, q + rng.normal(0, 0.5, q.shape).astype(np.float32), c)
        pqs[name] = pq
        sampler = {0.0: "x-y", 1.0: "x-x-mono"}[alpha]
        store.create(
            name, "train", name, {"sampler": sampler, "alpha": 0.0, "seed": seed, "base_model": "e5"}
        ).save_result("toy", pq, summarize(pq, ds))
    t = ablations.sweep(["a0", "a1", "a1s1"], "alpha", "toy", store, n_boot=100)
    assert list(dict.fromkeys(t["alpha"])) == [0.0, 1.0]
    row0 = t[(t["alpha"] == 0.0) & (t["kind"] == "mono") & (t["metric"] == "map")].iloc[0]
    assert row0["value"] == pytest.approx(summarize(pqs["a0"], ds)["macro"]["mono"]["map"])
    assert row0["ci_low"] <= row0["value"] <= row0["ci_high"] and row0["runs"] == "a0"
    row1 = t[(t["alpha"] == 1.0) & (t["kind"] == "cross") & (t["metric"] == "map")].iloc[0]
    both = (summarize(pqs["a1"], ds)["macro"]["cross"]["map"] + summarize(pqs["a1s1"], ds)["macro"]["cross"]["map"]) / 2
    assert row1["value"] == pytest.approx(both) and row1["n_runs"] == 2
    wide = ablations.wide(t, "alpha", "map")
    assert list(wide.columns) == ["mono", "cross", "multi", "runs"] and wide.loc[1.0, "runs"] == "a1, a1s1"
    assert ablations.is_numeric([0.0, 1]) and not ablations.is_numeric(["x-y", 0.5])
