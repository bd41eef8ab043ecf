"""User query sets (CSV / JSONL) against a known corpus, plus the input checks shared by every loader.

A query set has one row per query with columns ``query`` and ``language`` and either
``relevant_ids`` (candidate ids of the corpus) or ``answer`` (a string; relevant = the candidates
that contain it); ``id`` and ``question_id`` are optional. See :func:`load_query_set`.

Language codes are ISO 639-1 (two lowercase letters), checked against :data:`ISO_639_1`
(source: the Library of Congress ISO 639-2 registry, which lists the 639-1 codes;
https://www.loc.gov/standards/iso639-2/php/code_list.php).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from hybrid_core.data.dataset import CORPUS_COLUMNS, RetrievalDataset
from hybrid_core.errors import DataError
from hybrid_core.io_utils import loads_json
from hybrid_core.runs import derive_name

_ISO_TEXT = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka
kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1: frozenset[str] = frozenset(_ISO_TEXT.split())
"""The 184 ISO 639-1 two-letter language codes."""

_LANG_RE = re.compile(r"[a-z]{2}")
_ID_SEP = re.compile(r"[|;]")
QUERY_SET_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")


# ---------------------------------------------------------------- shared input checks


def check_language(code: Any, where: str) -> str:
    """Return ``code`` if it is a valid ISO 639-1 code, else raise a DataError naming ``where``."""
    if not isinstance(code, str) or not _LANG_RE.fullmatch(code):
        raise DataError(
            f"{where}: invalid language {code!r}; expected a 2-letter lowercase ISO 639-1 code such as 'en' or 'de'"
        )
    if code not in ISO_639_1:
        raise DataError(f"{where}: unknown language code {code!r}; not an ISO 639-1 code")
    return code


def read_text(path: Path) -> str:
    """Read a UTF-8 file (a leading BOM is dropped); errors name the file and the problem."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not valid UTF-8 (bad byte 0x{raw[e.start]:02x} at byte offset {e.start})") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DataError(f"{path}: file is empty")
    return text


def read_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """Yield ``(line number, object)`` for each non-blank line of a JSON Lines file."""
    text = read_text(path)
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield n, _json_object(path, n, line)


def stream_jsonl(path: Path) -> Iterator[tuple[int, dict]]:
    """:func:`read_jsonl` line by line, the file never read whole (corpora of millions of records)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found" if not path.exists() else f"{path}: not a file")
    offset = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                bad, at = raw[e.start], offset + e.start
                raise DataError(f"{path}: not valid UTF-8 (bad byte 0x{bad:02x} at byte offset {at})") from None
            offset += len(raw)
            line = line.removeprefix("\ufeff") if n == 1 else line
            if line.strip():
                yield n, _json_object(path, n, line)


def _json_object(path: Path, n: int, line: str) -> dict:
    """One JSON Lines record, or a DataError naming the file and line."""
    try:
        obj = loads_json(line)
    except ValueError as e:  # syntax, a huge integer, nesting too deep
        detail = f"{e.msg} at column {e.colno}" if isinstance(e, json.JSONDecodeError) else str(e)[:200]
        raise DataError(f"{path}: line {n} is not valid JSON ({detail})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path}: line {n} is not a JSON object")
    return obj


# ---------------------------------------------------------------- query sets


def _rows(path: Path) -> tuple[list[str], list[tuple[int, dict]]]:
    """Columns and ``(line, row)`` pairs of a CSV/TSV or JSONL query set; column names lower-cased."""
    suffix = path.suffix.lower()
    if suffix not in QUERY_SET_SUFFIXES:
        raise DataError(f"{path}: unsupported query-set format {suffix!r}; use one of {list(QUERY_SET_SUFFIXES)}")
    if suffix in (".jsonl", ".ndjson"):
        rows = [(n, {str(k).strip().lower(): v for k, v in obj.items()}) for n, obj in read_jsonl(path)]
        columns = sorted({k for _, r in rows for k in r})
        return columns, rows
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
    try:
        columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        rows = []
        for row in reader:
            if None in row:
                raise DataError(f"{path}: line {reader.line_num} has more fields than the header")
            if any((v or "").strip() for v in row.values()):
                rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    except csv.Error as e:
        raise DataError(f"{path}: line {reader.line_num}: malformed CSV ({e})") from None
    return columns, rows


def _split_ids(value: Any, path: Path, line: int) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, (str, int)):
        return [s.strip() for s in _ID_SEP.split(str(value)) if s.strip()]
    raise DataError(f"{path}: line {line}: relevant_ids must be a list or a '|'-separated string")


def normalize_for_match(text: str) -> str:
    """NFC, case-folded, whitespace-collapsed text for answer-string matching."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _corpus_frame(corpus: RetrievalDataset | pd.DataFrame) -> pd.DataFrame:
    if isinstance(corpus, RetrievalDataset):
        return corpus.corpus
    if not isinstance(corpus, pd.DataFrame):
        raise DataError(f"corpus must be a RetrievalDataset or a DataFrame, not {type(corpus).__name__}")
    missing = [c for c in ("id", "text", "language") if c not in corpus.columns]
    if missing:
        raise DataError(f"corpus table lacks columns {missing}")
    frame = corpus.copy()
    frame["id"] = frame["id"].astype(str)
    if "paragraph" not in frame.columns:
        frame["paragraph"] = frame["id"]
    if "article" not in frame.columns:
        frame["article"] = ""
    return frame[list(CORPUS_COLUMNS)].reset_index(drop=True)


