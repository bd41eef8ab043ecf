"""The one in-memory shape every loader produces: queries, a candidate pool and qrels, all language-tagged."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hybrid_core.errors import DataError

QUERY_COLUMNS = ("id", "text", "language", "question_id", "article")
CORPUS_COLUMNS = ("id", "text", "language", "paragraph", "article")


@dataclass(frozen=True)
class RetrievalDataset:
    """Queries, candidates and relevance judgements.

    Attributes:
        name: short name used in run folders and tables (``xquad-r``, ``mlqa-r``, ``my-set``).
        queries: one row per query; columns ``id`` (unique), ``text``, ``language`` (ISO 639-1),
            ``question_id`` (shared by translations of one question; equals ``id`` when the set
            is not parallel) and ``article`` (for article-disjoint splits; may be empty).
        corpus: one row per candidate; columns ``id`` (unique), ``text``, ``language``,
            ``paragraph`` (candidates of one paragraph are natural hard negatives) and ``article``.
        qrels: ``{query id: {candidate id: relevance grade > 0}}``.
        parallel: True when ``question_id`` links translations (LAReQA sets); enables the
            cross-lingual and multilingual settings and the rank-distance bias metrics.
    """

    name: str
    queries: pd.DataFrame
    corpus: pd.DataFrame
    qrels: dict[str, dict[str, int]]
    parallel: bool = False
    _fingerprint: list = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        for frame, cols, what in ((self.queries, QUERY_COLUMNS, "queries"), (self.corpus, CORPUS_COLUMNS, "corpus")):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise DataError(f"{self.name}: {what} table lacks columns {missing}")
            if frame["id"].duplicated().any():
                dup = frame.loc[frame["id"].duplicated(), "id"].iloc[0]
                raise DataError(f"{self.name}: duplicate {what} id {dup!r}")
        if len(self.queries) == 0:
            raise DataError(f"{self.name}: no queries")
        if len(self.corpus) == 0:
            raise DataError(f"{self.name}: no candidates in the corpus")

    @property
    def languages(self) -> list[str]:
        """Languages present in queries or corpus, sorted."""
        return sorted(set(self.query_languages) | set(self.corpus_languages))

    @property
    def query_languages(self) -> list[str]:
        return sorted(self.queries["language"].unique())  # unique() first: no Python loop over every row

    @property
    def corpus_languages(self) -> list[str]:
        return sorted(self.corpus["language"].unique())

    def fingerprint(self) -> str:
        """sha256 over queries, corpus and qrels: identifies exactly what was evaluated."""
        if not self._fingerprint:
            h = hashlib.sha256()
            for frame in (self.queries, self.corpus):
                for col in frame.columns:
                    h.update(col.encode())
                    h.update("\x1f".join(map(str, frame[col].tolist())).encode("utf-8"))
            for qid in sorted(self.qrels):
                h.update(qid.encode())
                h.update(repr(sorted(self.qrels[qid].items())).encode())
            self._fingerprint.append(h.hexdigest())
        return self._fingerprint[0]

    def subset(
        self,
        languages: list[str] | None = None,
        question_ids: list[str] | None = None,
        max_questions: int | None = None,
        seed: int = 0,
        name: str | None = None,
    ) -> RetrievalDataset:
        """A smaller dataset, deterministic by seed.

        ``languages`` keeps those languages (queries and corpus). ``question_ids`` (or a seeded
        sample of ``max_questions`` of them) keeps those questions in every language, and the
        corpus shrinks to the paragraphs that hold their relevant candidates, so hard negatives
        from the same paragraph stay in the pool.
        """
        queries, corpus = self.queries, self.corpus
        if languages is not None:
            unknown = sorted(set(languages) - set(self.languages))
            if unknown:
                raise DataError(f"{self.name}: unknown language(s) {unknown}; available: {self.languages}")
            queries = queries[queries["language"].isin(languages)]
            corpus = corpus[corpus["language"].isin(languages)]
        if max_questions is not None and question_ids is None:
            all_q = sorted(queries["question_id"].unique())
            if max_questions < len(all_q):
                rng = np.random.default_rng(seed)
                question_ids = sorted(rng.choice(all_q, size=max_questions, replace=False).tolist())
        if question_ids is not None:
            queries = queries[queries["question_id"].isin(set(question_ids))]
            relevant = {d for q in queries["id"] for d in self.qrels.get(q, {})}
            keep_paragraphs = set(corpus.loc[corpus["id"].isin(relevant), "paragraph"])
            corpus = corpus[corpus["paragraph"].isin(keep_paragraphs)]
        keep_docs = set(corpus["id"])
        qrels = {q: {d: g for d, g in self.qrels.get(q, {}).items() if d in keep_docs} for q in queries["id"]}
        qrels = {q: r for q, r in qrels.items() if r}
        return RetrievalDataset(
            name=name or self.name,
            queries=queries.reset_index(drop=True),
            corpus=corpus.reset_index(drop=True),
            qrels=qrels,
            parallel=self.parallel,
        )

    def summary(self) -> dict:
        """Counts per language, for tables and the CLI."""
        return {
            "name": self.name,
            "parallel": self.parallel,
            "languages": self.languages,
            "queries": len(self.queries),
            "questions": int(self.queries["question_id"].nunique()),
            "candidates": len(self.corpus),
            "queries_per_language": {
                k: int(v) for k, v in self.queries["language"].value_counts().sort_index().items()
            },
            "candidates_per_language": {
                k: int(v) for k, v in self.corpus["language"].value_counts().sort_index().items()
            },
        }
