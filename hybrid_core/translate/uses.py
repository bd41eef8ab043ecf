"""What translators are for here: round-trip paraphrases, and translated (translate-train) queries."""

from __future__ import annotations

import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.translate import TranslateError, Translator


def round_trip(translator: Translator, texts: list[str], lang: str, pivot: str) -> list[str]:
    """Paraphrases by back-translation: ``lang -> pivot -> lang`` (Sennrich et al. 2016)."""
    if lang == pivot:
        raise TranslateError(f"round trip needs a pivot language other than {lang!r}")
    return translator.translate(translator.translate(list(texts), lang, pivot), pivot, lang)


def translated_queries_name(name: str, translator: Translator, src: str, tgt: str) -> str:
    """``xquad-r`` + parallel oracle en->sw -> ``xquad-r-tt-en-sw-parallel-oracle-xquad-r``."""
    return f"{name}-tt-{src}-{tgt}-{translator.label}"


def add_translated_queries(
    dataset: RetrievalDataset,
    translator: Translator,
    src: str,
    tgt: str,
    *,
    replace: bool = False,
    name: str | None = None,
) -> RetrievalDataset:
    """Translate-train data: each ``src`` query translated into ``tgt``, judged like its source query.

    A translated query gets id ``"{tgt}:{question_id}"`` and the source query's judgements (in a
    parallel set those name the answer in every language). Questions that already have a ``tgt``
    query keep it unless ``replace``. Candidates are untouched. Use on the training part only.
    """
    q = dataset.queries
    source = q[q["language"] == src]
    if source.empty:
        raise TranslateError(f"{dataset.name}: no {src!r} queries to translate; languages: {dataset.query_languages}")
    existing = set(q.loc[q["language"] == tgt, "question_id"])
    todo = source if replace else source[~source["question_id"].isin(existing)]
    keep = q[~((q["language"] == tgt) & q["question_id"].isin(set(todo["question_id"])))]
    new = todo.copy()
    new["text"] = translator.translate(todo["text"].tolist(), src, tgt) if len(todo) else []
    new["language"] = tgt
    new["id"] = [f"{tgt}:{qid}" for qid in todo["question_id"]]
    clash = set(new["id"]) & set(keep["id"])
    if clash:
        raise TranslateError(f"{dataset.name}: translated query ids {sorted(clash)[:3]} already exist")
    qrels = {k: v for k, v in dataset.qrels.items() if k in set(keep["id"])}
    qrels.update({nid: dict(dataset.qrels[oid]) for nid, oid in zip(new["id"], todo["id"], strict=True)})
    return RetrievalDataset(
        name=name or translated_queries_name(dataset.name, translator, src, tgt),
        queries=pd.concat([keep, new], ignore_index=True),
        corpus=dataset.corpus,
        qrels=qrels,
        parallel=dataset.parallel,
    )
