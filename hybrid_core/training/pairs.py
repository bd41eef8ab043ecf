"""Training pairs: every (question in language X, its answer sentence in language Y) of a data set.

A pair exists for a question id present in both X and Y (X = Y included). :class:`PairSet` also holds
what hard negatives need (sentences of the same paragraph) and groups of questions that share an answer
text, which may never share a batch (one would be the other's false negative). The batch samplers that
draw from a PairSet are in :mod:`hybrid_core.training.samplers`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.union_find import components
from hybrid_core.errors import DataError


@dataclass(frozen=True)
class PairSet:
    """All (question in X, answer sentence in Y) pairs of a data set, plus what hard negatives need.

    Attributes:
        pairs: one row per pair; columns ``question_id``, ``query_id``, ``query_language``,
            ``passage_language``, ``query_text``, ``passage_id``, ``passage_text``, ``paragraph``
            (index into ``paragraph_members``), ``group`` (questions sharing an answer text share a
            group; a batch never holds a group twice).
        corpus_text: every candidate's text; ``paragraph_members[k]`` are the candidate rows of
            paragraph ``k`` (one language), the natural hard negatives.
        corpus_text_id: candidate row -> id of its text (equal texts share an id).
        group_text_ids: group -> text ids relevant to any question of the group (never negatives).
        corpus_language: candidate row -> language, for hard-negative fallbacks.
    """

    name: str
    pairs: pd.DataFrame
    corpus_text: np.ndarray
    corpus_text_id: np.ndarray
    corpus_language: np.ndarray
    paragraph_members: list[np.ndarray]
    group_text_ids: list[frozenset[int]]
    _fingerprint: list = field(default_factory=list, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.pairs["query_language"]) | set(self.pairs["passage_language"]))

    def hard_negative_candidates(self, i: int) -> np.ndarray:
        """Corpus rows of pair ``i``'s hard negatives: the other sentences of its positive's paragraph
        (so in language Y) that hold no answer of the pair's question group. The sampler further drops
        sentences relevant to any other question in the batch."""
        row = self.pairs.iloc[i]
        members = self.paragraph_members[row["paragraph"]]
        banned = self.group_text_ids[row["group"]]
        return members[[self.corpus_text_id[m] not in banned for m in members]]

    def fingerprint(self) -> str:
        """sha256 of the pairs (ids, texts and order): a resumed run must see the very same pairs."""
        if not self._fingerprint:
            h = hashlib.sha256()
            for col in ("query_id", "query_text", "passage_id", "passage_text"):
                h.update("\x1f".join(self.pairs[col].tolist()).encode("utf-8"))
            self._fingerprint.append(h.hexdigest())
        return self._fingerprint[0]


def _groups(question_ids: Sequence[str], texts_of: dict[str, set[int]]) -> dict[str, int]:
    """Questions whose relevant sentences share a text end up in one group (numbered by smallest id)."""
    first_owner: dict[int, str] = {}
    links = [(q, first_owner.setdefault(t, q)) for q in question_ids for t in texts_of.get(q, ())]
    root = components(question_ids, links)
    index = {r: i for i, r in enumerate(sorted(set(root.values())))}
    return {q: index[root[q]] for q in question_ids}


def build_pairs(dataset: RetrievalDataset, languages: Sequence[str] | None = None) -> PairSet:
    """Every (question in X, answer sentence in Y) pair of ``dataset``.

    A question's relevant sentences are the union of the qrels of all its translations (queries
    sharing ``question_id``), so LAReQA-style qrels (all languages) and per-language qrels both
    work. With several relevant sentences in one language Y, the one with the smallest id is the
    positive (the others are never used as negatives). ``languages`` keeps pairs whose X and Y
    are both in it; a listed language without any pair is an error, not a silent no-op.

    Example (hand-checkable): 2 questions in en and de, each answered in both -> 2 x 2 x 2 = 8
    pairs: (en,en), (en,de), (de,en), (de,de) per question.
    """
    q = dataset.queries[["id", "text", "language", "question_id"]].astype({"question_id": str})
    corpus = dataset.corpus.reset_index(drop=True)
    row_of = pd.Series(np.arange(len(corpus)), index=corpus["id"].astype(str))
    text_ids, _ = pd.factorize(corpus["text"])
    qid_of = dict(zip(q["id"].astype(str), q["question_id"], strict=True))
    rel = [
        (qid_of[qi], row_of[c])
        for qi, cands in dataset.qrels.items()
        if qi in qid_of
        for c, grade in cands.items()
        if grade > 0 and c in row_of.index
    ]
    if not rel:
        raise DataError(f"{dataset.name}: no query has a relevant candidate in the corpus; nothing to train on")
    rel_df = pd.DataFrame(rel, columns=["question_id", "row"]).drop_duplicates()
    rel_df["passage_language"] = corpus["language"].to_numpy()[rel_df["row"].to_numpy()]
    rel_df["passage_id"] = corpus["id"].astype(str).to_numpy()[rel_df["row"].to_numpy()]
    texts_of: dict[str, set[int]] = {}
    for qid, row in zip(rel_df["question_id"], rel_df["row"], strict=True):
        texts_of.setdefault(qid, set()).add(int(text_ids[row]))
    positives = rel_df.sort_values(["question_id", "passage_language", "passage_id"]).drop_duplicates(
        ["question_id", "passage_language"]
    )
    pairs = q.rename(columns={"id": "query_id", "text": "query_text", "language": "query_language"}).merge(
        positives, on="question_id", how="inner"
    )
    if languages is not None:
        wanted = list(dict.fromkeys(languages))
        pairs = pairs[pairs["query_language"].isin(wanted) & pairs["passage_language"].isin(wanted)]
        present = set(pairs["query_language"]) | set(pairs["passage_language"])
        missing = [lang for lang in wanted if lang not in present]
        if missing:
            raise DataError(
                f"{dataset.name}: language(s) {missing} have no training pairs (no question with an answer "
                f"in that language); languages with pairs: {sorted(present) or 'none'}"
            )
    if pairs.empty:
        raise DataError(f"{dataset.name}: no training pairs")
    pairs = pairs.sort_values(["question_id", "query_language", "passage_language"], kind="stable")
    pairs = pairs.reset_index(drop=True)
    # Paragraph keys are per language: a hard negative must be in the passage's language.
    para_key = corpus["language"].astype(str) + "\x1f" + corpus["paragraph"].astype(str)
    para_codes, _ = pd.factorize(para_key)
    members = [np.flatnonzero(para_codes == k) for k in range(para_codes.max() + 1)]
    group_of = _groups(sorted(set(pairs["question_id"])), texts_of)
    n_groups = max(group_of.values()) + 1
    group_texts: list[set[int]] = [set() for _ in range(n_groups)]
    for qid, g in group_of.items():
        group_texts[g] |= texts_of.get(qid, set())
    pairs["paragraph"] = para_codes[pairs["row"].to_numpy()]
    pairs["group"] = pairs["question_id"].map(group_of).astype(np.int64)
    pairs["passage_text"] = corpus["text"].to_numpy()[pairs["row"].to_numpy()]
    pairs = pairs.drop(columns=["row"])
    return PairSet(
        name=dataset.name,
        pairs=pairs[
            [
                "question_id",
                "query_id",
                "query_language",
                "passage_language",
                "query_text",
                "passage_id",
                "passage_text",
                "paragraph",
                "group",
            ]
        ],
        corpus_text=corpus["text"].to_numpy(dtype=object),
        corpus_text_id=np.asarray(text_ids, dtype=np.int64),
        corpus_language=corpus["language"].astype(str).to_numpy(dtype=object),
        paragraph_members=members,
        group_text_ids=[frozenset(t) for t in group_texts],
    )


def reduce_pairs(
    pairs: PairSet, languages: Sequence[str], fraction: float, seed: int = 0
) -> tuple[PairSet, pd.DataFrame]:
    """Simulate a low-resource language: keep ``fraction`` of the questions of each of ``languages``.

    For each listed language L, the questions with a pair involving L (query or passage in L) are
    sampled without replacement, ``max(1, floor(fraction * n + 0.5))`` of them kept (a generator seeded
    by ``seed`` and L, so the cut is the same for every arm and training seed); every pair involving L
    of the other questions is cut. Pairs between other languages stay. Returns the reduced set and the
    cut pairs (for :func:`translate_train_pairs`).

    Example: 10 questions with en and hi, fraction 0.2 -> 2 questions keep their (en,hi), (hi,en) and
    (hi,hi) pairs; the other 8 keep only (en,en).
    """
    import math
    import zlib

    df = pairs.pairs
    cut = np.zeros(len(df), dtype=bool)
    for lang in dict.fromkeys(languages):
        involved = ((df["query_language"] == lang) | (df["passage_language"] == lang)).to_numpy()
        if not involved.any():
            raise DataError(
                f"{pairs.name}: reduce_languages names {lang!r}, which has no training pairs; "
                f"languages with pairs: {pairs.languages}"
            )
        qids = sorted(set(df.loc[involved, "question_id"]))
        n_keep = max(1, math.floor(fraction * len(qids) + 0.5))
        rng = np.random.default_rng([seed, zlib.crc32(lang.encode("utf-8"))])
        keep = set(rng.choice(np.array(qids, dtype=object), size=n_keep, replace=False).tolist())
        cut |= involved & ~df["question_id"].isin(keep).to_numpy()
    reduced = dataclasses.replace(pairs, pairs=df[~cut].reset_index(drop=True), _fingerprint=[])
    return reduced, df[cut].reset_index(drop=True)


def translate_train_pairs(
    reduced: PairSet, cut: pd.DataFrame, full: pd.DataFrame, translator, source: str, languages: Sequence[str]
) -> tuple[PairSet, int]:
    """Translate-train: give the cut questions their ``languages`` queries back, translated from ``source``.

    Each cut pair whose query is in a reduced language L and whose passage is not in a reduced
    language returns with the query text ``translator.translate(<source query of the question>,
    source, L)`` and the query id ``"tt:L:<question id>"`` (marked translated; cf.
    :func:`hybrid_core.translate.uses.add_translated_queries`); passages in L stay cut (only queries
    are translated). Questions without a ``source`` query stay cut. With the ``parallel`` backend the
    translation is the set's own human translation: an oracle upper bound. Returns the set and the
    number of restored pairs.
    """
    reduced_langs = set(languages)
    src_text = full[full["query_language"] == source].drop_duplicates("question_id")
    src_text = dict(zip(src_text["question_id"], src_text["query_text"], strict=True))
    back = cut[
        cut["query_language"].isin(reduced_langs)
        & ~cut["passage_language"].isin(reduced_langs)
        & cut["question_id"].isin(set(src_text))
    ].copy()
    for lang, idx in back.groupby("query_language").groups.items():
        qids = back.loc[idx, "question_id"].tolist()
        unique = sorted(set(qids))
        translated = dict(zip(unique, translator.translate([src_text[q] for q in unique], source, lang), strict=True))
        back.loc[idx, "query_text"] = [translated[q] for q in qids]
        back.loc[idx, "query_id"] = [f"tt:{lang}:{q}" for q in qids]
    df = pd.concat([reduced.pairs, back], ignore_index=True)
    df = df.sort_values(["question_id", "query_language", "passage_language"], kind="stable").reset_index(drop=True)
    return dataclasses.replace(reduced, pairs=df, _fingerprint=[]), len(back)
