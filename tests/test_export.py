"""TREC export: a full-depth run file scored by pytrec_eval reproduces our numbers."""

from __future__ import annotations

import numpy as np
import pytest

from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.evaluate import score_all
from hybrid_core.evaluation.export import summary_table, write_table, write_trec
from hybrid_core.evaluation.settings import Setting, parse_setting


def _read_run(path):
    run: dict[str, dict[str, float]] = {}
    ranks: dict[str, dict[str, int]] = {}
    for line in path.read_text().splitlines():
        q, _, d, r, s, _ = line.split()
        run.setdefault(q, {})[d] = float(s)
        ranks.setdefault(q, {})[d] = int(r)
    return run, ranks


def test_full_depth_trec_reproduces_map_and_rank_distance(tmp_path, toy):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    ds, q, c = toy
    per_query = score_all(ds, q, c).set_index(["setting", "query_id"])
    for setting in (Setting("en", "de"), Setting("de", "multi")):
        run_path, qrels_path = write_trec(ds, setting, q, c, tmp_path, depth=None)
        run, ranks = _read_run(run_path)
        qrels: dict[str, dict[str, int]] = {}
        for line in qrels_path.read_text().splitlines():
            qid, _, d, g = line.split()
            qrels.setdefault(qid, {})[d] = int(g)
        assert all(len(v) == (60 if setting.pool == "de" else 180) for v in run.values())
        trec = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
        for qid, values in trec.items():
            assert values["map"] == pytest.approx(per_query.loc[(setting.name, qid), "map"], abs=1e-6)
            if setting.pool == "multi":
                rel_ranks = [ranks[qid][d] for d in qrels[qid]]
                assert max(rel_ranks) - min(rel_ranks) == per_query.loc[(setting.name, qid), "rank_distance"]


def test_ranks_are_one_based_and_ties_broken_by_id(tmp_path, toy):
    ds, q, c = toy
    c[:] = 1.0  # every candidate tied
    run_path, _ = write_trec(ds, Setting("en", "en"), q, c, tmp_path, depth=3)
    first = run_path.read_text().splitlines()[:3]
    assert [line.split()[2] for line in first] == ["en:0", "en:1", "en:10"]
    assert [line.split()[3] for line in first] == ["1", "2", "3"]


def test_tables_and_bad_setting(tmp_path, toy):
    ds, q, c = toy
    from hybrid_core.evaluation.evaluate import summarize

    summary = summarize(score_all(ds, q, c), ds)
    table = summary_table(summary)
    assert list(table.index) == ["mono", "cross", "multi"]
    tex = write_table(table, tmp_path / "t.tex").read_text()
    assert "\\begin{tabular}" in tex and "\\toprule" in tex and "rank\\_distance" in tex
    assert write_table(table, tmp_path / "t.csv").read_text().startswith("kind,map")
    with pytest.raises(HybridIRError, match="not available"):
        parse_setting("en->xx", ds)
    with pytest.raises(HybridIRError, match="should look like"):
        parse_setting("en", ds)
    assert np.isfinite(table.loc["multi", "rank_distance"])
