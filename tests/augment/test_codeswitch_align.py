"""Code-switching and dictionary induction: MUSE files, hand-checked alignments, induction with known vectors."""

from __future__ import annotations

import doctest
import random

import numpy as np
import pytest

from hybrid_core.augment import AugmentError, align, codeswitch
from hybrid_core.augment.align import argmax_alignment, induce_dictionary, itermax_alignment, words_of
from hybrid_core.augment.codeswitch import BilingualDictionary, code_switch_query, read_muse, write_muse
from hybrid_core.data.mock import tiny_parallel_dataset
from hybrid_core.models.loading import load_model


def test_docstring_examples():
    for module in (codeswitch, align):
        assert doctest.testmod(module).failed == 0


def test_read_muse_tab_and_space(tmp_path):
    f = tmp_path / "en-de.txt"
    f.write_text("river\tFluss\nriver Strom\n\nsea\tMeer\nriver\tFluss\n", encoding="utf-8")
    d = read_muse(f, "en", "de")
    assert d.entries == {"river": ["Fluss", "Strom"], "sea": ["Meer"]}
    assert d.lookup("River") == ["Fluss", "Strom"] and len(d) == 3
    back = read_muse(write_muse(d, tmp_path / "out.tsv"), "en", "de")
    assert back.entries == d.entries


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("river\tFluss\nsea\tMeer\textra\n", "line 2: expected two columns"),
        ("river Fluss\nlonely\n", "line 2: expected two columns"),
        ("\n\n", "dictionary file is empty"),
    ],
)
def test_bad_dictionary_names_file_and_line(tmp_path, content, message):
    f = tmp_path / "bad.txt"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(AugmentError, match=message) as exc:
        read_muse(f, "en", "de")
    assert str(f) in str(exc.value)


def test_dictionary_not_utf8(tmp_path):
    f = tmp_path / "latin1.txt"
    f.write_bytes("straße\tstreet\n".encode("latin-1"))
    with pytest.raises(AugmentError, match="not UTF-8"):
        read_muse(f, "de", "en")


def test_code_switch_rate_and_determinism():
    d = BilingualDictionary("en", "de", {"the": ["der", "die"], "river": ["Fluss"], "sea": ["Meer"]})
    fr = BilingualDictionary("en", "fr", {"river": ["fleuve"]})
    text = "The river flows into the sea."
    assert code_switch_query(text, "en", [d], 0.0) == text
    assert code_switch_query(text, "de", [d], 1.0) == text  # no dictionary from German
    full = code_switch_query(text, "en", [d], 1.0, seed=0)
    assert full.split()[1:2] == ["Fluss"] and full.endswith("Meer.") and "flows into" in full
    assert code_switch_query(text, "en", [d], 1.0, seed=0) == full
    mixed = {code_switch_query(text, "en", [d, fr], 1.0, seed=s).split()[1] for s in range(20)}
    assert mixed == {"Fluss", "fleuve"}  # the target language is drawn per word
    long = " ".join(["river"] * 400)
    share = code_switch_query(long, "en", [d], 0.3, seed=1).split().count("Fluss") / 400
    assert 0.2 < share < 0.4
    with pytest.raises(AugmentError, match="outside"):
        codeswitch.code_switch(text, [d], 1.5, random.Random(0))


def test_alignments_by_hand():
    sim = np.array([[0.9, 0.2, 0.1], [0.1, 0.3, 0.8], [0.2, 0.7, 0.75]])
    # row 2's best is column 2, whose best is row 1: argmax leaves row 2 unaligned
    assert argmax_alignment(sim).astype(int).tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    # itermax's second round: row 2 and column 1 are free -> aligned
    assert itermax_alignment(sim).astype(int).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    assert words_of("Who's there?") == ["Who", "'", "s", "there", "?"]


def test_induce_with_known_vectors(monkeypatch):
    """Vectors that put translations on one axis: the induced dictionary is exactly the concept table."""
    concepts = {
        "where": 0, "wo": 0, "où": 0, "danube": 1, "donau": 1, "marie": 2, "curie": 3,
        "river": 4, "fluss": 4, "fleuve": 4, "sea": 5, "meer": 5, "mer": 5,
    }  # fmt: skip

    def fake_vectors(model, texts, layer, batch_size=32):
        out = []
        for words in texts:
            v = np.zeros((len(words), 64))
            for i, w in enumerate(words):
                v[i, concepts.get(w.lower(), 10 + sum(map(ord, w.lower())) % 50)] = 1.0
            out.append(v)
        return out

    monkeypatch.setattr(align, "_word_vectors", fake_vectors)
    monkeypatch.setattr(align, "default_layer", lambda model: 1)
    ds = tiny_parallel_dataset()
    d, table = induce_dictionary(None, ds, "en", "de", min_count=2)
    assert d.entries["danube"] == ["donau"]  # the Danube is in three German questions
    assert "marie" not in d.entries  # identical strings are dropped
    assert (table["count"] >= 2).all() and table["count"].is_monotonic_decreasing
    d1, _ = induce_dictionary(None, ds, "en", "de", min_count=1, method="argmax")
    assert set(d.entries) <= set(d1.entries)
    with pytest.raises(AugmentError, match="no queries in 'xx'"):
        induce_dictionary(None, ds, "en", "xx")
    with pytest.raises(AugmentError, match="unknown alignment method"):
        induce_dictionary(None, ds, "en", "de", method="maxmax")


def test_align_with_tiny_model(mock_model):
    model = load_model(mock_model, device="cpu")
    links = align.align_pairs(model, [("Where does the Danube rise?", "Wo entspringt die Donau?"), ("", "x")])
    assert links[1] == []
    src, tgt = set(words_of("Where does the Danube rise?")), set(words_of("Wo entspringt die Donau?"))
    assert links[0] and all(a in src and b in tgt for a, b in links[0])
