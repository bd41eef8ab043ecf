"""Code-switching: replace a share of a query's words with dictionary translations.

Following CoSDA-ML (Qin et al. 2020, "CoSDA-ML: Multi-Lingual Code-Switching Data Augmentation for
Zero-Shot Cross-Lingual NLP", IJCAI, https://arxiv.org/abs/2006.06402): each word that a bilingual
dictionary knows is replaced, with probability ``rate``, by one of its translations into a target
language drawn at random among the dictionaries given. Words are ``\\w+`` runs, looked up lower-cased;
everything between words (spaces, punctuation) is kept. Scripts without spaces (zh, th, ja) form
one long run per phrase, so only whole-run entries match there.

Dictionaries are MUSE-format text files (Conneau et al. 2018, https://github.com/facebookresearch/MUSE):
one ``word<TAB>translation`` (or ``word translation``) pair per line, a word repeated on several lines
for several translations; or induced from parallel questions (:mod:`hybrid_core.augment.align`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hybrid_core.augment import AugmentError
from hybrid_core.augment.noise import rng_for
from hybrid_core.io_utils import atomic_path

_WORD = re.compile(r"\w+")
_PAIR_FILE = re.compile(r"^(?P<src>[a-z]{2,3})[-_](?P<tgt>[a-z]{2,3})(\.[^.]*)?$")


@dataclass(frozen=True)
class BilingualDictionary:
    """Word translations ``src -> tgt``: ``entries[word] = [translation, ...]`` (most frequent first)."""

    src: str
    tgt: str
    entries: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""  # file it came from, or how it was made

    def __len__(self) -> int:
        return sum(len(v) for v in self.entries.values())

    def lookup(self, word: str) -> list[str]:
        return self.entries.get(word.lower(), [])


def read_muse(path: str | Path, src: str, tgt: str) -> BilingualDictionary:
    """A MUSE-format dictionary file; a line that is not two columns is an error naming file and line."""
    path = Path(path)
    if not path.is_file():
        raise AugmentError(f"{path}: dictionary file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AugmentError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    entries: dict[str, list[str]] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split("\t") if "\t" in line else line.split()
        parts = [p.strip() for p in parts]
        if len(parts) != 2 or not all(parts):
            raise AugmentError(
                f"{path}: line {n}: expected two columns (word<TAB>translation or 'word translation'), "
                f"got {len(parts)}: {line.strip()[:60]!r}"
            )
        word, translation = parts[0].lower(), parts[1]
        if translation not in entries.setdefault(word, []):
            entries[word].append(translation)
    if not entries:
        raise AugmentError(f"{path}: dictionary file is empty")
    return BilingualDictionary(src, tgt, entries, source=str(path))


def dictionary_file(path: str, spec: str) -> BilingualDictionary:
    """A MUSE file whose name says its pair (``en-de.txt``); ``spec`` names the option in errors."""
    m = _PAIR_FILE.match(Path(path).name)
    if not m:
        raise AugmentError(
            f"{spec}: dictionary file name {Path(path).name!r} does not say its pair; name it "
            "<src>-<tgt>.txt (MUSE style, e.g. en-de.txt)"
        )
    return read_muse(path, m["src"], m["tgt"])


def write_muse(dictionary: BilingualDictionary, path: str | Path) -> Path:
    """Write ``word<TAB>translation`` lines (MUSE format), atomically."""
    lines = [f"{w}\t{t}" for w, ts in dictionary.entries.items() for t in ts]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def code_switch(text: str, dictionaries: Sequence[BilingualDictionary], rate: float, rng: random.Random) -> str:
    """Replace each known word, with probability ``rate``, by a translation from a randomly chosen dictionary.

    >>> d = BilingualDictionary("en", "de", {"river": ["Fluss"], "longest": ["längste"]})
    >>> code_switch("Which is the longest river?", [d], 1.0, random.Random(0))
    'Which is the längste Fluss?'
    """
    if not 0.0 <= rate <= 1.0:
        raise AugmentError(f"code-switching rate {rate} is outside [0, 1]")

    def repl(m: re.Match) -> str:
        word = m.group(0)
        options = [d for d in dictionaries if d.lookup(word)]
        if not options or rng.random() >= rate:
            return word
        return rng.choice(rng.choice(options).lookup(word))

    return _WORD.sub(repl, text)


def code_switch_query(
    text: str, language: str, dictionaries: Sequence[BilingualDictionary], rate: float, seed: int = 0
) -> str:
    """:func:`code_switch` with the dictionaries whose source is ``language``; deterministic by (text, seed)."""
    usable = [d for d in dictionaries if d.src == language]
    if not usable or rate == 0:
        return text
    return code_switch(text, usable, rate, rng_for(text, seed, "codeswitch"))
