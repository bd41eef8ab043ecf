"""BEIR-format folders: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

Format as in BEIR (Thakur et al. 2021, https://github.com/beir-cellar/beir/wiki/Load-your-custom-dataset):
corpus records ``{"_id", "title", "text"}``, query records ``{"_id", "text"}``, qrels a TSV with
a ``query-id corpus-id score`` header. Additions: an optional ``language`` (or ``lang``) field per
record, else the ``language`` argument for the whole folder. A candidate's text is
``"{title} {text}"`` (title dropped when empty), as BEIR's sentence-transformers wrapper joins them;
``article`` is the title (passages of one page share it) and ``paragraph`` the document id.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.lareqa import cached_dataset, files_key
from hybrid_core.data.querysets import check_language, read_jsonl, read_text, stream_jsonl
from hybrid_core.errors import DataError
from hybrid_core.runs import derive_name


def _language(rec: dict, default: str | None, path: Path, line: int) -> str:
    lang = rec.get("language", rec.get("lang"))
    where = f"{path}: line {line}"
    if lang in (None, ""):
        if default is None:
            raise DataError(
                f'{where}: record {rec.get("_id")!r} has no language; add a "language" field (ISO 639-1) to '
                "every record, or pass language=... (--language) for a one-language folder"
            )
        return default
    return check_language(lang, where)


def _iter_records(
    rows: Iterable[tuple[int, dict]], path: Path, language: str | None, need_title: bool
) -> Iterator[tuple[str, str, str, str]]:
    """``(id, text, language, title)`` per record; ids must be unique and non-empty, the file not empty."""
    seen: set[str] = set()
    for line, rec in rows:
        rid = rec.get("_id", rec.get("id"))  # "id" accepted too (hand-written uploads)
        if rid is None or str(rid).strip() == "":
            raise DataError(f'{path}: line {line} has no "_id"')
        rid = str(rid)
        if rid in seen:
            raise DataError(f"{path}: line {line}: duplicate _id {rid!r}")
        seen.add(rid)
        text = rec.get("text")
        if not isinstance(text, str):
            raise DataError(f'{path}: line {line}: "text" is missing or not a string')
        title = str(rec.get("title") or "").strip() if need_title else ""
        full = f"{title} {text.strip()}".strip() if title else text.strip()
        if not full:
            raise DataError(f"{path}: line {line}: empty text")
        yield rid, full, _language(rec, language, path, line), title
    if not seen:
        raise DataError(f"{path}: file is empty")


def _records(path: Path, language: str | None, need_title: bool) -> list[tuple[str, str, str, str]]:
    return list(_iter_records(read_jsonl(path), path, language, need_title))


def iter_corpus(path: str | Path, language: str | None = None) -> Iterator[tuple[str, str, str]]:
    """``(id, text, language)`` per record of a ``corpus.jsonl``, streamed line by line (the file is never read
    whole; for corpora of millions of passages), with the checks and the text of :func:`read_corpus`."""
    path = Path(path)
    for rid, text, lang, _ in _iter_records(stream_jsonl(path), path, language, need_title=True):
        yield rid, text, lang


def read_corpus(path: Path, language: str | None = None) -> pd.DataFrame:
    """A ``corpus.jsonl`` as the id / text / language / paragraph / article table (the one reader of the format).

    The text is ``"{title} {text}"``; ``paragraph`` is the id and ``article`` the title. Records need a
    language unless ``language`` gives one for the whole file.
    """
    return pd.DataFrame(
        [(did, text, lang, did, title) for did, text, lang, title in _records(path, language, need_title=True)],
        columns=["id", "text", "language", "paragraph", "article"],
    )


def _grade(text: str, where: str) -> int:
    """A relevance grade: an integer (``2``, ``-1``; ``1.0`` is 1); fractions, inf and nan are errors."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: score {text!r} is not a number") from None
    if not math.isfinite(value) or value != int(value) or abs(value) > 2**31:
        raise DataError(f"{where}: score {text.strip()!r} is not an integer relevance grade (0, 1, 2, ...)")
    return int(value)


