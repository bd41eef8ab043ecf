"""The ``dictionary`` backend: word-by-word through bilingual dictionaries. A weak stand-in for MT.

Each word the ``src -> tgt`` dictionary knows becomes its most frequent translation; other words,
the word order and punctuation stay. Useful as a floor and where no MT model is at hand.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hybrid_core.augment.codeswitch import BilingualDictionary
from hybrid_core.translate import TranslateError, check_pair

_WORD = re.compile(r"\w+")


class DictionaryTranslator:
    """Word-by-word translation (weak stand-in); one dictionary per (src, tgt)."""

    def __init__(self, dictionaries: Sequence[BilingualDictionary]) -> None:
        if not dictionaries:
            raise TranslateError("the dictionary backend needs at least one bilingual dictionary")
        self.dictionaries = {(d.src, d.tgt): d for d in dictionaries}
        self.label = "dictionary-wordbyword-weak"

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self.dictionaries)

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """Each known word -> its first translation.

        >>> DictionaryTranslator([BilingualDictionary("en", "de", {"river": ["Fluss"]})]).translate(
        ...     ["the river"], "en", "de")
        ['the Fluss']
        """
        check_pair(self, src, tgt)
        d = self.dictionaries[(src, tgt)]
        return [_WORD.sub(lambda m: (d.lookup(m.group(0)) or [m.group(0)])[0], t) for t in texts]
