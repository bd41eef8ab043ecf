"""Perturbations: hand-checked outputs, rate 0 is the identity, determinism by (text, seed, kind), spec errors."""

from __future__ import annotations

import doctest
import random
import re
import unicodedata

import pytest

from hybrid_core.augment import noise
from hybrid_core.augment.noise import (
    NOISE_KINDS,
    QWERTY_NEIGHBOURS,
    NoiseSpecError,
    apply_noise,
    noise_label,
    parse_noise_spec,
)
from hybrid_core.errors import HybridIRError

SAMPLES = [
    "Where is the capital of Germany?",
    "Wo liegt die Hauptstadt Deutschlands?",
    "Où se trouve la capitale de l'Allemagne ?",
    "德国的首都在哪里？",
    "เมืองหลวงของเยอรมนีอยู่ที่ไหน",
    "Где находится столица Германии?",
]


def test_docstring_examples():
    result = doctest.testmod(noise)
    assert result.failed == 0 and result.attempted >= 8


@pytest.mark.parametrize("kind", sorted(NOISE_KINDS))
def test_rate_zero_is_identity_and_seeded(kind):
    for text in SAMPLES:
        assert apply_noise(text, f"{kind}:0", seed=3) == text
        a = apply_noise(text, f"{kind}:0.5", seed=3)
        assert a == apply_noise(text, f"{kind}:0.5", seed=3)


def test_noise_does_not_depend_on_batch_position():
    batch = [apply_noise(t, "typos:0.3", 7) for t in SAMPLES]
    assert [apply_noise(t, "typos:0.3", 7) for t in reversed(SAMPLES)] == list(reversed(batch))
    seeds = {apply_noise(SAMPLES[0], "typos:0.3", s) for s in range(10)}
    assert len(seeds) > 5  # the seed matters


def test_qwerty_map_is_symmetric_and_local():
    assert set(QWERTY_NEIGHBOURS) == set("abcdefghijklmnopqrstuvwxyz")
    assert QWERTY_NEIGHBOURS["a"] == "qswz" and QWERTY_NEIGHBOURS["m"] == "jkn"
    for c, ns in QWERTY_NEIGHBOURS.items():
        assert all(c in QWERTY_NEIGHBOURS[n] for n in ns)


def test_typo_rate_controls_edits():
    text = "the quick brown fox jumps over the lazy dog " * 20
    letters = sum(c.isalpha() for c in text)
    changed = []
    for rate in (0.05, 0.2, 0.5):
        out = noise.typos(text, rate, random.Random(0))
        diff = sum(a != b for a, b in zip(out, text, strict=False)) + abs(len(out) - len(text))
        changed.append(diff)
        assert len(out) >= len(text) - letters * rate * 2  # every edit removes at most one letter
    assert changed[0] < changed[1] < changed[2]


def test_typos_on_non_latin_only_swap_or_drop():
    text = "Где находится столица Германии"
    out = noise.typos(text, 1.0, random.Random(0))
    assert set(out) <= set(text)  # no keyboard letter inserted
    assert out != text


def test_casing_diacritics_punctuation_whitespace_by_hand():
    r = random.Random(0)
    assert noise.casing("ÉCOLE Normale", 1.0, r) == "école normale"
    assert noise.diacritics("Tiếng Việt", 1.0, r) == "Tieng Viet"
    assert noise.diacritics("Ёлка й", 1.0, r) == "Елка и"
    hindi = "हिन्दी"  # vowel signs and virama are marks of Devanagari: not diacritics, kept
    assert noise.diacritics(hindi, 1.0, r) == hindi
    out = noise.diacritics("Crème", 1.0, r)
    assert unicodedata.is_normalized("NFC", out)
    assert noise.punctuation("「北京」、上海。", 1.0, r) == "北京上海"
    assert noise.punctuation("a-b", 0.0, r) == "a-b"
    assert noise.whitespace("ab", 1.0, r) == "a b"
    assert noise.whitespace("a b", 1.0, r) == "ab"


def test_whitespace_segmentation_on_chinese():
    text = "德国的首都在哪里"
    out = apply_noise(text, "whitespace:0.5", 0)
    assert out.replace(" ", "") == text and " " in out


def test_spec_parsing_and_label():
    assert parse_noise_spec("typos:0.1,diacritics:1.0") == [("typos", 0.1), ("diacritics", 1.0)]
    assert noise_label("typos:0.1,diacritics:1.0") == "typos0.1-diacritics1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("typoz:0.1", "unknown kind 'typoz'"),
        ("typos:1.5", "outside [0, 1]"),
        ("typos:-0.1", "outside [0, 1]"),
        ("typos:nan", "outside [0, 1]"),
        ("typos", "not kind:rate"),
        ("typos:x", "not a number"),
        ("typos:0.1,typos:0.2", "given twice"),
        ("", "empty noise spec"),
    ],
)
def test_bad_spec_names_the_spec(spec, message):
    with pytest.raises(NoiseSpecError, match=re.escape(message)) as exc:
        parse_noise_spec(spec)
    assert isinstance(exc.value, HybridIRError)
    if spec:
        assert repr(spec) in str(exc.value)
