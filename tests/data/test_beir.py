"""BEIR folders: corpus.jsonl, queries.jsonl, qrels/<split>.tsv, with per-record or folder languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hybrid_core.data import load_beir, load_dataset
from hybrid_core.errors import DataError

CORPUS = [
    {"_id": "d1", "title": "Danube", "text": "The Danube rises in the Black Forest.", "language": "en"},
    {"_id": "d2", "title": "Donau", "text": "Die Donau entspringt im Schwarzwald.", "lang": "de"},
    {"_id": "d3", "title": "", "text": "Vienna lies on the Danube.", "language": "en"},
]
QUERIES = [
    {"_id": "q1", "text": "Where does the Danube rise?", "language": "en"},
    {"_id": "q2", "text": "Wo entspringt die Donau?", "language": "de"},
    {"_id": "q3", "text": "Unjudged query", "language": "en"},
]
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td3\t0\nq2\td2\t2\nq2\td1\t1\n"


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def make_beir(root: Path, corpus=CORPUS, queries=QUERIES, qrels=QRELS, split="test") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in (("corpus.jsonl", corpus), ("queries.jsonl", queries)):
        data = content if isinstance(content, (str, bytes)) else _jsonl(content)
        (root / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    (root / "qrels").mkdir(exist_ok=True)
    (root / "qrels" / f"{split}.tsv").write_text(qrels, encoding="utf-8")
    return root


def test_load_beir(tmp_path):
    ds = load_beir(make_beir(tmp_path / "mini"))
    assert ds.name == "mini" and not ds.parallel
    assert ds.queries["id"].tolist() == ["q1", "q2"]  # q3 has no judgement
    assert ds.qrels == {"q1": {"d1": 1}, "q2": {"d2": 2, "d1": 1}}  # score 0 dropped
    corpus = ds.corpus.set_index("id")
    assert corpus.loc["d1", "text"] == "Danube The Danube rises in the Black Forest."
    assert corpus.loc["d3", "text"] == "Vienna lies on the Danube."
    assert corpus["language"].tolist() == ["en", "de", "en"]
    assert corpus.loc["d2", "article"] == "Donau" and corpus.loc["d2", "paragraph"] == "d2"
    assert (ds.queries["question_id"] == ds.queries["id"]).all()


def test_language_argument_and_dispatch(tmp_path):
    strip = [{k: v for k, v in r.items() if k not in ("language", "lang")} for r in CORPUS]
    plain_q = [{k: v for k, v in r.items() if k != "language"} for r in QUERIES]
    folder = make_beir(tmp_path / "plain", corpus=strip, queries=plain_q)
    with pytest.raises(DataError, match=r"corpus\.jsonl: line 1: .*no language.*language=") as e:
        load_beir(folder)
    assert "corpus.jsonl" in str(e.value)
    assert set(load_beir(folder, language="fr").corpus["language"]) == {"fr"}
    ds = load_dataset(str(folder), languages=["de"])
    assert ds.languages == ["de"] and len(ds.queries) == 2
    with pytest.raises(DataError, match=r"mixed: no data in language"):
        load_dataset(str(make_beir(tmp_path / "mixed")), languages=["fr"])


def test_other_split(tmp_path):
    folder = make_beir(tmp_path / "s", split="dev")
    with pytest.raises(DataError, match=r"test\.tsv: file not found; qrels splits available: \['dev'\]"):
        load_beir(folder)
    assert len(load_beir(folder, split="dev").queries) == 2


@pytest.mark.parametrize(
    ("kwargs", "file", "problem"),
    [
        ({"corpus": b""}, "corpus.jsonl", "file is empty"),
        ({"corpus": _jsonl(CORPUS[:1]) + "{bad json\n"}, "corpus.jsonl", "line 2 is not valid JSON"),
        ({"corpus": _jsonl(CORPUS[:1]).encode() + b"\xc3\x28"}, "corpus.jsonl", "not valid UTF-8 .*byte offset"),
        ({"corpus": _jsonl(CORPUS[:1]) + "[1, 2]\n"}, "corpus.jsonl", "line 2 is not a JSON object"),
        ({"corpus": _jsonl([CORPUS[0], CORPUS[0]])}, "corpus.jsonl", "line 2: duplicate _id 'd1'"),
        ({"corpus": _jsonl([{"_id": "d1", "title": "x"}])}, "corpus.jsonl", 'line 1: "text" is missing'),
        ({"corpus": _jsonl([{"text": "x", "language": "en"}])}, "corpus.jsonl", 'line 1 has no "_id"'),
        ({"corpus": _jsonl([{**CORPUS[0], "language": "EN"}])}, "corpus.jsonl", "invalid language 'EN'"),
        ({"queries": _jsonl([{**QUERIES[0], "language": "qq"}])}, "queries.jsonl", "unknown language code 'qq'"),
        ({"qrels": "query-id\tcorpus-id\tscore\nq1 d1 1\n"}, "test.tsv", "line 2: expected 3 tab-separated"),
        ({"qrels": "query-id\tcorpus-id\tscore\nq1\td1\thigh\n"}, "test.tsv", "line 2: score 'high' is not a number"),
        ({"qrels": "query-id\tcorpus-id\tscore\nq1\td1\t0\n"}, "test.tsv", "no positive judgement"),
        ({"qrels": ""}, "test.tsv", "file is empty"),
    ],
)
def test_bad_input(tmp_path, kwargs, file, problem):
    folder = make_beir(tmp_path / "bad", **kwargs)
    with pytest.raises(DataError, match=problem) as e:
        load_beir(folder)
    assert file in str(e.value)


def test_unknown_ids_in_qrels_are_an_error(tmp_path):
    folder = make_beir(tmp_path / "u", qrels=QRELS + "q9\td1\t1\nq1\td9\t1\n")
    with pytest.raises(DataError, match=r"test\.tsv: 2 judgement\(s\) name ids absent from corpus.jsonl"):
        load_beir(folder)


@pytest.mark.parametrize("score", ["0.5", "inf", "-inf", "nan", "1e400", "2.25"])
def test_non_integer_grades_are_an_error(tmp_path, score):
    folder = make_beir(tmp_path / "g", qrels=QRELS + f"q1\td2\t{score}\n")
    with pytest.raises(DataError, match=rf"line 6: score '{score}' is not an integer relevance grade"):
        load_beir(folder)


def test_missing_files(tmp_path):
    folder = make_beir(tmp_path / "m")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DataError, match=r"queries\.jsonl: file not found"):
        load_beir(folder)
