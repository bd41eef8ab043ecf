"""Translators: the hf backend on a tiny random Marian model, the cache, the oracle and dictionary backends."""

from __future__ import annotations

import doctest

import pytest

from hybrid_core.augment.codeswitch import BilingualDictionary
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.translate import TranslateError, dictionary, get_translator
from hybrid_core.translate.cache import TranslationCache
from hybrid_core.translate.uses import add_translated_queries, round_trip
from tests.tiny_model import save_tiny_st


def test_hf_marian_translates_batched_and_cached(tiny_marian, tmp_path, monkeypatch):
    cache = TranslationCache(tmp_path / "tr.sqlite")
    t = get_translator("hf", model=tiny_marian, cache=cache, batch_size=2, max_new_tokens=6)
    assert t.family == "marian" and t.pairs() == [("en", "de")] and t.label == "hf-opus-mt-en-de"
    texts = ["Where is the river?", "the sea", "Where is the river?", "is the river ."]
    out = t.translate(texts, "en", "de")
    assert len(out) == 4 and all(isinstance(s, str) for s in out) and out[0] == out[2]
    unbatched = get_translator("hf", model=tiny_marian, cache=False, batch_size=1, max_new_tokens=6)
    assert unbatched.translate(texts, "en", "de") == out  # padding does not change greedy outputs
    calls = []
    monkeypatch.setattr(t, "_generate", lambda x, s, g: calls.append(x) or ["?"] * len(x))
    assert t.translate(texts, "en", "de") == out and calls == []  # all from the cache
    assert t.translate(["the river", *texts], "en", "de")[0] == "?" and calls == [["the river"]]


def test_hf_unsupported_pair_names_pairs_and_backends(tiny_marian):
    t = get_translator("hf", model=tiny_marian, cache=False)
    with pytest.raises(TranslateError, match=r"cannot translate en->xx; pairs available: en->de .*backends: hf"):
        t.translate(["the river"], "en", "xx")


def test_hf_bad_folders(tmp_path):
    with pytest.raises(TranslateError, match="translation model folder not found"):
        get_translator("hf", model=tmp_path / "missing")
    encoder = save_tiny_st(tmp_path / "enc", ["a", "b"])
    with pytest.raises(TranslateError, match="'bert' is not a seq2seq"):
        get_translator("hf", model=encoder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TranslateError, match="not a transformers model folder"):
        get_translator("hf", model=tmp_path / "empty")
    with pytest.raises(TranslateError, match="backends: hf, parallel, dictionary"):
        get_translator("google")


def test_parallel_oracle():
    ds = tiny_parallel_dataset()
    t = get_translator("parallel", dataset=ds)
    assert "oracle" in t.label
    en = ds.queries[ds.queries["language"] == "en"].sort_values("question_id")
    de = ds.queries[ds.queries["language"] == "de"].sort_values("question_id")
    assert t.translate(en["text"].tolist(), "en", "de") == de["text"].tolist()
    assert round_trip(t, en["text"].tolist(), "en", "fr") == en["text"].tolist()
    assert t.coverage(["not a query"], "en", "de") == [False]
    with pytest.raises(TranslateError, match="not a query of the set"):
        t.translate(["not a query"], "en", "de")
    with pytest.raises(TranslateError, match="cannot translate en->sw"):
        t.translate(en["text"].tolist(), "en", "sw")


def test_dictionary_backend():
    assert doctest.testmod(dictionary).failed == 0
    t = get_translator("dictionary", dictionaries=[BilingualDictionary("en", "de", {"river": ["Fluss", "Strom"]})])
    assert "weak" in t.label
    assert t.translate(["The river, the river."], "en", "de") == ["The Fluss, the Fluss."]
    with pytest.raises(TranslateError, match="pairs available: en->de"):
        t.translate(["x"], "de", "en")


def test_translate_train_queries():
    ds = tiny_parallel_dataset(["en", "de", "fr"]).subset(languages=["en", "fr"])
    t = get_translator("dictionary", dictionaries=[BilingualDictionary("en", "de", {"danube": ["Donau"]})])
    with pytest.raises(TranslateError, match="pairs available"):
        add_translated_queries(ds, t, "en", "sw")
    out = add_translated_queries(ds, t, "en", "de")
    new = out.queries[out.queries["language"] == "de"]
    assert len(new) == 6 and out.name.endswith("tt-en-de-dictionary-wordbyword-weak")
    assert new.set_index("id").loc["de:q1", "text"] == "Where does the Donau rise?"
    assert out.qrels["de:q1"] == ds.qrels["en:q1"]
    assert len(out.corpus) == len(ds.corpus)
    again = add_translated_queries(out, t, "en", "de")  # German queries exist now: nothing to add
    assert len(again.queries) == len(out.queries)
