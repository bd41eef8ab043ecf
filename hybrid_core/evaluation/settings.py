"""Evaluation settings: a query language against a pool (one language, or ``multi`` = every language).

For a parallel set with languages L:
- mono: queries in X against the candidates in X, for every X (|L| settings);
- cross: queries in X against the candidates in Y, for every ordered pair X != Y;
- multi: queries in X against every candidate of every language (one pool), for every X.
Non-parallel sets (BEIR-style) get one setting per query language against the whole corpus (kind
``multi``; with one language that is simply the standard retrieval evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import HybridIRError

MULTI = "multi"
KINDS = ("mono", "cross", "multi")


@dataclass(frozen=True)
class Setting:
    """Queries in ``query_language`` against the pool ``pool`` (a language code or ``multi``)."""

    query_language: str
    pool: str

    @property
    def kind(self) -> str:
        if self.pool == MULTI:
            return "multi"
        return "mono" if self.pool == self.query_language else "cross"

    @property
    def name(self) -> str:
        return f"{self.query_language}->{self.pool}"


def settings_for(dataset: RetrievalDataset, kinds: tuple[str, ...] = KINDS) -> list[Setting]:
    """Every setting of the requested kinds that the data set supports."""
    q_langs, c_langs = dataset.query_languages, dataset.corpus_languages
    out: list[Setting] = []
    if not dataset.parallel:
        return [Setting(x, MULTI) for x in q_langs] if "multi" in kinds else []
    for x in q_langs:
        for y in c_langs:
            s = Setting(x, y)
            if s.kind in kinds:
                out.append(s)
        if "multi" in kinds:
            out.append(Setting(x, MULTI))
    return out


def parse_setting(name: str, dataset: RetrievalDataset) -> Setting:
    """``"en->de"`` / ``"en->multi"`` -> Setting, validated against the data set."""
    if "->" not in name:
        raise HybridIRError(f"setting {name!r} should look like 'en->de' or 'en->multi'")
    x, y = name.split("->", 1)
    valid = {s.name for s in settings_for(dataset)}
    if name not in valid:
        raise HybridIRError(f"setting {name!r} is not available for {dataset.name}; e.g. {sorted(valid)[:5]}")
    return Setting(x, y)
