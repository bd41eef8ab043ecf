"""The run store: safe names, no overwrites, corrupt folders reported, results reused."""

from __future__ import annotations

import pandas as pd
import pytest

from hybrid_core.errors import RunError
from hybrid_core.evaluation.evaluate import score_all, summarize
from hybrid_core.runs import RunStore, validate_name


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".hidden", "x" * 101, "a..b", "name with space"])
def test_bad_names_are_refused(bad):
    with pytest.raises(RunError, match="invalid run name"):
        validate_name(bad)


def test_create_refuses_overwrite(tmp_path):
    store = RunStore(tmp_path)
    run = store.create("r1", kind="evaluate", model="m")
    (run.path / "keep.txt").write_text("x")
    with pytest.raises(RunError, match="already exists"):
        store.create("r1", kind="evaluate", model="other")
    assert (run.path / "keep.txt").exists()
    assert store.get("r1").info["model"] == "m"


def test_results_roundtrip_and_fingerprint(tmp_path, toy):
    ds, q, c = toy
    store = RunStore(tmp_path)
    run = store.create("r1", kind="evaluate", model="m")
    per_query = score_all(ds, q, c)
    run.save_result(ds.name, per_query, {"data_fingerprint": ds.fingerprint(), **summarize(per_query, ds)})
    assert run.has_result("toy", ds.fingerprint())
    assert not run.has_result("toy", "other")
    assert run.per_query("toy").shape == per_query.shape
    table = store.table()
    assert table.loc[0, "toy mono map"] == pytest.approx(run.summary("toy")["macro"]["mono"]["map"])


def test_corrupt_runs_are_reported_not_fatal(tmp_path):
    store = RunStore(tmp_path)
    store.create("good", kind="evaluate", model="m")
    (tmp_path / "half").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{not json")
    table = store.table().set_index("name")
    assert pd.isna(table.loc["good", "error"])
    assert "run.json is missing" in table.loc["half", "error"]
    assert "not valid JSON" in table.loc["broken", "error"]
