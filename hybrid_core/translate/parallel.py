"""The ``parallel`` backend: the human translation of a query, found by question id. An oracle.

It translates only texts that occur as queries of the set, and translates them as the set's
translators did; results built with it are an upper bound for machine translation, and every
label it produces carries ``oracle``.
"""

from __future__ import annotations

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.translate import TranslateError, check_pair


class ParallelTranslator:
    """Look a text up among the ``src`` queries, return the ``tgt`` query with the same question id."""

    def __init__(self, dataset: RetrievalDataset) -> None:
        if not dataset.parallel:
            raise TranslateError(f"{dataset.name}: the parallel (oracle) backend needs a parallel set (question ids)")
        self.dataset = dataset
        self.label = f"parallel-oracle-{dataset.name}"
        q = dataset.queries
        self._by_lang = {
            lang: dict(zip(g["question_id"], g["text"], strict=True)) for lang, g in q.groupby("language", sort=True)
        }
        self._qid = {lang: {t: qid for qid, t in m.items()} for lang, m in self._by_lang.items()}

    def pairs(self) -> list[tuple[str, str]]:
        langs = sorted(self._by_lang)
        return [(a, b) for a in langs for b in langs if a != b]

    def coverage(self, texts: list[str], src: str, tgt: str) -> list[bool]:
        """Which texts have a human translation into ``tgt``."""
        qids, target = self._qid.get(src, {}), self._by_lang.get(tgt, {})
        return [qids.get(t) in target for t in texts]

    def translate(self, texts: list[str], src: str, tgt: str) -> list[str]:
        check_pair(self, src, tgt)
        qids, target = self._qid[src], self._by_lang[tgt]
        out = []
        for t in texts:
            qid = qids.get(t)
            if qid is None or qid not in target:
                why = "is not a query of the set" if qid is None else f"(question {qid}) has no {tgt} version"
                raise TranslateError(f"{self.label}: {src} text {t[:60]!r} {why}; use coverage() to select texts")
            out.append(target[qid])
        return out