def load_query_set(
    path: str | Path,
    corpus: RetrievalDataset | pd.DataFrame,
    name: str | None = None,
    answer_scope: str = "language",
) -> RetrievalDataset:
    """Queries from a CSV/TSV/JSONL file, judged against ``corpus``; returns one RetrievalDataset.

    Columns: ``query``, ``language`` (ISO 639-1), and per row ``relevant_ids`` (corpus ids
    separated by ``|`` or ``;``, or a JSON list in JSONL) or ``answer``. A row with
    ``relevant_ids`` uses them; otherwise relevant = the candidates whose text contains the answer
    (NFC, case-folded, whitespace-collapsed substring match). ``answer_scope="language"`` (default)
    searches only candidates in the query's language, because an answer string is written in one
    language and matches in other languages are mostly coincidental (numbers, names);
    ``"any"`` searches the whole corpus. Rows whose answer matches nothing are skipped with a warning.
    Optional ``id`` (default ``q<line>``) and ``question_id`` (default: the id; a value shared by
    rows in several languages marks translations and makes the set parallel). A query's
    ``article`` is the most common article of its relevant candidates.
    """
    path = Path(path)
    if answer_scope not in ("language", "any"):
        raise DataError(f"answer_scope must be 'language' or 'any', not {answer_scope!r}")
    frame = _corpus_frame(corpus)
    columns, rows = _rows(path)
    if not rows:
        raise DataError(f"{path}: file is empty (a header but no queries)")
    missing = [c for c in ("query", "language") if c not in columns]
    if "relevant_ids" not in columns and "answer" not in columns:
        missing.append("relevant_ids or answer")
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; expected query, language and relevant_ids or answer "
            f"(found {columns})"
        )

    ids = frame["id"].tolist()
    id_set = set(ids)
    article_of = dict(zip(ids, frame["article"].tolist(), strict=True))
    norm_by_lang: dict[str, list[tuple[str, str]]] = {}
    if "answer" in columns:
        for cid, text, lang in zip(ids, frame["text"].tolist(), frame["language"].tolist(), strict=True):
            norm_by_lang.setdefault(lang, []).append((cid, normalize_for_match(str(text))))
    everything = [item for items in norm_by_lang.values() for item in items]

    q_rows: list[tuple[str, str, str, str, str]] = []
    qrels: dict[str, dict[str, int]] = {}
    absent: list[tuple[str, int]] = []
    unmatched: list[int] = []
    seen: set[str] = set()
    for line, row in rows:
        where = f"{path}: line {line}"
        text = str(row.get("query") or "").strip()
        if not text:
            raise DataError(f"{where}: empty query")
        lang = check_language(str(row.get("language") or "").strip(), where)
        qid = str(row.get("id") or "").strip() or f"q{line}"
        if qid in seen:
            raise DataError(f"{where}: duplicate query id {qid!r}")
        seen.add(qid)
        rel = _split_ids(row.get("relevant_ids"), path, line)
        if rel:
            absent.extend((r, line) for r in rel if r not in id_set)
        else:
            answer = normalize_for_match(str(row.get("answer") or ""))
            if not answer:
                raise DataError(f"{where}: neither relevant_ids nor answer is given")
            pool = norm_by_lang.get(lang, []) if answer_scope == "language" else everything
            rel = [cid for cid, cand in pool if answer in cand]
            if not rel:
                unmatched.append(line)
                continue
        arts = Counter(article_of.get(r, "") for r in rel)
        q_rows.append((qid, text, lang, str(row.get("question_id") or "").strip() or qid, arts.most_common(1)[0][0]))
        qrels[qid] = dict.fromkeys(rel, 1)
    if absent:
        shown = ", ".join(f"{r!r} (line {n})" for r, n in absent[:5])
        raise DataError(f"{path}: {len(absent)} relevant id(s) are not in the corpus, e.g. {shown}")
    if unmatched:
        warnings.warn(
            f"{path}: skipped {len(unmatched)} quer(ies) whose answer occurs in no candidate (lines {unmatched[:5]})",
            stacklevel=2,
        )
    if not q_rows:
        raise DataError(f"{path}: no query has a relevant candidate in the corpus")
    queries = pd.DataFrame(q_rows, columns=["id", "text", "language", "question_id", "article"])
    langs_per_q = queries.groupby("question_id")["language"].nunique()
    return RetrievalDataset(
        name=name or derive_name(path.stem),
        queries=queries,
        corpus=frame.reset_index(drop=True),
        qrels=qrels,
        parallel=bool((langs_per_q > 1).any()),
    )
