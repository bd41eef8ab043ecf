"""``evaluate-large`` on a tiny BEIR folder with a tiny random model: same numbers as the in-memory path,
resumable shards, approximate indexes, bad folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hybrid_core.cli import main
from hybrid_core.data.beir import load_beir
from hybrid_core.evaluation.large_eval import corpus_store, evaluate_large_run, scan_beir
from hybrid_core.evaluation.run_eval import evaluate_model_as_run
from hybrid_core.runs import RunStore
from tests.tiny_model import save_tiny_st

WORDS = [
    "red",
    "green",
    "blue",
    "house",
    "river",
    "stone",
    "bird",
    "tree",
    "rot",
    "grün",
    "blau",
    "haus",
    "fluss",
    "stein",
    "vogel",
    "baum",
]
N_DOCS = 30
METRICS = ["map", "ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10"]
TOL = 8 * np.finfo(np.float64).eps  # metrics lie in [0, 1] and come from the same integer ranks


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> str:
    return str(save_tiny_st(tmp_path_factory.mktemp("st") / "tiny", WORDS, max_seq_length=32))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))


def write_beir(folder: Path, n_docs: int = N_DOCS) -> Path:
    """en + de passages of random words; 8 queries, some with relevant passages in both languages, graded."""
    rng = np.random.default_rng(0)
    en, de = WORDS[:8], WORDS[8:]
    docs = []
    for i in range(n_docs):
        lang, words = ("en", en) if i % 2 == 0 else ("de", de)
        docs.append({"_id": f"d{i}", "title": "", "text": " ".join(rng.choice(words, 6)), "language": lang})
    queries = [{"_id": f"q{j}", "text": " ".join(rng.choice(WORDS, 3)), "language": "en" if j < 5 else "de"}
               for j in range(8)]  # fmt: skip
    qrels = ["query-id\tcorpus-id\tscore"]
    for j in range(8):
        for d in rng.choice(n_docs, 1 + j % 3, replace=False):
            qrels.append(f"q{j}\td{d}\t{1 + (d % 2)}")
    qrels.append(f"q0\td{n_docs - 1}\t0")  # judged non-relevant: dropped
    folder.mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    (folder / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def beir(tmp_path) -> Path:
    return write_beir(tmp_path / "tiny-beir")


def large(model, beir, run_name="big", **kw):
    run, summaries = evaluate_model_as_run(
        model, [scan_beir(beir)], run_name=run_name, evaluate=evaluate_large_run, log=lambda *_: None, **kw
    )
    return run, next(iter(summaries.values()))


def test_exact_large_path_equals_in_memory_evaluation(model, beir):
    """One shard holding the whole corpus encodes the same texts in the same call as the in-memory path, so the
    embeddings are equal and the blocked pool ranks give the in-memory metrics, query by query."""
    mem_run, _ = evaluate_model_as_run(model, [load_beir(beir)], run_name="mem", kinds=("multi",), log=lambda *_: None)
    big_run, summary = large(model, beir, shard_rows=1024)
    want = mem_run.per_query("tiny-beir")
    got = big_run.per_query("tiny-beir")
    keys = ["setting", "kind", "query_language", "pool", "query_id", "question_id", "n_relevant"]
    pd.testing.assert_frame_equal(got[keys], want[keys], check_dtype=False)
    np.testing.assert_allclose(got[METRICS].to_numpy(), want[METRICS].to_numpy(), rtol=0, atol=TOL)
    mem = mem_run.summary("tiny-beir")
    for m in METRICS:
        assert summary["macro"]["multi"][m] == pytest.approx(mem["macro"]["multi"][m], abs=TOL)
    # extras of the large path: Recall@1000 (the whole pool here) and rank distance (relevant in en and de)
    assert (got["recall@1000"] == 1.0).all()
    assert (np.isfinite(got["rank_distance"]) == (got["n_relevant"] >= 2)).all()
    both = got.dropna(subset=["rank:en", "rank:de"])
    assert len(both) and (both["rank_distance"] >= (both["rank:de"] - both["rank:en"]).abs()).all()
    assert summary["bias"]["rank_distance"]["macro"] >= 0
    assert summary["data"]["candidates"] == N_DOCS and summary["index"]["kind"] == "exact"
    assert summary["data_fingerprint"].startswith("beir-large:")
    assert big_run.has_result("tiny-beir", summary["data_fingerprint"], ("multi",))


def test_shards_resume_after_the_last_one_is_lost(model, beir):
    """8 shards of 4; losing the last one (an interrupted encoding) re-encodes only it, with equal rows."""
    run, first = large(model, beir, shard_rows=4)
    assert first["index"]["shards"] == 8 and first["index"]["shards_encoded"] == 8
    from hybrid_core.models.loading import load_model

    m = load_model(model)
    store = corpus_store(m, run.info["model_fingerprint"], scan_beir(beir), "fp32", 4)
    before = store.rows(np.arange(N_DOCS))
    store.shards()[-1].unlink()
    run, again = large(model, beir, shard_rows=4, force=True)
    assert again["index"]["shards_encoded"] == 1
    np.testing.assert_array_equal(store.rows(np.arange(N_DOCS)), before)
    _, cached = large(model, beir, shard_rows=4)  # result on disk: nothing encoded, same summary
    assert cached["evaluated"] == again["evaluated"]


def test_killed_encoding_resumes_at_the_first_missing_shard(model, beir, tmp_path):
    """A process killed after its 3rd shard (kill point) leaves 3 shards; the rerun encodes the other 5."""
    env = {**os.environ, "HYBRID_IR_KILL_AT": "large:shard-written#3"}
    cmd = [sys.executable, "-m", "hybrid_core", "evaluate-large", "--data", str(beir), "--model", model,
           "--run", "k", "--shard-rows", "4"]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    killed = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -9, killed.stderr
    shards = list((tmp_path / "cache" / "large").glob("*/shard-*.npy"))
    assert len(shards) == 3
    assert main(cmd[3:]) == 0
    summary = RunStore().get("k").summary("tiny-beir")
    assert summary["index"]["shards_encoded"] == 5 and summary["index"]["shards"] == 8


def test_approximate_indexes(model, beir):
    """IVF probing every list returns the exact ranking (recall 1, same metrics); HNSW's recall is a share."""
    _, exact = large(model, beir, run_name="x", shard_rows=8)
    run, ivf = large(model, beir, run_name="x", shard_rows=8, index="ivf", k=N_DOCS, nlist=2, nprobe=2,
                     check_recall=True)  # fmt: skip
    assert ivf["dataset"] == "tiny-beir-ivf" and ivf["index"]["nlist"] == 2
    assert ivf["index"]["recall_vs_exact"] == {"@10": 1.0, f"@{N_DOCS}": 1.0}
    for m in ("ndcg@10", "recall@1", "recall@10", "mrr@10"):
        assert ivf["macro"]["multi"][m] == pytest.approx(exact["macro"]["multi"][m], abs=TOL)
    assert "map" not in ivf["macro"]["multi"] and "recall@100" not in ivf["macro"]["multi"]  # beyond k / pool-wide
    _, hnsw = large(model, beir, run_name="x", shard_rows=8, index="hnsw", k=10, check_recall=True)
    assert hnsw["dataset"] == "tiny-beir-hnsw" and set(hnsw["index"]["recall_vs_exact"]) == {"@10"}
    assert 0.0 <= hnsw["index"]["recall_vs_exact"]["@10"] <= 1.0
    assert set(run.datasets()) >= {"tiny-beir", "tiny-beir-ivf", "tiny-beir-hnsw"}


