"""convert: a parallel set becomes one passage-level BEIR folder per language, readable by the BEIR loader."""

from __future__ import annotations

import json

import pytest

from hybrid_core.cli import main
from hybrid_core.data import load_dataset
from hybrid_core.data.convert import convert_to_beir
from hybrid_core.data.mock import ARTICLES, tiny_parallel_dataset
from hybrid_core.errors import DataError
from tests.augment.conftest import mock_dir, mock_model  # noqa: F401  (shared fixtures)


def test_convert_mock_by_hand(tmp_path):
    ds = tiny_parallel_dataset()
    counts = convert_to_beir(ds, tmp_path / "out")
    assert counts == {
        lang: {"folder": f"tiny-parallel-{lang}", "passages": 4, "queries": 6, "judgements": 6}
        for lang in ("de", "en", "fr")
    }
    de = load_dataset(tmp_path / "out" / "tiny-parallel-de")
    assert de.name == "tiny-parallel-de"  # the set's name is in the results' name: two sets' de never collide
    assert not de.parallel and de.languages == ["de"] and len(de.corpus) == 4
    first = " ".join(ARTICLES["de"][0][1][0])  # the Danube's first paragraph, sentences joined
    assert de.corpus.set_index("id").loc["de:0:0", "text"] == first
    assert de.qrels["q1"] == {"de:0:0": 1}  # "Wo entspringt die Donau?" -> the paragraph holding the answer
    rec = json.loads(
        (tmp_path / "out" / "tiny-parallel-de" / "queries.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert rec == {"_id": "q1", "text": "Wo entspringt die Donau?", "language": "de"}
    meta = json.loads((tmp_path / "out" / "convert.json").read_text())
    assert meta["source"] == "tiny-parallel" and meta["with_titles"] is False
    with pytest.raises(DataError, match="exist; pass --force"):
        convert_to_beir(ds, tmp_path / "out")
    convert_to_beir(ds, tmp_path / "out", with_titles=True, force=True)
    assert (
        load_dataset(tmp_path / "out" / "tiny-parallel-en")
        .corpus.set_index("id")
        .loc["en:0:0", "text"]
        .startswith("Danube ")
    )
    with pytest.raises(DataError, match="parallel"):
        convert_to_beir(de, tmp_path / "again")


def test_convert_then_evaluate_cli(mock_dir, mock_model, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "beir"
    assert main(["convert", "--data", str(mock_dir), "--out", str(out)]) == 0
    assert "4 passages, 6 queries" in capsys.readouterr().out
    runs = tmp_path / "runs"
    argv = [
        "evaluate",
        "--model",
        str(mock_model),
        "--run",
        "p",
        "--data",
        str(out / f"{mock_dir.name}-fr"),
        "--runs-dir",
        str(runs),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for metric in ("ndcg@10", "recall@100", "mrr@10"):
        assert metric in printed
    from hybrid_core.runs import RunStore

    summary = RunStore(runs).get("p").summary(f"{mock_dir.name}-fr")
    assert summary["macro"]["multi"]["recall@100"] == 1.0  # 4 passages: every answer is in the top 100


def test_train_from_a_converted_beir_folder(mock_model, tmp_path):  # noqa: F811
    """Query-positive pairs come from the qrels: a BEIR folder trains like any other data spec (mono pairs)."""
    from hybrid_core.training.samplers import build_pairs
    from hybrid_core.training.trainer import TrainConfig, read_log, train

    convert_to_beir(tiny_parallel_dataset(), tmp_path / "beir")
    folder = tmp_path / "beir" / "tiny-parallel-de"
    pairs = build_pairs(load_dataset(folder)).pairs
    assert len(pairs) == 6 and set(pairs["passage_id"]) <= {f"de:{a}:{p}" for a in (0, 1) for p in (0, 1)}
    cfg = TrainConfig(model=str(mock_model), train_data=str(folder), sampler="x-x-mono", steps=2, batch_size=4)
    run = train(cfg, "beir-train", progress=False, log=lambda *a: None)
    assert [r["language"] for r in read_log(run)] == ["de", "de"]
