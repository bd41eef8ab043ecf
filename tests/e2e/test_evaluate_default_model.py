"""End to end: the real default model evaluated on a real XQuAD-R slice through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from hybrid_core.paths import embeddings_dir
from hybrid_core.runs import RunStore

REPO = Path(__file__).resolve().parents[2]
SLICE = ["--data", "xquad-r", "--languages", "en", "de", "zh", "--max-questions", "40", "--seed", "1"]

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def _cli(*args, runs: Path):
    env = {**os.environ, "HYBRID_IR_RUNS": str(runs)}
    return subprocess.run(
        [sys.executable, "-m", "hybrid_core", *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=900
    )


def test_evaluate_slice_then_reuse(tmp_path):
    runs = tmp_path / "runs"
    first = _cli("evaluate", "--run", "e5-slice", *SLICE, runs=runs)
    assert first.returncode == 0, first.stderr[-2000:]
    run = RunStore(runs).get("e5-slice")
    (name,) = run.datasets()
    summary = run.summary(name)
    macro = summary["macro"]
    # multilingual-e5-small is a strong zero-shot retriever: far above chance on every kind
    assert macro["mono"]["map"] > 0.6
    assert macro["cross"]["map"] > 0.4
    assert 0.2 < macro["multi"]["map"] < macro["mono"]["map"]
    assert summary["bias"]["rank_distance"]["macro"] > 0
    per_query = run.per_query(name)
    assert set(per_query["kind"]) == {"mono", "cross", "multi"}
    assert per_query.groupby("setting").size().to_dict()["en->de"] == 40
    assert len(summary["settings"]) == 3 + 6 + 3

    # a second run of the same model on the same data encodes nothing new
    shards_before = set(embeddings_dir().rglob("shard-*.npz"))
    second = _cli("evaluate", "--run", "e5-slice-again", *SLICE, runs=runs)
    assert second.returncode == 0, second.stderr[-2000:]
    assert set(embeddings_dir().rglob("shard-*.npz")) == shards_before
    again = RunStore(runs).get("e5-slice-again").summary(name)
    for kind, values in macro.items():
        assert again["macro"][kind] == pytest.approx(values)

    # and the same run is not recomputed at all
    third = _cli("evaluate", "--run", "e5-slice", *SLICE, runs=runs)
    assert third.returncode == 0 and "not recomputed" in third.stdout

    # export: CSV tables and a TREC run
    out = tmp_path / "exports"
    exp = _cli("export", "--run", "e5-slice", "--format", "csv", "--out", str(out), *SLICE, runs=runs)
    assert exp.returncode == 0, exp.stderr[-2000:]
    table = pd.read_csv(out / f"e5-slice-{name}-summary.csv", index_col=0)
    assert table.loc["mono", "map"] == pytest.approx(macro["mono"]["map"])
    exp = _cli("export", "--run", "e5-slice", "--setting", "en->de", "--out", str(out), *SLICE, runs=runs)
    assert exp.returncode == 0, exp.stderr[-2000:]
    lines = (out / name / "en_to_de.run").read_text().splitlines()
    assert len(lines) == 40 * min(100, summary["data"]["candidates_per_language"]["de"])
