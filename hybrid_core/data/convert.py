"""Passage-level BEIR folders from a parallel LAReQA / SQuAD set, one per language (the MIRACL layout).

LAReQA retrieves answer *sentences* from a pool of every language; MIRACL (Zhang et al. 2023,
https://arxiv.org/abs/2210.09984) and other passage sets retrieve *paragraphs* within one language.
:func:`convert_to_beir` turns each language of a parallel set into such a folder::

    <out>/<lang>/corpus.jsonl    {"_id": "<lang>:<article>:<paragraph>", "title": "", "text": ..., "language": ...}
    <out>/<lang>/queries.jsonl   {"_id": "<question id>", "text": ..., "language": ...}
    <out>/<lang>/qrels/test.tsv  query-id, corpus-id, score (1: the paragraph holding the answer)
    <out>/convert.json           source, its fingerprint, counts per language

A passage is a paragraph's sentences joined by a space (by nothing in zh and ja).
Titles are empty by default: the set's article keys are English titles, which would leak English
into every language's passages; ``with_titles=True`` writes them. Query ids are the question ids,
so translations of a question share an id across the language folders.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import DataError
from hybrid_core.io_utils import write_json

#: Languages written without spaces between sentences: their sentences are joined with nothing.
NO_SPACE_LANGUAGES = frozenset({"zh", "ja"})


def _sentence_index(cid: str) -> int:
    tail = cid.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def passage_tables(ds: RetrievalDataset, lang: str, with_titles: bool = False) -> tuple[list, list, list]:
    """(corpus records, query records, qrels rows) of one language."""
    corpus = ds.corpus[ds.corpus["language"] == lang].copy()
    corpus["_order"] = [_sentence_index(c) for c in corpus["id"]]
    corpus = corpus.sort_values(["paragraph", "_order"], kind="stable")
    sep = "" if lang in NO_SPACE_LANGUAGES else " "
    paras = corpus.groupby("paragraph", sort=True).agg(text=("text", sep.join), article=("article", "first"))
    docs = [
        {"_id": pid, "title": row.article if with_titles else "", "text": row.text, "language": lang}
        for pid, row in paras.iterrows()
    ]
    para_of = dict(zip(corpus["id"], corpus["paragraph"], strict=True))
    queries, qrels = [], []
    for qid, text, qlang, question in ds.queries[["id", "text", "language", "question_id"]].itertuples(index=False):
        if qlang != lang:
            continue
        relevant = sorted({para_of[d] for d in ds.qrels.get(qid, {}) if d in para_of})
        if not relevant:
            continue
        queries.append({"_id": str(question), "text": text, "language": lang})
        qrels += [(str(question), pid, 1) for pid in relevant]
    return docs, queries, qrels


def convert_to_beir(
    ds: RetrievalDataset, out: str | Path, *, with_titles: bool = False, force: bool = False
) -> dict[str, dict]:
    """Write one BEIR folder ``<set>-<lang>`` per language of ``ds`` under ``out``; returns counts per language
    (with the ``folder`` name). The set's name is in the folder's, so the results of ``xquad-r-de`` and
    ``mlqa-r-de`` (stored under the folder name) never collide.

    Each language folder is written beside its target and renamed into place, so a crash leaves
    no half-written folder. An existing folder is an error unless ``force``.
    """
    if not ds.parallel:
        raise DataError(f"{ds.name}: convert takes a parallel LAReQA / SQuAD set (this one is already passage-level)")
    out = Path(out)
    langs = ds.query_languages
    folder_of = {lang: f"{ds.name}-{lang}" for lang in langs}
    existing = [folder_of[lang] for lang in langs if (out / folder_of[lang]).exists()]
    if existing and not force:
        raise DataError(f"{out}: folder(s) {existing} exist; pass --force to overwrite")
    counts: dict[str, dict] = {}
    for lang in langs:
        docs, queries, qrels = passage_tables(ds, lang, with_titles)
        if not queries:
            continue
        target = out / folder_of[lang]
        tmp = out / f".{folder_of[lang]}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "qrels").mkdir(parents=True)
        for name, recs in (("corpus.jsonl", docs), ("queries.jsonl", queries)):
            (tmp / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
        (tmp / "qrels" / "test.tsv").write_text(
            "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{s}\n" for q, d, s in qrels), encoding="utf-8"
        )
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
        counts[lang] = {"folder": target.name, "passages": len(docs), "queries": len(queries), "judgements": len(qrels)}
    write_json(
        out / "convert.json",
        {"source": ds.name, "data_fingerprint": ds.fingerprint(), "with_titles": with_titles, "languages": counts},
    )
    return counts