def test_cli_writes_a_run_result(model, beir, capsys):
    assert main(["evaluate-large", "--data", str(beir), "--model", model, "--run", "cli", "--shard-rows", "8"]) == 0
    out = capsys.readouterr().out
    assert "cli on tiny-beir" in out and "recall@1000" in out
    run = RunStore().get("cli")
    assert run.summary("tiny-beir")["n_queries"] == len(run.per_query("tiny-beir")) == 8


@pytest.mark.parametrize(
    ("break_it", "message"),
    [
        (lambda f: (f / "corpus.jsonl").unlink(), "corpus.jsonl: file not found"),
        (lambda f: (f / "qrels" / "test.tsv").unlink(), "qrels splits available: []"),
        (
            lambda f: (f / "corpus.jsonl").write_text('{"_id": "d0", "text": "red", "language": "en"}\nnot json\n'),
            "line 2 is not valid JSON",
        ),
        (lambda f: (f / "qrels" / "test.tsv").write_text("q0\tnowhere\t1\n"), "name ids absent"),
        (lambda f: (f / "corpus.jsonl").write_text('{"_id": "d0", "text": "red"}\n'), "has no language"),
    ],
)
def test_bad_folder_is_one_error_and_writes_nothing(model, beir, tmp_path, capsys, break_it, message):
    break_it(beir)
    assert main(["evaluate-large", "--data", str(beir), "--model", model, "--run", "bad"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not RunStore().exists("bad") and not (tmp_path / "cache" / "large").exists()


def test_option_errors(beir, capsys):
    assert main(["evaluate-large", "--data", str(beir / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["evaluate-large", "--data", str(beir), "--check-recall"]) == 2
    assert "--index ivf or hnsw" in capsys.readouterr().err
