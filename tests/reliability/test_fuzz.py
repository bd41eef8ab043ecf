"""Property-based fuzzing (hypothesis) of every loader and the upload validator.

Property: any bytes in -> a RetrievalDataset whose qrels point at its own queries and candidates, or a
HybridIRError; never another exception. Inputs mix raw bytes, arbitrary JSON, and structures shaped
like each format with wrong types, out-of-range offsets and odd scores in every field. The default
run draws ``FUZZ_EXAMPLES`` (1,000) examples per loader; ``-m fuzz`` runs the ``*_long`` variants
with ``$HYBRID_IR_FUZZ_EXAMPLES`` (default 20,000) each.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hybrid_core.data import load_beir, load_lareqa, load_query_set, load_squad, uploads
from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.lareqa import clear_cache
from hybrid_core.errors import HybridIRError
from tests.reliability.test_bad_inputs import CORPUS as VALID_CORPUS
from tests.reliability.test_bad_inputs import QRELS as VALID_QRELS
from tests.reliability.test_bad_inputs import QUERIES as VALID_QUERIES
from tests.reliability.test_bad_inputs import SQUAD

FUZZ_EXAMPLES = 1000
LONG_EXAMPLES = int(os.environ.get("HYBRID_IR_FUZZ_EXAMPLES", "20000"))

# ---------------------------------------------------------------- strategies

words = st.sampled_from(["", " ", "Alpha one.", "Beta two.", "d1", "q1", "en", "de", "xx", "\ufeff", "。", "a\nb"])
text = words | st.text(max_size=24)
ints = st.integers(-3, 40) | st.integers() | st.sampled_from([2**63, -(2**63), 10**40])
leaf = st.none() | st.booleans() | ints | st.floats() | text
json_any = st.recursive(leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(text, c, max_size=3), max_leaves=12)


def opt(strategy):
    """A field value that is usually well-typed, sometimes anything."""
    return st.one_of(strategy, strategy, json_any)


answer = st.fixed_dictionaries({}, optional={"text": opt(text), "answer_start": opt(ints)})
qa = st.fixed_dictionaries(
    {},
    optional={
        "id": opt(st.sampled_from(["q1", "q2", "q3"]) | ints),
        "question": opt(text),
        "answers": opt(st.lists(opt(answer), max_size=2)),
    },
)
paragraph = st.fixed_dictionaries(
    {"context": opt(st.sampled_from(["Alpha one. Beta two.", "", "x"]) | text)},
    optional={
        "sentences": opt(st.lists(text, max_size=3)),
        "sentence_breaks": opt(st.lists(st.lists(ints, max_size=3), max_size=3)),
        "qas": opt(st.lists(opt(qa), max_size=3)),
    },
)
article = st.fixed_dictionaries(
    {}, optional={"title": opt(text), "paragraphs": opt(st.lists(opt(paragraph), max_size=3))}
)
squad_doc = st.fixed_dictionaries({}, optional={"data": opt(st.lists(opt(article), max_size=3)), "version": text})


def as_bytes(obj) -> bytes:
    return json.dumps(obj, allow_nan=True).encode()


def damaged(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Valid-looking bytes, cut short or with a span replaced."""
    return st.tuples(valid, st.integers(0, 400), st.integers(0, 400), st.binary(max_size=8)).map(
        lambda t: t[0][: min(t[1], t[2])] + t[3] + t[0][max(t[1], t[2]) :]
    )


