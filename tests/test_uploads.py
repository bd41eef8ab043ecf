"""Upload parsing: format detection, BEIR / SQuAD / query-set uploads, checks before parsing."""

from __future__ import annotations

import json

import pytest

from hybrid_core.data import uploads
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.errors import DataError


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def test_detect_kind() -> None:
    assert uploads.detect_kind(["corpus.jsonl", "queries.jsonl", "test.tsv"]) == "beir"
    assert uploads.detect_kind(["de.json", "en.json"]) == "squad"
    assert uploads.detect_kind(["q.csv"]) == "queryset"
    assert uploads.detect_kind(["q.jsonl", "corpus.jsonl"]) == "queryset"
    with pytest.raises(DataError, match="qrels"):
        uploads.detect_kind(["corpus.jsonl", "queries.jsonl"])
    with pytest.raises(DataError, match="cannot tell the format"):
        uploads.detect_kind(["a.csv", "b.csv"])


def test_checks_before_parsing() -> None:
    with pytest.raises(DataError, match="no file"):
        uploads.check_files([])
    with pytest.raises(DataError, match="empty"):
        uploads.check_files([("q.csv", b"  \n")])
    with pytest.raises(DataError, match="not UTF-8"):
        uploads.check_files([("q.csv", b"\xff\xfe")])
    with pytest.raises(DataError, match="file name"):
        uploads.check_files([("../../etc/.x", b"a")])
    with pytest.raises(DataError, match="uploaded twice"):
        uploads.check_files([("a.csv", b"a"), ("a.csv", b"b")])
    with pytest.raises(DataError, match="data set name"):
        uploads.load_upload([("q.csv", b"query")], name="../x")


def test_beir_upload_round_trip() -> None:
    files = [
        (
            "corpus.jsonl",
            _jsonl(
                [
                    {"_id": "d1", "title": "", "text": "Die Donau", "language": "de"},
                    {"_id": "d2", "title": "", "text": "The Danube", "language": "en"},
                ]
            ),
        ),
        ("queries.jsonl", _jsonl([{"_id": "q1", "text": "Fluss?", "language": "de"}])),
        ("test.tsv", b"query-id\tcorpus-id\tscore\nq1\td1\t1\n"),
    ]
    ds, notes = uploads.load_upload(files, name="mini")
    assert ds.name == "mini" and len(ds.queries) == 1 and len(ds.corpus) == 2 and ds.qrels == {"q1": {"d1": 1}}
    assert notes == []


def test_query_set_with_uploaded_corpus_and_with_named_corpus() -> None:
    corpus = _jsonl([{"_id": "c1", "text": "Vienna lies on the Danube.", "language": "en"}])
    qs = b"query,language,answer\nWhich river?,en,Danube\nNothing?,en,zzz\n"
    ds, notes = uploads.load_upload([("q.csv", qs), ("corpus.jsonl", corpus)], name="qs")
    assert ds.qrels == {"q2": {"c1": 1}} and len(notes) == 1 and "skipped 1" in notes[0]
    assert "/tmp" not in notes[0]
    ds, _ = uploads.load_upload(
        [("q.csv", b"query,language,relevant_ids\nWo?,de,de:0:0:1\n")], corpus=tiny_parallel_dataset(), name="qs2"
    )
    assert len(ds.corpus) == 36
    with pytest.raises(DataError, match="needs a corpus"):
        uploads.load_upload([("q.csv", qs)], name="qs3")
    with pytest.raises(DataError, match=r"corpus\.jsonl: line 1"):
        uploads.load_upload([("q.csv", qs), ("corpus.jsonl", _jsonl([{"_id": "c1", "text": "x"}]))], name="qs4")


def test_squad_files_make_a_parallel_set() -> None:
    from hybrid_core.data.mock import _squad

    files = [(f"{lang}.json", json.dumps(_squad(lang)).encode()) for lang in ("de", "en")]
    ds, _ = uploads.load_upload(files, name="sq")
    assert ds.parallel and sorted(ds.languages) == ["de", "en"] and len(ds.queries) == 12
    one, _ = uploads.load_upload(files[:1], name="sq1")
    assert not one.parallel and one.languages == ["de"]
