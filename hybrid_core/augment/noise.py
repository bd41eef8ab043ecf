"""Seeded, rate-controlled query perturbations, and the ``kind:rate,...`` spec that names them.

Kinds (each a small pure function ``f(text, rate, rng) -> text``; ``rate`` in [0, 1]):

- ``typos``: per letter, with probability ``rate``, one of four character edits as in Zhuang and
  Zuccon (2021, "Dealing with Typos for BERT-based Passage Retrieval and Ranking", EMNLP,
  https://arxiv.org/abs/2108.12139): swap with the next letter, drop, insert a keyboard neighbour,
  substitute a keyboard neighbour. Keyboard neighbours come from a US QWERTY map and exist only for
  the Latin letters a-z, so insert/substitute apply only to those; other letters (accented Latin,
  Cyrillic, Arabic, Devanagari, CJK, Thai ...) get the script-independent swap or drop.
- ``casing``: each whitespace-separated word lower-cased with probability ``rate``.
- ``diacritics``: each letter, with probability ``rate``, loses its combining marks (Unicode NFD, drop
  category Mn, NFC). Only letters of the Latin, Greek, Cyrillic and Arabic scripts: in Devanagari or
  Thai the Mn marks are vowels and tone marks, not optional accents.
- ``punctuation``: each Unicode punctuation character (category P*) dropped with probability ``rate``.
- ``whitespace``: segmentation noise, meant for languages written without spaces (zh, th): each gap
  between two non-space characters gets a space with probability ``rate``, and each existing space is
  deleted with probability ``rate``.

Determinism: every call draws from a ``random.Random`` seeded by sha256 of (seed, kind, text), so
the noise of a query depends on its text and the seed only, never on its position in a batch.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Callable

from hybrid_core.augment import AugmentError

# US QWERTY: neighbours of each key on the same and the adjacent rows (lower case).
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_OFFSETS = (0.0, 0.25, 0.75)  # horizontal stagger of the rows, in key widths


def _qwerty_neighbours() -> dict[str, str]:
    pos = {c: (r, i + _OFFSETS[r]) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    return {
        c: "".join(sorted(d for d, (r2, x2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(x2 - x) <= 1.0))
        for c, (r, x) in pos.items()
    }


#: Keyboard neighbours of each Latin letter a-z on a US QWERTY keyboard.
QWERTY_NEIGHBOURS: dict[str, str] = _qwerty_neighbours()
_DIACRITIC_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "ARABIC")


def rng_for(text: str, seed: int, kind: str) -> random.Random:
    """A generator determined by (text, seed, kind) alone."""
    digest = hashlib.sha256(f"{seed}\x1f{kind}\x1f{text}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _neighbour(c: str, rng: random.Random) -> str:
    n = rng.choice(QWERTY_NEIGHBOURS[c.lower()])
    return n.upper() if c.isupper() else n


def typos(text: str, rate: float, rng: random.Random) -> str:
    """Character typos: swap / drop / insert-neighbour / substitute-neighbour, per letter with prob. ``rate``.

    >>> typos("hello", 0.0, random.Random(0))
    'hello'
    >>> typos("hello world", 0.3, random.Random(0))
    'heloo worl'
    """
    chars = list(text)
    out: list[str] = []
    i = 0
    while i < len(chars):
        c = chars[i]
        if not c.isalpha() or rng.random() >= rate:
            out.append(c)
            i += 1
            continue
        latin = c.lower() in QWERTY_NEIGHBOURS
        can_swap = i + 1 < len(chars) and chars[i + 1].isalpha() and chars[i + 1] != c
        ops = ["drop"] + (["swap"] if can_swap else []) + (["insert", "substitute"] if latin else [])
        op = rng.choice(ops)
        if op == "swap":
            out += [chars[i + 1], c]
            i += 2
            continue
        if op == "insert":
            out += [c, _neighbour(c, rng)] if rng.random() < 0.5 else [_neighbour(c, rng), c]
        elif op == "substitute":
            out.append(_neighbour(c, rng))
        i += 1  # "drop" appends nothing
    return "".join(out)


def casing(text: str, rate: float, rng: random.Random) -> str:
    """Casing loss: each whitespace-separated word lower-cased with probability ``rate``.

    >>> casing("Where is Berlin?", 1.0, random.Random(0))
    'where is berlin?'
    """
    parts = re.split(r"(\s+)", text)
    return "".join(p.lower() if p and not p.isspace() and rng.random() < rate else p for p in parts)


def _strip_marks(cluster: str) -> str:
    return unicodedata.normalize("NFC", "".join(ch for ch in cluster if unicodedata.category(ch) != "Mn"))


def diacritics(text: str, rate: float, rng: random.Random) -> str:
    """Diacritics loss (NFD, drop combining marks, NFC), per Latin/Greek/Cyrillic/Arabic letter.

    >>> diacritics("Müller aß Crème brûlée", 1.0, random.Random(0))
    'Muller aß Creme brulee'
    >>> diacritics("Ελλάδα", 1.0, random.Random(0))
    'Ελλαδα'
    """
    decomposed = unicodedata.normalize("NFD", text)
    clusters: list[str] = []  # a base character and the combining marks that follow it
    for ch in decomposed:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    out = []
    for cl in clusters:
        base = cl[0]
        has_marks = len(cl) > 1 or unicodedata.category(base) == "Mn"
        script = unicodedata.name(base, "").split(" ")[0]
        if has_marks and script in _DIACRITIC_SCRIPTS and rng.random() < rate:
            out.append(_strip_marks(cl))
        else:
            out.append(unicodedata.normalize("NFC", cl))
    return unicodedata.normalize("NFC", "".join(out))


def punctuation(text: str, rate: float, rng: random.Random) -> str:
    """Punctuation loss: each character of Unicode category P* dropped with probability ``rate``.

    >>> punctuation("¿Dónde está, «Berlín»?", 1.0, random.Random(0))
    'Dónde está Berlín'
    """
    return "".join(c for c in text if not (unicodedata.category(c).startswith("P") and rng.random() < rate))


def whitespace(text: str, rate: float, rng: random.Random) -> str:
    """Segmentation noise: insert a space in a gap between non-space characters, or delete a space.

    >>> whitespace("北京是中国的首都", 0.0, random.Random(0))
    '北京是中国的首都'
    >>> whitespace("北京 是", 1.0, random.Random(0))
    '北 京是'
    """
    out: list[str] = []
    for i, c in enumerate(text):
        if c == " ":
            if rng.random() >= rate:
                out.append(c)
            continue
        out.append(c)
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt and not c.isspace() and not nxt.isspace() and rng.random() < rate:
            out.append(" ")
    return "".join(out)


#: The perturbations by spec name.
NOISE_KINDS: dict[str, Callable[[str, float, random.Random], str]] = {
    "typos": typos,
    "casing": casing,
    "diacritics": diacritics,
    "punctuation": punctuation,
    "whitespace": whitespace,
}


class NoiseSpecError(AugmentError):
    """A noise spec with an unknown kind, a malformed item, or a rate outside [0, 1]."""


def parse_noise_spec(spec: str) -> list[tuple[str, float]]:
    """``"typos:0.1,diacritics:1.0"`` -> ``[("typos", 0.1), ("diacritics", 1.0)]``, applied in that order.

    >>> parse_noise_spec("typos:0.1, diacritics:1")
    [('typos', 0.1), ('diacritics', 1.0)]
    """
    if not isinstance(spec, str) or not spec.strip():
        kinds = ", ".join(NOISE_KINDS)
        raise NoiseSpecError(f"empty noise spec {spec!r}; use kind:rate[,kind:rate...], kinds: {kinds}")
    out: list[tuple[str, float]] = []
    for item in spec.split(","):
        kind, sep, rate_text = item.strip().partition(":")
        kind = kind.strip()
        if not sep:
            raise NoiseSpecError(f"noise spec {spec!r}: item {item.strip()!r} is not kind:rate (e.g. typos:0.1)")
        if kind not in NOISE_KINDS:
            raise NoiseSpecError(f"noise spec {spec!r}: unknown kind {kind!r}; known: {', '.join(NOISE_KINDS)}")
        try:
            rate = float(rate_text)
        except ValueError:
            raise NoiseSpecError(f"noise spec {spec!r}: rate {rate_text.strip()!r} of {kind} is not a number") from None
        if not 0.0 <= rate <= 1.0:  # also rejects nan
            raise NoiseSpecError(f"noise spec {spec!r}: rate {rate_text.strip()} of {kind} is outside [0, 1]")
        if any(k == kind for k, _ in out):
            raise NoiseSpecError(f"noise spec {spec!r}: kind {kind!r} given twice")
        out.append((kind, rate))
    return out


def noise_label(spec: str | list[tuple[str, float]]) -> str:
    """A file-name-safe short form: ``"typos:0.1,diacritics:1.0"`` -> ``"typos0.1-diacritics1"``."""
    items = parse_noise_spec(spec) if isinstance(spec, str) else spec
    return "-".join(f"{k}{r:g}" for k, r in items)


def apply_noise(text: str, spec: str | list[tuple[str, float]], seed: int = 0) -> str:
    """Apply each (kind, rate) of ``spec`` in order; deterministic by (text, seed, kind).

    >>> apply_noise("Où est la Tour Eiffel ?", "diacritics:1,casing:1,punctuation:1")
    'ou est la tour eiffel '
    """
    items = parse_noise_spec(spec) if isinstance(spec, str) else spec
    for kind, rate in items:
        if rate > 0:
            text = NOISE_KINDS[kind](text, rate, rng_for(text, seed, kind))
    return text