def any_bytes(shaped: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(shaped, shaped, shaped, damaged(shaped), st.binary(max_size=200), json_any.map(as_bytes))


def _mutate_squad(field: str | None, value) -> bytes:
    """The valid SQuAD document of the bad-input corpus with one field replaced (None: unchanged)."""
    doc = copy.deepcopy(SQUAD)
    par = doc["data"][0]["paragraphs"][0]
    qa = par["qas"][0]
    if field in ("context", "sentences", "sentence_breaks", "qas"):
        par[field] = value
    elif field in ("id", "question", "answers"):
        qa[field] = value
    elif field == "answer_start":
        qa["answers"][0]["answer_start"] = value
    elif field == "extra-qa":
        par["qas"].append(value)
    return as_bytes(doc)


near_valid_squad = st.tuples(
    st.sampled_from([None, None, "context", "sentences", "sentence_breaks", "qas", "id", "question", "answers",
                     "answer_start", "extra-qa"]),
    st.one_of(ints, text, json_any, st.lists(st.lists(ints, max_size=2), max_size=3), qa),
).map(lambda t: _mutate_squad(*t))  # fmt: skip
squad_bytes = any_bytes(st.one_of(squad_doc.map(as_bytes), near_valid_squad, near_valid_squad))

record = st.fixed_dictionaries(
    {},
    optional={
        "_id": opt(st.sampled_from(["d1", "d2", "q1", "q2", ""]) | ints),
        "text": opt(text),
        "title": opt(text),
        "language": opt(st.sampled_from(["en", "de", "xx", "EN", ""])),
    },
)
jsonl = st.lists(st.one_of(record.map(json.dumps), record.map(json.dumps), text), max_size=5).map(
    lambda lines: "\n".join(lines).encode()
)
jsonl_bytes = any_bytes(jsonl)
extra_lines = st.one_of(st.just(""), st.lists(st.one_of(record.map(json.dumps), text), max_size=2).map("\n".join))
corpus_plus = extra_lines.map(lambda extra: (VALID_CORPUS + extra).encode())
queries_plus = extra_lines.map(lambda extra: (VALID_QUERIES + extra).encode())
near_valid_corpus = st.one_of(corpus_plus, corpus_plus, any_bytes(corpus_plus))
near_valid_queries = st.one_of(queries_plus, queries_plus, any_bytes(queries_plus))
score = st.sampled_from(["1", "0", "2", "-1", "0.5", "1.0", "inf", "nan", "1e400", "x", ""]) | text
qrels_line = st.tuples(st.sampled_from(["q1", "q2", "q9", ""]), st.sampled_from(["d1", "d2", "d9", ""]), score)
qrels_plus = st.lists(qrels_line.map("\t".join) | text, max_size=2) | st.just([])
qrels_plus = qrels_plus.map(lambda ls: (VALID_QRELS + "\n".join(ls)).encode())
near_valid_qrels = st.one_of(qrels_plus, qrels_plus, any_bytes(qrels_plus))
qrels_bytes = any_bytes(
    st.lists(qrels_line.map("\t".join) | text, max_size=5).map(
        lambda ls: ("query-id\tcorpus-id\tscore\n" + "\n".join(ls)).encode()
    )
)
cell = st.sampled_from(["hi", "en", "de", "xx", "d1", "d1|d2", "d9", "", "Alpha", '"', ","]) | text
csv_row = st.one_of(
    st.lists(cell, min_size=1, max_size=5).map(",".join), st.sampled_from(["hi,en,d1,", "ho,en,d1|d2,", "x,de,,Gamma"])
)
csv_bytes = any_bytes(
    st.lists(csv_row, max_size=5).map(lambda rows: ("query,language,relevant_ids,answer\n" + "\n".join(rows)).encode())
)
qs_record = st.fixed_dictionaries(
    {},
    optional={
        "query": opt(text),
        "language": opt(st.sampled_from(["en", "de", "xx"])),
        "relevant_ids": opt(st.lists(st.sampled_from(["d1", "d2", "d9"]), max_size=3) | cell),
        "answer": opt(cell),
        "id": opt(cell),
        "question_id": opt(cell),
    },
)
qs_line = st.one_of(
    qs_record.map(json.dumps),
    st.just('{"query": "hi", "language": "en", "relevant_ids": ["d1", "d2"]}'),
    st.just('{"query": "ho", "language": "de", "answer": "gamma", "question_id": "x"}'),
)
qs_jsonl_bytes = any_bytes(st.lists(qs_line, max_size=4).map(lambda ls: "\n".join(ls).encode()))

CORPUS = pd.DataFrame(
    {"id": ["d1", "d2", "d3"], "text": ["Alpha one", "Beta two hi", "Gamma"], "language": ["en", "en", "de"]}
)

# ---------------------------------------------------------------- the property


def check(load) -> None:
    """``load()`` returns a consistent RetrievalDataset or raises a HybridIRError; nothing else."""
    clear_cache()  # same path, same size, same coarse mtime: never serve the previous example's parse
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = load()
        except HybridIRError as exc:
            assert str(exc).strip()
            event("rejected")
            return
    if isinstance(ds, tuple):  # load_upload returns (dataset, notes)
        ds = ds[0]
    assert isinstance(ds, RetrievalDataset)
    corpus_ids, query_ids = set(ds.corpus["id"]), set(ds.queries["id"])
    assert query_ids and query_ids == set(ds.qrels)
    assert all(set(rel) <= corpus_ids and rel for rel in ds.qrels.values())
    event("loaded")


def fuzz(n: int):
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.rglob("*"):
        if old.is_file():
            old.unlink()
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def squad_file(tmp: Path, data: bytes) -> None:
    check(lambda: load_squad(_write(tmp / "squad", {"en.json": data}) / "en.json"))


def lareqa_folder(tmp: Path, en: bytes, de: bytes) -> None:
    check(lambda: load_lareqa(_write(tmp / "lareqa", {"en.json": en, "de.json": de})))


def beir_folder(tmp: Path, corpus: bytes, queries: bytes, qrels: bytes) -> None:
    folder = _write(tmp / "beir", {"corpus.jsonl": corpus, "queries.jsonl": queries, "qrels/test.tsv": qrels})
    check(lambda: load_beir(folder))


def query_set(tmp: Path, data: bytes, suffix: str) -> None:
    path = _write(tmp / "qs", {f"q{suffix}": data}) / f"q{suffix}"
    check(lambda: load_query_set(path, CORPUS))


upload_name = st.sampled_from(
    ["en.json", "EN.json", "de.json", "q.csv", "q.jsonl", "corpus.jsonl", "queries.jsonl", "test.tsv", "x.txt", ".h"]
) | st.text(max_size=12)
random_upload = st.lists(
    st.tuples(
        upload_name,
        st.one_of(
            squad_bytes, jsonl_bytes, near_valid_corpus, near_valid_queries, near_valid_qrels, csv_bytes, qs_jsonl_bytes
        ),
    ),
    min_size=0,
    max_size=4,
)
upload_files = st.one_of(
    random_upload,
    near_valid_squad.map(lambda b: [("en.json", b)]),
    st.tuples(near_valid_corpus, near_valid_queries, near_valid_qrels).map(
        lambda t: [("corpus.jsonl", t[0]), ("queries.jsonl", t[1]), ("test.tsv", t[2])]
    ),
    st.tuples(st.sampled_from(["q.csv", "q.tsv", "q.jsonl"]), st.one_of(csv_bytes, qs_jsonl_bytes)).map(lambda t: [t]),
)
UPLOAD_CORPUS = RetrievalDataset(
    "c", pd.DataFrame({"id": ["q1"], "text": ["hi"], "language": ["en"], "question_id": ["q1"], "article": [""]}),
    CORPUS.assign(paragraph=CORPUS["id"], article=""), {"q1": {"d1": 1}}, parallel=False,
)  # fmt: skip


def upload(files: list[tuple[str, bytes]], corpus: bool) -> None:
    check(lambda: uploads.load_upload(files, corpus=UPLOAD_CORPUS if corpus else None, name="fuzz"))


# ---------------------------------------------------------------- tests: default (1,000 each) and -m fuzz


def _tests(n: int):
    @fuzz(n)
    @given(data=squad_bytes)
    def t_squad(tmp_path_factory, data):
        squad_file(tmp_path_factory.getbasetemp() / f"fz{n}", data)

    @fuzz(n)
    @given(en=squad_bytes, de=squad_bytes)
    def t_lareqa(tmp_path_factory, en, de):
        lareqa_folder(tmp_path_factory.getbasetemp() / f"fz{n}", en, de)

    @fuzz(n)
    @given(
        corpus=st.one_of(jsonl_bytes, near_valid_corpus, near_valid_corpus),
        queries=st.one_of(jsonl_bytes, near_valid_queries, near_valid_queries),
        qrels=st.one_of(qrels_bytes, near_valid_qrels, near_valid_qrels),
    )
    def t_beir(tmp_path_factory, corpus, queries, qrels):
        beir_folder(tmp_path_factory.getbasetemp() / f"fz{n}", corpus, queries, qrels)

    @fuzz(n)
    @given(data=csv_bytes, suffix=st.sampled_from([".csv", ".tsv"]))
    def t_csv(tmp_path_factory, data, suffix):
        query_set(tmp_path_factory.getbasetemp() / f"fz{n}", data, suffix)

    @fuzz(n)
    @given(data=qs_jsonl_bytes)
    def t_jsonl(tmp_path_factory, data):
        query_set(tmp_path_factory.getbasetemp() / f"fz{n}", data, ".jsonl")

    @fuzz(n)
    @given(files=upload_files, corpus=st.booleans())
    def t_upload(files, corpus):
        upload(files, corpus)

    return t_squad, t_lareqa, t_beir, t_csv, t_jsonl, t_upload


(
    test_fuzz_squad,
    test_fuzz_lareqa,
    test_fuzz_beir,
    test_fuzz_csv_query_set,
    test_fuzz_jsonl_query_set,
    test_fuzz_upload,
) = _tests(FUZZ_EXAMPLES)
_long = [pytest.mark.fuzz(t) for t in _tests(LONG_EXAMPLES)]
(
    test_fuzz_squad_long,
    test_fuzz_lareqa_long,
    test_fuzz_beir_long,
    test_fuzz_csv_query_set_long,
    test_fuzz_jsonl_query_set_long,
    test_fuzz_upload_long,
) = _long
