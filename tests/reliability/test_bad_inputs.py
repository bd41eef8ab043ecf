"""A corpus of bad inputs: each is rejected with one specific ``error:`` line (exit 2) and writes nothing.

Cases are generated here (the big ones too: a 5,001-digit integer, 100,000-deep nesting, a file over
the upload limit), so no bad file is committed. CLI cases run in-process through
``hybrid_core.cli.main``; upload cases through ``uploads.load_upload``. Before/after snapshots of the
run store, the embedding cache, the jobs/cache folder and the working folder must be equal.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from hybrid_core.cli import main
from hybrid_core.data import uploads
from hybrid_core.errors import DataError
from tests.reliability.conftest import tree

CTX = "Alpha one. Beta two."
SQUAD = {
    "data": [
        {
            "title": "T",
            "paragraphs": [
                {
                    "context": CTX,
                    "sentences": ["Alpha one.", "Beta two."],
                    "sentence_breaks": [[0, 10], [11, 20]],
                    "qas": [{"id": "q1", "question": "What?", "answers": [{"text": "Beta", "answer_start": 11}]}],
                }
            ],
        }
    ]
}
CORPUS = "".join(json.dumps({"_id": f"d{i}", "text": f"doc {i}", "language": "en"}) + "\n" for i in (1, 2, 3))
QUERIES = "".join(json.dumps({"_id": f"q{i}", "text": f"query {i}", "language": "en"}) + "\n" for i in (1, 2))
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"
HUGE_INT = "1" * 5001
DEEP = "[" * 100_000 + "]" * 100_000


def squad(edit: Callable[[dict], object]) -> bytes:
    """The valid SQuAD document above, changed by ``edit`` (which mutates the paragraph dict)."""
    doc = copy.deepcopy(SQUAD)
    edit(doc["data"][0]["paragraphs"][0])
    return json.dumps(doc).encode()


def qa(key: str, value: object) -> Callable[[dict], object]:
    return lambda p: p["qas"][0].__setitem__(key, value)


def par(key: str, value: object) -> Callable[[dict], object]:
    return lambda p: p.__setitem__(key, value)


def lareqa_folder(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "set"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def beir_folder(root: Path, corpus=CORPUS, queries=QUERIES, qrels=QRELS, split="test") -> Path:
    folder = root / "beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(corpus, encoding="utf-8")
    if queries is not None:
        (folder / "queries.jsonl").write_text(queries, encoding="utf-8")
    (folder / "qrels" / f"{split}.tsv").write_text(qrels, encoding="utf-8")
    return folder


# ---------------------------------------------------------------- CLI cases: (id, argv builder, message)
#: Each builder gets (tmp folder, tiny model path) and returns the argv.

SQUAD_CASES: list[tuple[str, bytes, str]] = [
    ("json-syntax", b"{ not json", "invalid JSON at line 1"),
    ("json-huge-int", f'{{"data": [{HUGE_INT}]}}'.encode(), "invalid JSON (Exceeds the limit"),
    ("json-deep", DEEP.encode(), "invalid JSON (nested too deeply)"),
    ("not-utf8", b'{"data": "\xff\xfe"}', "not valid UTF-8"),
    ("empty", b"", "file is empty"),
    ("bom-only", "\ufeff  ".encode(), "file is empty"),
    ("top-level-list", b"[]", "missing or invalid 'data'"),
    ("data-dict", b'{"data": {}}', "missing or invalid 'data'"),
    ("no-paragraphs", b'{"data": [{"title": "x"}]}', "missing or invalid 'paragraphs'"),
    ("context-number", squad(par("context", 5)), "missing or invalid 'context'"),
    ("breaks-past-end", squad(par("sentence_breaks", [[0, 10], [11, 99]])), "within the context"),
    ("breaks-negative", squad(par("sentence_breaks", [[-1, 10], [11, 20]])), "within the context"),
    ("breaks-reversed", squad(par("sentence_breaks", [[10, 0], [11, 20]])), "within the context"),
    ("breaks-not-pairs", squad(par("sentence_breaks", [[0, 10, 12], [11, 20]])), "integer pairs"),
    ("breaks-floats", squad(par("sentence_breaks", [[0.0, 10], [11, 20]])), "integer pairs"),
    ("breaks-bools", squad(par("sentence_breaks", [[False, True], [11, 20]])), "integer pairs"),
    ("sentences-mismatch", squad(par("sentences", ["Alpha one."])), "differ in length"),
    ("sentence-absent", squad(lambda p: (p.pop("sentence_breaks"), p.update(sentences=["Zeta."]))), "does not occur"),
    ("sentences-not-list", squad(lambda p: (p.pop("sentence_breaks"), p.update(sentences="x"))), "list of strings"),
    ("answers-dict", squad(qa("answers", {"text": "Beta", "answer_start": 11})), "'answers' must be a list"),
    ("answers-string", squad(qa("answers", "Beta")), "'answers' must be a list"),
    ("question-empty", squad(qa("question", "  ")), "empty question"),
    ("question-number", squad(qa("question", 3)), "missing or invalid 'question'"),
    ("id-missing", squad(lambda p: p["qas"][0].pop("id")), "missing or invalid 'id'"),
    ("id-float", squad(qa("id", 1.5)), "missing or invalid 'id'"),
    ("id-bool", squad(qa("id", True)), "missing or invalid 'id'"),
    ("id-duplicate", squad(lambda p: p["qas"].append(dict(p["qas"][0]))), "duplicate question id 'q1'"),
    ("answer-outside", squad(qa("answers", [{"text": "x", "answer_start": 99}])), "no question whose answer"),
    ("contexts-empty", squad(lambda p: p.update(context="", sentences=[], sentence_breaks=[])), "no sentences"),
    ("qas-dict", squad(par("qas", {"id": "q1"})), "'qas' must be a list"),
    ("qas-number", squad(par("qas", 5)), "'qas' must be a list"),  # found by test_fuzz.py
]

BEIR_CASES: list[tuple[str, dict, str]] = [
    ("score-inf", {"qrels": QRELS + "q1\td3\tinf\n"}, "score 'inf' is not an integer relevance grade"),
    ("score-1e400", {"qrels": QRELS + "q1\td3\t1e400\n"}, "score '1e400' is not an integer relevance grade"),
    ("score-half", {"qrels": QRELS + "q1\td3\t0.5\n"}, "score '0.5' is not an integer relevance grade"),
    ("score-nan", {"qrels": QRELS + "q1\td3\tnan\n"}, "score 'nan' is not an integer relevance grade"),
    ("score-huge", {"qrels": QRELS + f"q1\td3\t{HUGE_INT}\n"}, "is not an integer relevance grade"),
    ("score-word", {"qrels": QRELS + "q1\td3\thigh\n"}, "score 'high' is not a number"),
    ("qrels-unknown-doc", {"qrels": QRELS + "q1\td9\t1\n"}, "name ids absent from corpus.jsonl"),
    ("qrels-unknown-query", {"qrels": QRELS + "q9\td1\t1\n"}, "name ids absent from corpus.jsonl"),
    ("qrels-two-fields", {"qrels": QRELS + "q1\td3\n"}, "expected 3 tab-separated fields"),
    ("qrels-empty", {"qrels": ""}, "test.tsv: file is empty"),
    ("qrels-no-positive", {"qrels": "query-id\tcorpus-id\tscore\nq1\td1\t0\n"}, "no positive judgement"),
    ("corpus-dup-id", {"corpus": CORPUS + '{"_id": "d1", "text": "x", "language": "en"}\n'}, "duplicate _id 'd1'"),
    ("corpus-no-id", {"corpus": CORPUS + '{"text": "x", "language": "en"}\n'}, 'has no "_id"'),
    ("corpus-text-list", {"corpus": CORPUS + '{"_id": "d4", "text": ["x"], "language": "en"}\n'}, '"text" is missing'),
    ("corpus-text-empty", {"corpus": CORPUS + '{"_id": "d4", "text": "  ", "language": "en"}\n'}, "empty text"),
    ("corpus-bad-line", {"corpus": CORPUS + "{oops\n"}, "line 4 is not valid JSON"),
    ("corpus-array-line", {"corpus": CORPUS + "[1, 2]\n"}, "line 4 is not a JSON object"),
    ("corpus-huge-int", {"corpus": CORPUS + f'{{"_id": {HUGE_INT}}}\n'}, "line 4 is not valid JSON (Exceeds"),
    ("corpus-deep", {"corpus": CORPUS + DEEP + "\n"}, "line 4 is not valid JSON (nested too deeply)"),
    ("corpus-language-word", {"corpus": CORPUS + '{"_id": "d4", "text": "x", "language": "english"}\n'}, "english"),
    ("corpus-language-xx", {"corpus": CORPUS + '{"_id": "d4", "text": "x", "language": "xx"}\n'}, "unknown language"),
    ("corpus-no-language", {"corpus": CORPUS + '{"_id": "d4", "text": "x"}\n'}, "has no language"),
    ("no-queries-file", {"queries": None}, "queries.jsonl: file not found"),
    ("wrong-split", {"split": "dev"}, "qrels splits available: ['dev']"),
]


def _squad_argv(data: bytes) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: ["evaluate", "--model", str(model), "--data", str(lareqa_folder(tmp, {"en.json": data}))]


def _beir_argv(kw: dict) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: ["evaluate", "--model", str(model), "--data", str(beir_folder(tmp, **kw))]


def _folder(files: dict[str, bytes]) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: ["evaluate", "--model", str(model), "--data", str(lareqa_folder(tmp, files))]


def _dangling(tmp: Path, model: Path) -> list[str]:
    folder = lareqa_folder(tmp, {"de.json": json.dumps(SQUAD).encode()})
    (folder / "en.json").symlink_to(tmp / "gone.json")
    return ["evaluate", "--model", str(model), "--data", str(folder)]


def _loop(tmp: Path, model: Path) -> list[str]:
    folder = lareqa_folder(tmp, {"de.json": json.dumps(SQUAD).encode()})
    os.symlink(folder / "en.json", folder / "en.json")
    return ["evaluate", "--model", str(model), "--data", str(folder)]


def _not_model(tmp: Path, model: Path) -> list[str]:
    (tmp / "nm").mkdir()
    return ["evaluate", "--model", str(tmp / "nm"), "--data", str(lareqa_folder(tmp, {"en.json": squad(str)}))]


def _opts(*argv: str) -> Callable[[Path, Path], list[str]]:
    return lambda tmp, model: [a.replace("{model}", str(model)) for a in argv]


GOOD = json.dumps(SQUAD).encode()
CLI_CASES: list[tuple[str, Callable[[Path, Path], list[str]], str]] = [
    *((f"squad-{i}", _squad_argv(d), m) for i, d, m in SQUAD_CASES),
    *((f"beir-{i}", _beir_argv(kw), m) for i, kw, m in BEIR_CASES),
    ("lareqa-dangling-symlink", _dangling, "en.json: cannot read (No such file or directory)"),
    ("lareqa-symlink-loop", _loop, "en.json: cannot read (Too many levels of symbolic links)"),
    ("lareqa-non-iso-name", _folder({"en.json": GOOD, "xx.json": GOOD}), "unknown language code 'xx'"),
    ("lareqa-no-lang-files", _folder({"notes.json": GOOD}), "neither a BEIR folder"),
    ("lareqa-missing-language", lambda tmp, m: [*_folder({"en.json": GOOD})(tmp, m), "--languages", "de"],
     "no file for language(s) ['de']"),
    ("squad-file-no-language", lambda tmp, m: ["evaluate", "--model", str(m), "--data", str(_file(tmp, "foo.json"))],
     "cannot tell the language"),
    ("data-empty-spec", _opts("evaluate", "--model", "{model}", "--data", ""), "empty data spec"),
    ("data-missing-path", _opts("evaluate", "--model", "{model}", "--data", "/no/such/dir"), "no such file or folder"),
    ("data-txt-file", lambda tmp, m: ["evaluate", "--data", str(_file(tmp, "a.txt"))], "unsupported input"),
    ("model-not-a-model", _not_model, "not a sentence-transformers or Hugging Face model folder"),
    ("model-root", _opts("evaluate", "--model", "/", "--data", "/no/such"), "no such file or folder"),
    ("model-missing-folder", _opts("evaluate", "--model", "./no/such/model", "--data", "xquad-r",
                                   "--max-questions", "1"), "model folder not found"),
    ("opt-max-questions-negative", _opts("evaluate", "--max-questions", "-5"), "expected a positive integer, got -5"),
    ("opt-max-questions-zero", _opts("evaluate", "--max-questions", "0"), "expected a positive integer, got 0"),
    ("opt-max-questions-word", _opts("evaluate", "--max-questions", "ten"), "expected a positive integer, got 'ten'"),
    ("opt-seed-negative", _opts("evaluate", "--seed", "-1"), "expected an integer >= 0, got -1"),
    ("opt-kinds-bogus", _opts("evaluate", "--kinds", "bogus"), "invalid choice: 'bogus'"),
    ("opt-run-traversal", _opts("evaluate", "--run", "../x", "--data", "/no"), "invalid run name"),
    ("opt-export-depth-word", _opts("export", "--run", "r", "--depth", "abc"), "positive integer or 'full', got 'abc'"),
    ("opt-export-depth-negative", _opts("export", "--run", "r", "--depth", "-3"), "or 'full', got '-3'"),
    ("opt-export-depth-zero", _opts("export", "--run", "r", "--depth", "0"), "positive integer or 'full', got '0'"),
    ("opt-export-format", _opts("export", "--run", "r", "--format", "xml"), "invalid choice: 'xml'"),
    ("opt-export-run-name", _opts("export", "--run", "../x", "--format", "csv"), "invalid run name '../x'"),
    ("opt-export-missing-run", _opts("export", "--run", "nope", "--format", "csv"), "no run named 'nope'"),
    ("opt-train-steps-zero", _opts("train", "--run", "t", "--steps", "0"), "expected a positive integer, got 0"),
    ("opt-train-lr-nan", _opts("train", "--run", "t", "--lr", "nan"), "expected a finite number, got 'nan'"),
    ("opt-train-lr-negative", _opts("train", "--run", "t", "--lr", "-1"), "expected a number > 0"),
    ("opt-train-wd-negative", _opts("train", "--run", "t", "--weight-decay", "-0.1"), "expected a number >= 0"),
    ("opt-train-batch-word", _opts("train", "--run", "t", "--batch-size", "abc"), "expected a positive integer"),
    ("opt-train-seed-negative", _opts("train", "--run", "t", "--seed", "-2"), "expected an integer >= 0, got -2"),
    ("opt-train-eval-every", _opts("train", "--run", "t", "--eval-every", "-1"), "expected an integer >= 0"),
    ("opt-train-alpha-inf", _opts("train", "--run", "t", "--alpha", "inf"), "expected a finite number"),
    ("opt-train-run-name", _opts("train", "--run", "a/b", "--model", "{model}"), "invalid run name 'a/b'"),
    ("opt-experiment-steps", _opts("experiment", "--steps", "-1"), "expected a positive integer, got -1"),
    ("opt-experiment-eval-q", _opts("experiment", "--eval-max-questions", "-1"), "expected an integer >= 0"),
    ("opt-unknown", _opts("evaluate", "--no-such-option"), "unrecognized arguments: --no-such-option"),
    ("opt-runs-kind", _opts("runs", "--kind", "bogus"), "invalid choice: 'bogus'"),
    ("opt-datasets-bad-json", lambda tmp, m: ["datasets", "--data", str(lareqa_folder(tmp, {"de.json": b"{"}))],
     "de.json: invalid JSON"),
]  # fmt: skip


def _file(tmp: Path, name: str) -> Path:
    (tmp / name).write_bytes(GOOD)
    return tmp / name


@pytest.fixture
def snapshot_dirs(tmp_path, monkeypatch, write_dirs):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("HYBRID_IR_CACHE", str(cache))
    return [*write_dirs, cache]


@pytest.mark.parametrize(("build", "message"), [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES])
def test_cli_bad_input(build, message, tmp_path, tiny_model, snapshot_dirs, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    argv = build(inputs, tiny_model)
    capsys.readouterr()
    before = tree(*snapshot_dirs)
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len([line for line in lines if line.startswith("error:")]) == 1 and lines[-1].startswith("error:"), err
    assert message in lines[-1]
    assert tree(*snapshot_dirs) == before


# ---------------------------------------------------------------- uploads: (id, files, corpus, name, message)

CSV_HEAD = "query,language,relevant_ids\n"
UPLOAD_CASES: list[tuple[str, Callable[[], list[tuple[str, bytes]]], str]] = [
    ("case-duplicate-names", lambda: [("en.json", GOOD), ("EN.json", GOOD)], "en.json and EN.json: names differ only"),
    ("exact-duplicate-names", lambda: [("en.json", GOOD), ("en.json", GOOD)], "en.json: uploaded twice"),
    ("not-utf8", lambda: [("q.csv", b"query\xff")], "not UTF-8 text (byte 0xff"),
    ("empty-file", lambda: [("q.csv", b"  \n")], "q.csv: file is empty"),
    ("too-big", lambda: [("q.csv", b"a" * (uploads.MAX_FILE_BYTES + 1))], "over the 50 MB limit"),
    ("too-many", lambda: [(f"{c}{c}.json", GOOD) for c in "abcdefghijklmnopq"], "at most 16"),
    ("hidden-name", lambda: [(".q.csv", b"x")], "unsupported file name"),
    ("odd-name", lambda: [("q?.csv", b"x")], "unsupported file name"),
    ("unknown-format", lambda: [("q.txt", b"x")], "cannot tell the format"),
    ("beir-without-qrels", lambda: [("corpus.jsonl", CORPUS.encode()), ("queries.jsonl", QUERIES.encode())],
     "needs a qrels file"),
    ("beir-two-qrels", lambda: [("corpus.jsonl", CORPUS.encode()), ("queries.jsonl", QUERIES.encode()),
                                ("a.tsv", QRELS.encode()), ("b.tsv", QRELS.encode())], "exactly one qrels"),
    ("beir-half-grade", lambda: [("corpus.jsonl", CORPUS.encode()), ("queries.jsonl", QUERIES.encode()),
                                 ("test.tsv", (QRELS + "q1\td3\t0.5\n").encode())], "not an integer relevance grade"),
    ("queryset-no-corpus", lambda: [("q.csv", (CSV_HEAD + "hi,en,d1\n").encode())], "needs a corpus"),
    ("csv-missing-columns", lambda: _qs("q.csv", "query,lang\nhi,en\n"), "missing column(s)"),
    ("csv-unknown-id", lambda: _qs("q.csv", CSV_HEAD + "hi,en,d9\n"), "not in the corpus"),
    ("csv-bad-language", lambda: _qs("q.csv", CSV_HEAD + "hi,english,d1\n"), "invalid language 'english'"),
    ("csv-duplicate-id", lambda: _qs("q.csv", "id," + CSV_HEAD + "a,hi,en,d1\na,ho,en,d2\n"), "duplicate query id"),
    ("csv-empty-query", lambda: _qs("q.csv", CSV_HEAD + " ,en,d1\n"), "empty query"),
    ("csv-header-only", lambda: _qs("q.csv", CSV_HEAD), "a header but no queries"),
    ("csv-extra-fields", lambda: _qs("q.csv", CSV_HEAD + "hi,en,d1,extra\n"), "more fields than the header"),
    ("csv-no-answer", lambda: _qs("q.csv", "query,language,answer\nhi,en, \n"), "neither relevant_ids nor answer"),
    ("csv-nothing-matches", lambda: _qs("q.csv", "query,language,answer\nhi,en,zzz\n"), "no query has a relevant"),
    ("jsonl-ids-dict", lambda: _qs("q.jsonl", '{"query": "hi", "language": "en", "relevant_ids": {"a": 1}}\n'),
     "relevant_ids must be a list"),
    ("jsonl-bad-line", lambda: _qs("q.jsonl", '{"query": "hi"\n'), "line 1 is not valid JSON"),
    ("jsonl-deep", lambda: _qs("q.jsonl", DEEP + "\n"), "nested too deeply"),
    ("jsonl-huge-int", lambda: _qs("q.jsonl", f'{{"query": {HUGE_INT}}}\n'), "Exceeds the limit"),
    ("jsonl-not-object", lambda: _qs("q.jsonl", "[1]\n"), "not a JSON object"),
    ("corpus-upload-no-language", lambda: [("q.csv", (CSV_HEAD + "hi,en,d1\n").encode()),
                                           ("corpus.jsonl", b'{"_id": "d1", "text": "x"}\n')], "has no language"),
    ("squad-breaks-past-end", lambda: [("en.json", squad(par("sentence_breaks", [[0, 10], [11, 50]])))],
     "within the context"),
    ("squad-answers-dict", lambda: [("en.json", squad(qa("answers", {})))], "'answers' must be a list"),
]  # fmt: skip


def _qs(name: str, text: str) -> list[tuple[str, bytes]]:
    return [(name, text.encode()), ("corpus.jsonl", CORPUS.encode())]


def _upload_temps() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("hybrid-ir-upload-*")}


@pytest.mark.parametrize(("files", "message"), [c[1:] for c in UPLOAD_CASES], ids=[c[0] for c in UPLOAD_CASES])
def test_upload_bad_input(files, message, snapshot_dirs):
    payload = files()
    before, temps = tree(*snapshot_dirs), _upload_temps()
    with pytest.raises(DataError) as e:
        uploads.load_upload(payload, name="up")
    assert message in str(e.value)
    assert "\n" not in str(e.value) and "/tmp" not in str(e.value)  # one line, no temporary path
    assert tree(*snapshot_dirs) == before and _upload_temps() <= temps


def test_upload_bad_set_name():
    with pytest.raises(DataError, match="invalid data set name"):
        uploads.load_upload([("en.json", GOOD)], name="../x")


def test_corpus_size():
    """The issue asks for >= 60 bad inputs; this counts them (reported in the closing note)."""
    assert len(CLI_CASES) + len(UPLOAD_CASES) + 1 >= 60


# ---------------------------------------------------------------- accepted on purpose (with why)

ACCEPTED: list[tuple[str, Callable[[Path], object], str]] = [
    ("qrels-grade-1.0", lambda tmp: _load_beir(tmp, qrels=QRELS + "q1\td3\t1.0\n"), "an integer written as a float"),
    ("qrels-negative-grade", lambda tmp: _load_beir(tmp, qrels=QRELS + "q1\td3\t-1\n"),
     "BEIR uses grades <= 0 for judged non-relevant: dropped, as BEIR's evaluator does"),
    ("qrels-no-header", lambda tmp: _load_beir(tmp, qrels="q1\td1\t1\n"), "the header line is optional in BEIR"),
    ("extra-json-fields", lambda tmp: _load_squad(tmp, squad(par("extra", {"any": [1]}))),
     "SQuAD files carry extra fields (version, is_impossible); unknown keys are ignored"),
    ("answer-in-no-sentence", lambda tmp: _load_squad(tmp, squad(lambda p: p["qas"].append(
        {"id": "q2", "question": "Q?", "answers": [{"text": "x", "answer_start": 99}]}))),
     "LAReQA files have a few such questions: skipped with a warning, like the LAReQA loader"),
    ("no-sentences-given", lambda tmp: _load_squad(tmp, squad(lambda p: (p.pop("sentences"),
                                                                          p.pop("sentence_breaks")))),
     "plain SQuAD: sentences are split by the project"),
    ("bom-prefixed-json", lambda tmp: _load_squad(tmp, b"\xef\xbb\xbf" + GOOD), "Windows editors write a BOM"),
    ("answer-unmatched-row", lambda tmp: uploads.load_upload(_qs("q.csv", "query,language,answer\nhi,en,doc 1\n"
                                                                 "ho,en,zzz\n"), name="up"),
     "one query whose answer string matches nothing is skipped with a note; the others are kept"),
]  # fmt: skip


def _load_beir(tmp: Path, **kw):
    from hybrid_core.data import load_beir

    return load_beir(beir_folder(tmp, **kw))


def _load_squad(tmp: Path, data: bytes):
    from hybrid_core.data import load_squad

    (tmp / "en.json").write_bytes(data)
    return load_squad(tmp / "en.json")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(("load", "why"), [c[1:] for c in ACCEPTED], ids=[c[0] for c in ACCEPTED])
def test_accepted_on_purpose(load, why, tmp_path):
    result = load(tmp_path)
    ds = result[0] if isinstance(result, tuple) else result
    assert len(ds.queries) >= 1 and why
