"""User query sets (CSV/TSV/JSONL) against a corpus: ids or answer strings, and every bad-input message."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hybrid_core.data import load_dataset, load_query_set
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.data.querysets import ISO_639_1, check_language
from hybrid_core.errors import DataError


@pytest.fixture(scope="module")
def tiny():
    return tiny_parallel_dataset()


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_csv_with_relevant_ids(tmp_path, tiny):
    path = _write(
        tmp_path,
        "mine.csv",
        "id,query,language,relevant_ids,question_id\n"
        "a,Where does the Danube rise?,en,en:0:0:1|de:0:0:1,rise\n"
        "b,Wo entspringt die Donau?,de,de:0:0:1; en:0:0:1,rise\n"
        ",Who discovered radium?,en,en:1:1:0,\n",
    )
    ds = load_query_set(path, tiny)
    assert ds.name == "mine" and ds.parallel  # 'rise' links an en and a de query
    assert ds.queries["id"].tolist() == ["a", "b", "q4"]  # default id: q<line>
    assert ds.queries["question_id"].tolist() == ["rise", "rise", "q4"]
    assert ds.qrels["b"] == {"de:0:0:1": 1, "en:0:0:1": 1}
    assert ds.queries["article"].tolist() == ["Danube", "Danube", "Marie Curie"]
    assert len(ds.corpus) == len(tiny.corpus)


def test_jsonl_with_list_and_tsv(tmp_path, tiny):
    rows = [{"query": "Où est née Marie Curie ?", "language": "fr", "relevant_ids": ["fr:1:0:0"]}]
    ds = load_query_set(_write(tmp_path, "q.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n"), tiny)
    assert ds.qrels == {"q1": {"fr:1:0:0": 1}} and not ds.parallel
    ds = load_query_set(_write(tmp_path, "q.tsv", "query\tlanguage\trelevant_ids\nX?\ten\ten:0:1:0\n"), tiny)
    assert ds.qrels == {"q2": {"en:0:1:0": 1}}


def test_answer_strings(tmp_path, tiny):
    path = _write(
        tmp_path,
        "answers.csv",
        "query,language,answer\n"
        "Which elements?,en,Polonium  and RADIUM\n"  # case and spacing do not matter
        "Welche Elemente?,de,Polonium\n"
        "Nothing?,en,no such words\n",
    )
    with pytest.warns(UserWarning, match=r"answers\.csv: skipped 1 quer\(ies\) .*lines \[4\]"):
        ds = load_query_set(path, tiny)
    assert ds.qrels == {"q2": {"en:1:1:0": 1}, "q3": {"de:1:1:0": 1}}
    with pytest.warns(UserWarning):
        ds = load_query_set(path, tiny, answer_scope="any")
    assert ds.qrels["q3"] == {"de:1:1:0": 1, "en:1:1:0": 1, "fr:1:1:0": 1}  # "polonium" in all three


def test_answer_strings_on_real_data(tmp_path, data_root):
    xquad = load_dataset("xquad-r", data_dir=data_root, languages=["en", "de"])
    path = _write(tmp_path, "a.csv", "query,language,answer\nWhat did the Panthers defense give up?,en,308 points\n")
    ds = load_query_set(path, xquad)
    assert ds.qrels == {"q2": {"en:0:0:0": 1}}


def test_corpus_as_dataframe(tmp_path):
    corpus = pd.DataFrame({"id": [1, 2], "text": ["Cats purr.", "Dogs bark."], "language": ["en", "en"]})
    ds = load_query_set(_write(tmp_path, "q.csv", "query,language,answer\nWho barks?,en,dogs\n"), corpus)
    assert ds.qrels == {"q2": {"2": 1}}
    assert ds.corpus["paragraph"].tolist() == ["1", "2"] and ds.corpus["article"].tolist() == ["", ""]


def test_iso_codes():
    assert len(ISO_639_1) == 184 and {"en", "de", "zh", "th", "yo"} <= ISO_639_1
    assert check_language("de", "x") == "de"


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("q.csv", "query,language,relevant_ids\nA?,en,en:0:0:1|nope|en:9\nB?,de,gone\n",
         r"3 relevant id\(s\) are not in the corpus, e\.g\. 'nope' \(line 2\), 'en:9' \(line 2\), 'gone' \(line 3\)"),
        ("q.csv", "query,relevant_ids\nA?,en:0:0:1\n", r"missing column\(s\) \['language'\]"),
        ("q.csv", "query,language\nA?,en\n", r"missing column\(s\) \['relevant_ids or answer'\]"),
        ("q.csv", "", "file is empty"),
        ("q.csv", "query,language,answer\n", r"file is empty \(a header but no queries\)"),
        ("q.csv", b"query,language,answer\nA?,en,caf\xe9\n",
         r"not valid UTF-8 \(bad byte 0xe9 at byte offset 31\)"),
        ("q.jsonl", '{"query": "A?", "language": "en", "answer": "x"}\n{"query": "B?",\n', "line 2 is not valid JSON"),
        ("q.csv", "query,language,answer\nA?,EN,x\n", "line 2: invalid language 'EN'.*ISO 639-1"),
        ("q.csv", "query,language,answer\nA?,english,x\n", "line 2: invalid language 'english'"),
        ("q.csv", "query,language,answer\nA?,xx,x\n", "line 2: unknown language code 'xx'"),
        ("q.csv", "id,query,language,answer\n1,A?,en,Danube\n1,B?,en,Danube\n", "line 3: duplicate query id '1'"),
        ("q.csv", "query,language,answer\n,en,x\n", "line 2: empty query"),
        ("q.csv", "query,language,answer,relevant_ids\nA?,en,,\n", "line 2: neither relevant_ids nor answer"),
        ("q.csv", "query,language,answer\nA?,en,x,extra\n", "line 2 has more fields than the header"),
        ("q.csv", "query,language,answer\nA?,en,no such words\n", "no query has a relevant candidate"),
        ("q.txt", "query,language,answer\n", "unsupported query-set format"),
        ("q.jsonl", '{"query": "A?", "language": "en", "relevant_ids": {"a": 1}}\n', "relevant_ids must be a list"),
    ],
)  # fmt: skip
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_bad_input(tmp_path, tiny, name, content, problem):
    path = _write(tmp_path, name, content)
    with pytest.raises(DataError, match=problem) as e:
        load_query_set(path, tiny)
    assert name in str(e.value)


def test_bad_corpus_and_scope(tmp_path, tiny):
    path = _write(tmp_path, "q.csv", "query,language,answer\nA?,en,x\n")
    with pytest.raises(DataError, match=r"corpus table lacks columns \['language'\]"):
        load_query_set(path, pd.DataFrame({"id": ["1"], "text": ["x"]}))
    with pytest.raises(DataError, match="answer_scope"):
        load_query_set(path, tiny, answer_scope="everywhere")
    with pytest.raises(DataError, match=r"missing\.csv: file not found"):
        load_query_set(tmp_path / "missing.csv", tiny)
