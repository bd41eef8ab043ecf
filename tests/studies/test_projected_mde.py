"""The dry run's MDE projection from a finished size: questions and seeds scale their own SE parts."""

from __future__ import annotations

import math

import pandas as pd

from hybrid_core.analysis import stats
from hybrid_core.studies.plan import Plan, projected_mde
from hybrid_core.studies.spec import load_study
from tests.studies.conftest import tiny_study_text


def _plan(datasets: list[dict]) -> Plan:
    return Plan("tiny", "quick", "tiny.toml", [], datasets, [], {})


def _pilot(folder, **cols) -> None:
    folder.mkdir(parents=True)
    row = {"dataset": "toy-q10-s0", "slice": "all", "kind": "multi", "metric": "map", "n_questions": 10}
    pd.DataFrame([row | cols, row | cols]).to_csv(folder / "results.csv", index=False)


def test_projection_scales_question_and_seed_parts(tmp_path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_study_text(tmp_path / "model", tmp_path / "data").replace("seeds = [0]", "seeds = [0, 1]"))
    spec = load_study(path, "quick")
    plan = _plan([{"name": "toy", "questions": 40}])
    m = 4 * (len(spec.arms) - 1)
    # a finished size with 4 seeds: question SE .02 on 10 questions, seed SE .01 over 4 seeds
    _pilot(tmp_path / "studies" / "tiny" / "medium", se=0.03, se_questions=0.02, se_seeds=0.01, n_seeds=4)
    (line,) = projected_mde(spec, plan, tmp_path / "studies")
    sd = 0.01 * math.sqrt(4 / 2)  # se_seeds^2 = 2 sd^2 / k
    se_q = 0.02 * math.sqrt(10 / 40)
    assert line.startswith(f"toy: {stats.seed_aware_mde(se_q, 40, sd, 2, m=m):.4f} (m = {m} comparisons")
    assert f"seed SD {sd:.4f} over 4 seeds" in line
    need = stats.seeds_for_mde(0.01, se_q, 40, sd, m=m)
    assert need is None and "out of reach" in line  # question SE .01 alone is already above the target
    # a small question SE: the seeds decide, and the line says how many reach the target
    pd.read_csv(tmp_path / "studies" / "tiny" / "medium" / "results.csv").assign(se_questions=0.002).to_csv(
        tmp_path / "studies" / "tiny" / "medium" / "results.csv", index=False
    )
    (line,) = projected_mde(spec, plan, tmp_path / "studies")
    need = stats.seeds_for_mde(0.01, 0.002 * math.sqrt(10 / 40), 40, sd, m=m)
    assert need and need > 2 and line.endswith(f"MDE 0.01 needs {need} seeds per arm)")
    # a one-seed size (older results without the seed columns): the question part only, said out loud
    (tmp_path / "studies" / "tiny" / "medium" / "results.csv").unlink()
    (tmp_path / "studies" / "tiny" / "medium").rmdir()
    _pilot(tmp_path / "studies" / "tiny" / "other", se=0.02, n_seeds=1)
    (line,) = projected_mde(spec, plan, tmp_path / "studies")
    assert line.startswith(f"toy: {stats.mde(0.02 * math.sqrt(10 / 40), m=m):.4f}")
    assert "question variance only" in line


def test_no_finished_size_says_so(tmp_path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_study_text(tmp_path / "model", tmp_path / "data"))
    spec = load_study(path, "quick")
    (line,) = projected_mde(spec, _plan([]), tmp_path / "none")
    assert "no finished size" in line
