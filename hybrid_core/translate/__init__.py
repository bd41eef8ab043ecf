"""A pluggable translator: ``translate(texts, src, tgt) -> list[str]``, batched and cached on disk.

Backends (:func:`get_translator`):

- ``hf``: any transformers seq2seq MT model folder (MarianMT ``opus-mt-*``, M2M100, NLLB-200);
- ``parallel``: the human translation of a parallel set, by question id. An *oracle* upper bound
  (it only translates texts the set holds, and translates them perfectly); its label says so;
- ``dictionary``: word-by-word through a bilingual dictionary: a weak stand-in, labelled so.

Uses (:mod:`hybrid_core.translate.uses`): paraphrase queries by round trip X -> pivot -> X, and
translate-train queries for languages that lack training data (back-translation as data
augmentation: Sennrich et al. 2016, "Improving Neural Machine Translation Models with Monolingual
Data", ACL, https://arxiv.org/abs/1511.06709).
"""

from __future__ import annotations

from typing import Protocol

from hybrid_core.errors import HybridIRError

BACKENDS = ("hf", "parallel", "dictionary")


class TranslateError(HybridIRError):
    """A missing or unusable translation model, or a language pair a backend cannot translate."""


class Translator(Protocol):
    """What every backend offers."""

    #: Short name used in run and data-set names and table labels (``parallel-oracle``, ``hf-opus-mt-en-de``).
    label: str

    def pairs(self) -> list[tuple[str, str]] | None:
        """Supported (src, tgt) pairs, or None when any pair of :meth:`languages` works."""

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        """One translation per text, in order."""


def get_translator(backend: str, **options) -> Translator:
    """``get_translator("hf", model="path/opus-mt-en-de")``, ``("parallel", dataset=ds)``,
    ``("dictionary", dictionaries=[...])``."""
    if backend == "hf":
        from hybrid_core.translate.hf import HFTranslator

        return HFTranslator(**options)
    if backend == "parallel":
        from hybrid_core.translate.parallel import ParallelTranslator

        return ParallelTranslator(**options)
    if backend == "dictionary":
        from hybrid_core.translate.dictionary import DictionaryTranslator

        return DictionaryTranslator(**options)
    raise TranslateError(f"unknown translation backend {backend!r}; backends: {', '.join(BACKENDS)}")


def check_pair(translator: Translator, src: str, tgt: str) -> None:
    """Raise a :class:`TranslateError` naming the backend and its pairs when ``src -> tgt`` is not one."""
    pairs = translator.pairs()
    if pairs is not None and (src, tgt) not in pairs:
        shown = ", ".join(f"{a}->{b}" for a, b in sorted(pairs)[:40]) + (" ..." if len(pairs) > 40 else "")
        raise TranslateError(
            f"{translator.label}: cannot translate {src}->{tgt}; pairs available: {shown or 'none'} "
            f"(backends: {', '.join(BACKENDS)})"
        )


def translator_from_option(option: str, dataset=None) -> Translator:
    """A training option's translator: ``"parallel"`` (the oracle over ``dataset``) or
    ``"dictionary@en-hi.txt[+hi-en.txt...]"`` (word by word, MUSE files named by their pair)."""
    if option == "parallel":
        return get_translator("parallel", dataset=dataset)
    backend, at, files = option.partition("@")
    if backend == "dictionary" and at and files.strip():
        from hybrid_core.augment.codeswitch import dictionary_file

        return get_translator(
            "dictionary", dictionaries=[dictionary_file(f.strip(), f"translate {option!r}") for f in files.split("+")]
        )
    raise TranslateError(f"translator {option!r}: use 'parallel' (oracle) or 'dictionary@<src>-<tgt>.txt[+...]'")