def _qrels(path: Path) -> list[tuple[str, str, int, int]]:
    """``(query id, corpus id, score, line)`` rows of a qrels TSV (the header line is optional)."""
    rows = []
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rstrip("\r\n").split("\t")
        if n == 1 and parts[0].strip().lower() in ("query-id", "query_id", "qid"):
            continue
        if len(parts) != 3:
            raise DataError(f"{path}: line {n}: expected 3 tab-separated fields (query-id, corpus-id, score)")
        score = _grade(parts[2], f"{path}: line {n}")
        rows.append((parts[0].strip(), parts[1].strip(), score, n))
    if not rows:
        raise DataError(f"{path}: no judgements")
    return rows


def read_queries(path: Path, language: str | None = None) -> list[tuple[str, str, str]]:
    """``(id, text, language)`` per record of a ``queries.jsonl``."""
    return [(qid, text, lang) for qid, text, lang, _ in _records(path, language, need_title=False)]


def judgements(split_path: Path, query_ids: set[str], doc_ids: set[str]) -> dict[str, dict[str, int]]:
    """The positive judgements of a qrels file as ``{query id: {doc id: grade}}``; ids must exist."""
    qrels: dict[str, dict[str, int]] = {}
    dropped: list[tuple[str, int]] = []
    for qid, did, score, line in _qrels(split_path):
        if qid not in query_ids or did not in doc_ids:
            dropped.append((qid if qid not in query_ids else did, line))
        elif score > 0:
            qrels.setdefault(qid, {})[did] = score
    if dropped:
        shown = ", ".join(f"{i!r} (line {n})" for i, n in dropped[:3])
        raise DataError(
            f"{split_path}: {len(dropped)} judgement(s) name ids absent from corpus.jsonl / queries.jsonl, e.g. {shown}"
        )
    if not qrels:
        raise DataError(f"{split_path}: no positive judgement matches a query and a document")
    return qrels


def judged_doc_ids(split_path: Path) -> set[str]:
    """Every corpus id a qrels file names (a corpus streamed past keeps only these rows' positions)."""
    return {did for _, did, _, _ in _qrels(split_path)}


def beir_files(folder: str | Path, split: str = "test", language: str | None = None) -> tuple[Path, Path, Path]:
    """``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv`` of a BEIR folder; an error names what is missing."""
    folder = Path(folder)
    if language is not None:
        check_language(language, f"{folder}: language argument")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (a BEIR folder holds corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")
    corpus_path, queries_path, qrels_path = folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels"
    for p in (corpus_path, queries_path):
        if not p.is_file():
            raise DataError(f"{p}: file not found (a BEIR folder holds corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")
    split_path = qrels_path / f"{split}.tsv"
    if not split_path.is_file():
        found = sorted(p.stem for p in qrels_path.glob("*.tsv")) if qrels_path.is_dir() else []
        raise DataError(f"{split_path}: file not found; qrels splits available: {found}")
    return corpus_path, queries_path, split_path


def load_beir(
    folder: str | Path, split: str = "test", language: str | None = None, name: str | None = None
) -> RetrievalDataset:
    """A BEIR folder as a (non-parallel) RetrievalDataset; only queries with a positive judgement are kept.

    Judgements with score <= 0 are dropped (non-relevant); a judgement that names an id absent from
    ``corpus.jsonl`` or ``queries.jsonl`` is an error (the qrels belong to another corpus or split).
    """
    folder = Path(folder)
    corpus_path, queries_path, split_path = beir_files(folder, split, language)
    name = name or derive_name(folder.resolve().name)

    def build() -> RetrievalDataset:
        corpus = read_corpus(corpus_path, language)
        queries = read_queries(queries_path, language)
        qrels = judgements(split_path, {q[0] for q in queries}, set(corpus["id"]))
        q_rows = [(qid, text, lang, qid, "") for qid, text, lang in queries if qid in qrels]
        return RetrievalDataset(
            name=name,
            queries=pd.DataFrame(q_rows, columns=["id", "text", "language", "question_id", "article"]),
            corpus=corpus,
            qrels=qrels,
            parallel=False,
        )

    return cached_dataset(("beir", files_key([corpus_path, queries_path, split_path]), split, language, name), build)
