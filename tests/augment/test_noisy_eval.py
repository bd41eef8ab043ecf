"""Noisy evaluation: perturbed queries, untouched candidates, a named result folder holding the scored texts."""

from __future__ import annotations

import pandas as pd

from hybrid_core.augment.perturb import noisy_name, perturb_queries, query_texts_table
from hybrid_core.cli import main
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.runs import RunStore


def test_perturb_queries_keeps_candidates_and_ids():
    ds = tiny_parallel_dataset()
    noisy = perturb_queries(ds, "typos:0.2,casing:1", seed=1)
    assert noisy.name == "tiny-parallel-noise-typos0.2-casing1-seed1"
    assert noisy.corpus is ds.corpus and noisy.qrels is ds.qrels
    assert noisy.queries["id"].tolist() == ds.queries["id"].tolist()
    assert (noisy.queries["text"] != ds.queries["text"]).mean() > 0.5
    assert all(t == t.lower() for t in noisy.queries["text"])
    again = perturb_queries(ds.subset(languages=["de"]), "typos:0.2,casing:1", seed=1)
    de = noisy.queries[noisy.queries["language"] == "de"]["text"].tolist()
    assert again.queries["text"].tolist() == de  # independent of which other queries are in the set
    table = query_texts_table(ds, noisy)
    assert table["changed"].sum() == (noisy.queries["text"] != ds.queries["text"]).sum()


def test_evaluate_with_noise_cli(mock_dir, mock_model, tmp_path, capsys):
    runs = tmp_path / "runs"
    argv = ["evaluate", "--model", str(mock_model), "--run", "noisy", "--data", str(mock_dir), "--runs-dir", str(runs)]
    assert main([*argv, "--noise", "typos:0.1,diacritics:1.0", "--noise-seed", "0"]) == 0
    name = noisy_name("mock", "typos:0.1,diacritics:1.0", 0)
    run = RunStore(runs).get("noisy")
    assert run.datasets() == [name]
    summary = run.summary(name)
    assert summary["n_queries"] == 18 and "ndcg@10" in summary["macro"]["mono"]
    texts = pd.read_parquet(run.result_dir(name) / "queries.parquet")
    assert len(texts) == 18 and texts["changed"].any()
    de = texts.set_index("query_id").loc["de:q2"]
    assert "ü" not in de["text"] and de["clean_text"] != de["text"]


def test_evaluate_bad_noise_spec_writes_nothing(mock_dir, tmp_path, capsys):
    runs = tmp_path / "runs"
    code = main(["evaluate", "--data", str(mock_dir), "--runs-dir", str(runs), "--noise", "typos:2"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: noise spec 'typos:2'") and "outside [0, 1]" in err
    assert not runs.exists()
