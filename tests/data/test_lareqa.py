"""LAReQA loader: real XQuAD-R / MLQA-R counts, relevance, article keys, SQuAD files, bad input."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pytest

from hybrid_core.data import KNOWN_SETS, load_dataset, load_lareqa, load_squad
from hybrid_core.data.lareqa import clear_cache, split_sentences
from hybrid_core.data.mock import paragraph_of, tiny_parallel_dataset
from hybrid_core.errors import DataError

XQUAD_CANDIDATES = {
    "ar": 1222, "de": 1276, "el": 1234, "en": 1180, "es": 1215, "hi": 1244,
    "ru": 1219, "th": 852, "tr": 1167, "vi": 1209, "zh": 1196,
}  # fmt: skip
MLQA_QUERIES = {"ar": 517, "de": 512, "en": 1148, "es": 500, "hi": 507, "vi": 511, "zh": 504}
MLQA_CANDIDATES = {"ar": 2545, "de": 2362, "en": 6264, "es": 1787, "hi": 2426, "vi": 2828, "zh": 2322}


@pytest.fixture(scope="module")
def xquad(data_root):
    return load_lareqa(data_root / "xquad-r")


@pytest.fixture(scope="module")
def mlqa(data_root):
    return load_lareqa(data_root / "mlqa-r")


def _text(ds):
    return dict(zip(ds.corpus["id"], ds.corpus["text"], strict=True))


# ---------------------------------------------------------------- real counts


def test_xquad_counts(xquad):
    s = xquad.summary()
    assert xquad.parallel and s["languages"] == sorted(XQUAD_CANDIDATES)
    assert s["queries"] == 13090 and s["questions"] == 1190
    assert s["queries_per_language"] == dict.fromkeys(XQUAD_CANDIDATES, 1190)
    assert s["candidates_per_language"] == XQUAD_CANDIDATES
    assert s["candidates"] == 13014 == sum(XQUAD_CANDIDATES.values())
    assert xquad.queries["article"].nunique() == 48 and xquad.corpus["article"].nunique() == 48
    assert xquad.corpus.groupby("language")["paragraph"].nunique().eq(240).all()
    # every question: one relevant sentence in each of the 11 languages
    for rel in xquad.qrels.values():
        assert sorted(c.split(":")[0] for c in rel) == sorted(XQUAD_CANDIDATES)
    assert set(xquad.qrels) == set(xquad.queries["id"])


def test_mlqa_counts(mlqa):
    s = mlqa.summary()
    assert s["queries_per_language"] == MLQA_QUERIES and s["queries"] == 4199
    assert s["candidates_per_language"] == MLQA_CANDIDATES and s["candidates"] == 20534
    assert s["questions"] == 1148
    langs_per_id = mlqa.queries.groupby("question_id")["language"].nunique()
    assert dict(Counter(langs_per_id)) == {2: 65, 3: 263, 4: 820}
    # one relevant sentence per language that holds the id, whatever the query language
    for qid, lang, question_id in mlqa.queries[["id", "language", "question_id"]].itertuples(index=False):
        rel_langs = sorted(c.split(":")[0] for c in mlqa.qrels[qid])
        assert len(rel_langs) == langs_per_id[question_id] == len(set(rel_langs))
        assert lang in rel_langs
    assert mlqa.queries["article"].nunique() == 520


def test_duplicate_text_candidates_stay_separate(xquad, mlqa):
    # candidates whose text equals another candidate's (pooled over languages): 9 / 22 distinct texts
    assert xquad.corpus["text"].duplicated(keep=False).sum() == 23
    assert mlqa.corpus["text"].duplicated(keep=False).sum() == 60
    assert xquad.corpus["id"].is_unique and mlqa.corpus["id"].is_unique


def test_texts_are_clean(xquad, mlqa):
    for ds in (xquad, mlqa):
        text = ds.corpus["text"]
        assert (text == text.str.strip()).all()
        assert not text.str.contains("\ufeff").any()  # 59 XQuAD-R sentences start with a BOM upstream


# ---------------------------------------------------------------- relevance, hand-checked


def test_xquad_relevance_example(xquad):
    # "How many points did the Panthers defense surrender?" -> the first sentence, "...gave up just 308 points..."
    qid = "56beb4343aeaaa14008c925b"
    q = xquad.queries.set_index("id").loc[f"de:{qid}"]
    assert q["question_id"] == qid and q["article"] == "Super_Bowl_50"
    text = _text(xquad)
    rel = xquad.qrels[f"de:{qid}"]
    assert sorted(rel) == sorted(f"{lang}:0:0:0" for lang in XQUAD_CANDIDATES)
    assert all("308" in text[c] for c in rel) and set(rel.values()) == {1}
    assert text["en:0:0:0"].startswith("The Panthers defense gave up just 308 points")
    assert xquad.qrels[f"zh:{qid}"] == rel


def test_mlqa_relevance_examples(mlqa):
    text = _text(mlqa)
    # exists in ar, en, es; the es paragraph sits in a different article position than en's
    qid = "569666f4dc3983dab5624e989212c1d9d0cd1798"
    assert sorted(mlqa.qrels[f"en:{qid}"]) == ["ar:0:0:1", "en:0:0:1", "es:31:0:0"]
    assert "remains infected for its lifetime" in text["en:0:0:1"]
    assert set(mlqa.queries.loc[mlqa.queries["question_id"] == qid, "article"]) == {"Pappataci fever"}
    # exists in en and hi only
    qid = "01d27483cf18a2f59627249dc3a26ac5d75af73e"
    assert sorted(mlqa.qrels[f"hi:{qid}"]) == ["en:32:1:0", "hi:56:1:0"]
    assert "throat cancer" in text["en:32:1:0"]


def test_article_keys_align_across_languages(xquad, mlqa):
    for ds in (xquad, mlqa):
        per_q = ds.queries.groupby("question_id")["article"].nunique()
        assert (per_q == 1).all()
        # a question's relevant candidates live in the question's article, in every language
        art = dict(zip(ds.corpus["id"], ds.corpus["article"], strict=True))
        for qid, a in ds.queries[["id", "article"]].itertuples(index=False):
            assert {art[c] for c in ds.qrels[qid]} == {a}
    # MLQA-R titles are localised; keys are the English titles
    assert "Friedrich Engels" in set(mlqa.corpus.loc[mlqa.corpus["language"] == "hi", "article"])


def test_language_subset(data_root, xquad):
    ds = load_lareqa(data_root / "xquad-r", languages=["zh", "de"])
    assert ds.languages == ["de", "zh"] and len(ds.queries) == 2380 and len(ds.corpus) == 1276 + 1196
    assert all(len(r) == 2 for r in ds.qrels.values())
    full = dict(zip(xquad.queries["id"], xquad.queries["article"], strict=True))
    assert all(full[q] == a for q, a in zip(ds.queries["id"], ds.queries["article"], strict=True))
    with pytest.raises(DataError, match=r"available: \['ar', 'de'"):
        load_lareqa(data_root / "xquad-r", languages=["fr"])


def test_load_dataset_names(data_root, monkeypatch):
    assert load_dataset("mlqa-r", data_dir=data_root).name == "mlqa-r"
    monkeypatch.setenv("HYBRID_IR_DATA", str(data_root))
    ds = load_dataset("xquad-r", languages=["en"])
    assert ds.languages == ["en"] and len(ds.queries) == 1190
    assert KNOWN_SETS["xquad-r"]["languages"] == sorted(XQUAD_CANDIDATES)
    assert KNOWN_SETS["mlqa-r"]["license"] == "CC BY-NC 4.0"


def test_load_dataset_missing_named_set(tmp_path):
    with pytest.raises(DataError, match=r"python -m hybrid_core download") as e:
        load_dataset("xquad-r", data_dir=tmp_path)
    assert str(tmp_path / "xquad-r") in str(e.value) and "HYBRID_IR_DATA" in str(e.value)


def test_load_dataset_single_file(data_root):
    ds = load_dataset(str(data_root / "mlqa-r" / "de.json"))
    assert ds.languages == ["de"] and len(ds.queries) == 512 and not ds.parallel
    assert (ds.queries["question_id"] == ds.queries["id"]).all()
    with pytest.raises(DataError, match=r"de.json: no data in language"):
        load_dataset(str(data_root / "mlqa-r" / "de.json"), languages=["fr"])


# ---------------------------------------------------------------- speed and cache


def test_load_cache_returns_equal_independent_copies(data_root):
    """The second load comes from the in-process cache (no timing asserted here: see benchmarks/)."""
    clear_cache()
    first = load_lareqa(data_root / "xquad-r")
    second = load_lareqa(data_root / "xquad-r")
    assert second is not first and second.fingerprint() == first.fingerprint()
    first.queries.loc[0, "text"] = "changed"  # callers get their own frames
    assert load_lareqa(data_root / "xquad-r").queries.loc[0, "text"] != "changed"


def test_cache_sees_file_changes(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "en.json").write_text(json.dumps(_squad_obj("Cats purr. Dogs bark.", "Who barks?", "Dogs")))
    assert load_lareqa(folder).corpus["text"].tolist() == ["Cats purr.", "Dogs bark."]
    (folder / "en.json").write_text(json.dumps(_squad_obj("Cows moo. Dogs bark loudly.", "Who barks?", "Dogs")))
    os.utime(folder / "en.json", ns=(1, 1))
    assert load_lareqa(folder).corpus["text"].tolist() == ["Cows moo.", "Dogs bark loudly."]


# ---------------------------------------------------------------- SQuAD files without sentences


def _squad_obj(context: str, question: str, answer: str, qid: str = "a1", title: str = "T") -> dict:
    qa = {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}
    return {"data": [{"title": title, "paragraphs": [{"context": context, "qas": [qa]}]}]}


def test_load_squad_splits_sentences(tmp_path):
    obj = {
        "data": [
            {
                "title": "Rivers",
                "paragraphs": [
                    {
                        "context": "Dr. Smith lives in Vienna. The Danube flows through it! Does it? Yes.",
                        "qas": [
                            {"id": "q1", "question": "What flows through Vienna?",
                             "answers": [{"text": "The Danube", "answer_start": 27}]},
                            {"id": "q2", "question": "Broken?", "answers": [{"text": "x", "answer_start": 500}]},
                            {"id": "q3", "question": "Unanswerable?", "answers": []},
                        ],
                    }
                ],
            }
        ]
    }  # fmt: skip
    path = tmp_path / "en.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    with pytest.warns(UserWarning, match=r"en.json: skipped 2 question\(s\)"):
        ds = load_squad(path)
    assert ds.corpus["text"].tolist() == [
        "Dr. Smith lives in Vienna.", "The Danube flows through it!", "Does it?", "Yes."
    ]  # fmt: skip
    assert ds.queries["id"].tolist() == ["en:q1"]
    assert ds.qrels == {"en:q1": {"en:0:0:1": 1}}
    assert ds.corpus["paragraph"].unique().tolist() == ["en:0:0"] and ds.corpus["article"].iloc[0] == "Rivers"


def test_load_squad_language(tmp_path):
    path = tmp_path / "my-set.json"
    path.write_text(json.dumps(_squad_obj("Hunde bellen. Katzen schnurren.", "Wer bellt?", "Hunde")))
    with pytest.raises(DataError, match=r"my-set.json: cannot tell the language"):
        load_squad(path)
    ds = load_squad(path, language="de")
    assert ds.queries["id"].tolist() == ["de:a1"] and ds.name == "my-set"
    with pytest.raises(DataError, match=r"my-set.json.*'DE'"):
        load_squad(path, language="DE")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Brown met J. Smith in the U.S. Army. They left at 3.15 p.m. today! Why? Nobody knows.",
         ["Mr. Brown met J. Smith in the U.S. Army.", "They left at 3.15 p.m. today!", "Why?", "Nobody knows."]),
        ("北京是中国的首都。上海是最大的城市！真的吗？是的。",
         ["北京是中国的首都。", "上海是最大的城市！", "真的吗？", "是的。"]),
        ("यह पहला वाक्य है। यह दूसरा है।", ["यह पहला वाक्य है।", "यह दूसरा है।"]),
        ("هل هذا سؤال؟ نعم. هذا جواب.", ["هل هذا سؤال؟", "نعم.", "هذا جواب."]),
        ('Er rief: "Komm!" Dann ging er.\nNeue Zeile', ['Er rief: "Komm!"', "Dann ging er.", "Neue Zeile"]),
        ("\ufeff  Leading space. ", ["Leading space."]),
    ],
)  # fmt: skip
def test_split_sentences(text, expected):
    spans = split_sentences(text)
    assert [text[b:e] for b, e in spans] == expected


def test_split_sentences_thai_uses_long_spaces():
    thai = "ก" * 120 + " " + "ข" * 20 + " " + "ค" * 30
    assert [thai[b:e] for b, e in split_sentences(thai)] == ["ก" * 120, "ข" * 20 + " " + "ค" * 30]


# ---------------------------------------------------------------- bad input


def _write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "file is empty"),
        (b'{"data": [\n  {"title": "x",\n', "invalid JSON at line 3"),
        (b'{"data": []}\xff\xfe', "not valid UTF-8 .*byte offset 12"),
        (b'{"version": 1}', "'data'"),
        (b'{"data": [{"title": "x"}]}', r"data\[0\]: missing or invalid 'paragraphs'"),
        (b'{"data": [{"paragraphs": [{"qas": []}]}]}', "'context'"),
        (json.dumps({"data": [{"paragraphs": [{"context": "A. B.", "sentences": ["A."],
                                               "sentence_breaks": [[0, 2], [3, 5]], "qas": []}]}]}).encode(),
         "differ in length"),
        (json.dumps({"data": [{"paragraphs": [{"context": "A. B.", "sentence_breaks": [[0]], "qas": []}]}]}).encode(),
         "sentence_breaks"),
        (json.dumps({"data": [{"paragraphs": [{"context": "A. B.", "sentences": ["C."], "qas": []}]}]}).encode(),
         "does not occur in the context"),
        (json.dumps({"data": [{"paragraphs": [{"context": "A. B.", "qas": [
            {"id": "1", "question": "a?", "answers": []}, {"id": "1", "question": "b?", "answers": []}]}]}]}).encode(),
         "duplicate question id '1'"),
        (json.dumps({"data": [{"paragraphs": [{"context": "A. B.", "qas": [{"id": "1", "answers": []}]}]}]}).encode(),
         "'question'"),
    ],
)  # fmt: skip
def test_bad_squad_files(tmp_path, content, problem):
    path = _write(tmp_path, "de.json", content)
    with pytest.raises(DataError, match=problem) as e:
        load_squad(path)
    assert "de.json" in str(e.value)
    folder = tmp_path / "folder"
    folder.mkdir()
    _write(folder, "de.json", content)
    with pytest.raises(DataError, match=r"de.json"):
        load_lareqa(folder)


def test_nothing_usable(tmp_path):
    path = _write(
        tmp_path,
        "en.json",
        json.dumps(_squad_obj("Dogs bark.", "Who?", "Dogs")).replace('"answer_start": 0', '"answer_start": 99'),
    )
    with pytest.warns(UserWarning), pytest.raises(DataError, match=r"en\.json: no question whose answer"):
        load_squad(path)
    path = _write(tmp_path, "de.json", json.dumps({"data": [{"paragraphs": [{"context": " ", "qas": []}]}]}))
    with pytest.raises(DataError, match=r"de\.json: no sentences"):
        load_squad(path)


def test_bad_folders(tmp_path):
    with pytest.raises(DataError, match=r"nowhere: folder not found"):
        load_lareqa(tmp_path / "nowhere")
    with pytest.raises(DataError, match=r"no <language>.json files"):
        load_lareqa(tmp_path)
    _write(tmp_path, "xx.json", json.dumps(_squad_obj("A b. C d.", "q?", "C")))
    with pytest.raises(DataError, match=r"xx.json: unknown language code 'xx'"):
        load_lareqa(tmp_path)
    with pytest.raises(DataError, match=r"not a known data set"):
        load_dataset(str(tmp_path / "missing"))
    (tmp_path / "xx.json").unlink()
    _write(tmp_path, "notes.txt", "hello")
    with pytest.raises(DataError, match=r"neither a BEIR folder"):
        load_dataset(str(tmp_path))
    with pytest.raises(DataError, match=r"notes.txt: unsupported input"):
        load_dataset(str(tmp_path / "notes.txt"))


def test_bad_unrequested_language_only_warns(tmp_path):
    _write(tmp_path, "en.json", json.dumps(_squad_obj("Dogs bark. Cats purr.", "Who barks?", "Dogs", qid="1")))
    _write(tmp_path, "de.json", b"{not json")
    with pytest.warns(UserWarning, match=r"ignored for article keys: .*de.json"):
        ds = load_lareqa(tmp_path, languages=["en"])
    assert ds.languages == ["en"]
    with pytest.raises(DataError, match=r"de.json"):
        load_lareqa(tmp_path)


# ---------------------------------------------------------------- mock


def test_tiny_parallel_dataset():
    ds = tiny_parallel_dataset()
    s = ds.summary()
    assert ds.parallel and s["languages"] == ["de", "en", "fr"] and s["questions"] == 6 and s["queries"] == 18
    assert s["candidates_per_language"] == {"de": 12, "en": 12, "fr": 12}
    text = _text(ds)
    assert sorted(ds.qrels["fr:q6"]) == ["de:1:1:2", "en:1:1:2", "fr:1:1:2"]
    assert "chemistry" in text["en:1:1:2"] and "Chemie" in text["de:1:1:2"] and "chimie" in text["fr:1:1:2"]
    assert set(ds.queries["article"]) == {"Danube", "Marie Curie"}  # "Donau" linked by question ids
    assert tiny_parallel_dataset(["en", "de"]).languages == ["de", "en"]
    with pytest.raises(DataError, match=r"available"):
        tiny_parallel_dataset(["es"])


def test_paragraph_of_breaks_slice_back_to_the_sentences():
    context, breaks = paragraph_of(["Ab c.", "De.", "F"])
    assert context == "Ab c. De. F" and breaks == [[0, 5], [6, 9], [10, 11]]
    assert [context[a:b] for a, b in breaks] == ["Ab c.", "De.", "F"]
