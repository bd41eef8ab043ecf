"""Augmenting training queries: the ``augment`` spec of a training config, applied per batch.

Spec: ``;``-separated ``name=value`` parts, e.g. ``"noise=typos:0.1,casing:0.5;codeswitch=0.3@dicts/en-de.txt"``:

- ``noise=<noise spec>``: perturb with :func:`hybrid_core.augment.noise.apply_noise`;
- ``codeswitch=<rate>@<file>[+<file>...]``: code-switch (CoSDA-ML, Qin et al. 2020) through MUSE
  dictionaries whose file names say the pair (``en-de.txt``: English -> German); a query uses the
  dictionaries from its own language.
- ``backtranslate=<pivot>@<file>[+<file>...]``: paraphrase by round trip X -> pivot -> X (Sennrich et
  al. 2016) through the word-by-word ``dictionary`` translator (a weak stand-in for MT); a query whose
  language has no dictionary to and from the pivot (or is the pivot) is left as it is.

A study may write ``@induced`` instead of files: dictionaries induced from its training questions
(:mod:`hybrid_core.studies.dictionaries`), resolved to files before training.

Each training query is augmented with probability ``prob`` (TrainConfig ``augment_prob``); when it
is, every listed augmentation applies (back-translation, then code-switching, then noise). Only queries change:
passages stay clean, as at evaluation. Draws depend on (seed, step, query text) alone, so a
resumed run augments exactly as an uninterrupted one, and ranks of a distributed run agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hybrid_core.augment import AugmentError
from hybrid_core.augment.codeswitch import BilingualDictionary, code_switch_query, dictionary_file
from hybrid_core.augment.noise import apply_noise, parse_noise_spec, rng_for

PARTS = ("noise", "codeswitch", "backtranslate")


@dataclass(frozen=True)
class QueryAugmenter:
    """Callable on a batch of query texts: ``augmenter(texts, languages, step) -> texts``."""

    spec: str
    prob: float
    seed: int
    noise: list[tuple[str, float]] = field(default_factory=list)
    codeswitch_rate: float = 0.0
    dictionaries: tuple[BilingualDictionary, ...] = ()
    pivot: str | None = None  # back-translation pivot language
    bt_dictionaries: tuple[BilingualDictionary, ...] = ()

    def __call__(self, texts, languages, step: int) -> list[str]:
        step_seed = self.seed * 1_000_003 + step
        out = []
        for text, lang in zip(texts, languages, strict=True):
            if rng_for(text, step_seed, "augment?").random() >= self.prob:
                out.append(text)
                continue
            if self.pivot is not None:
                text = self._round_trip(text, lang)
            if self.codeswitch_rate:
                text = code_switch_query(text, lang, self.dictionaries, self.codeswitch_rate, step_seed)
            if self.noise:
                text = apply_noise(text, self.noise, step_seed)
            out.append(text)
        return out

    def _round_trip(self, text: str, lang: str) -> str:
        from hybrid_core.translate.dictionary import DictionaryTranslator
        from hybrid_core.translate.uses import round_trip

        pairs = {(d.src, d.tgt) for d in self.bt_dictionaries}
        if lang == self.pivot or (lang, self.pivot) not in pairs or (self.pivot, lang) not in pairs:
            return text
        return round_trip(DictionaryTranslator(self.bt_dictionaries), [text], lang, self.pivot)[0]


def build_augmenter(
    spec: str | None, prob: float = 0.5, seed: int = 0, read_files: bool = True
) -> QueryAugmenter | None:
    """Parse and check a spec (reading its dictionaries unless ``read_files`` is False: a syntax check, for
    dictionaries that do not exist yet); None when ``spec`` is empty."""
    if not spec:
        return None
    if not isinstance(prob, int | float) or not 0.0 < prob <= 1.0:
        raise AugmentError(f"augment_prob must be in (0, 1], got {prob!r}")
    noise: list[tuple[str, float]] = []
    rate, dictionaries = 0.0, []
    pivot, bt_dictionaries = None, []
    for part in spec.split(";"):
        name, sep, value = part.strip().partition("=")
        name = name.strip()
        if not sep or name not in PARTS:
            raise AugmentError(f"augment {spec!r}: part {part.strip()!r} is not one of {', '.join(PARTS)} = value")
        if name == "noise":
            noise = parse_noise_spec(value)
        elif name == "backtranslate":
            pivot, at, files = (x.strip() for x in value.partition("@"))
            if not pivot or not at or not files:
                raise AugmentError(
                    f"augment {spec!r}: backtranslate needs a pivot and dictionaries: "
                    "backtranslate=en@de-en.txt+en-de.txt"
                )
            if read_files:
                bt_dictionaries = [dictionary_file(f.strip(), f"augment {spec!r}") for f in files.split("+")]
        else:
            rate_text, at, files = value.partition("@")
            try:
                rate = float(rate_text)
            except ValueError:
                raise AugmentError(f"augment {spec!r}: code-switching rate {rate_text!r} is not a number") from None
            if not 0.0 <= rate <= 1.0:
                raise AugmentError(f"augment {spec!r}: code-switching rate {rate_text} is outside [0, 1]")
            if not at or not files.strip():
                raise AugmentError(f"augment {spec!r}: codeswitch needs dictionaries: codeswitch=0.3@en-de.txt")
            if read_files:
                dictionaries = [dictionary_file(f.strip(), f"augment {spec!r}") for f in files.split("+")]
    return QueryAugmenter(spec, float(prob), int(seed), noise, rate, tuple(dictionaries), pivot, tuple(bt_dictionaries))
