"""LAReQA-style SQuAD JSON (XQuAD-R, MLQA-R, or any SQuAD v1 file) as sentence retrieval.

Following LAReQA (Roy et al. 2020, https://arxiv.org/abs/2004.05484, section 3.1), candidates are
the sentences of every paragraph, and a sentence is relevant to a question when it holds the
answer (``answer_start`` falls inside its ``[start, end)`` break). A question id is shared by the
translations of one question, so in the pooled corpus query ``"{X}:{qid}"`` is relevant to the
answer sentence of ``qid`` in every language that has it.

Ids: query ``"{lang}:{qid}"``, candidate ``"{lang}:{article_idx}:{paragraph_idx}:{sentence_idx}"``
(indices into that language's file; text stripped of surrounding whitespace and BOMs), ``paragraph``
``"{lang}:{article_idx}:{paragraph_idx}"``.
``article`` is a cross-language key: articles of different languages that share a question id are
one article (union-find over question ids), named by the English title when English is among
the files, else by the title in the alphabetically first language. XQuAD-R files list the same 48
articles in the same order with the same (English) titles; MLQA-R titles are localised and the
article order differs per language, so the question-id link is what makes keys comparable. Keys
are computed from every ``<lang>.json`` in the folder, so they do not change with ``languages``.
"""

from __future__ import annotations

import functools
import re
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.data.querysets import ISO_639_1, check_language, read_text
from hybrid_core.data.union_find import components
from hybrid_core.errors import DataError
from hybrid_core.io_utils import json_error, loads_json
from hybrid_core.runs import derive_name

# ---------------------------------------------------------------- sentence splitting

# Closing quotes and brackets that may follow a terminator (ASCII, typographic, guillemet, CJK).
_CLOSE = "\"'\u201d\u2019\u00bb)\\]\u3011\u300d\u300f\uff09\u300b"
_BREAK = re.compile(
    rf"(?P<latin>[.!?\u2026]+[{_CLOSE}]*(?=\s|$))"  # . ! ? ellipsis, followed by space or end
    rf"|(?P<cjk>[\u3002\uff01\uff1f\uff61]+[{_CLOSE}]*)"  # CJK full stop, ! and ?: no space needed
    rf"|(?P<other>[\u0964\u0965\u061f\u06d4\u1362]+[{_CLOSE}]*)"  # danda, double danda, Arabic ?, Urdu ., Ethiopic .
    r"|(?P<newline>\n\s*)"
    r"|(?P<thai>(?<=[\u0e01-\u0e5b])[ \u00a0]+(?=[\u0e01-\u0e5b]))"  # space between Thai characters
)
_THAI_MIN = 100
_ABBREVIATION_TEXT = (
    "mr mrs ms dr prof st jr sr vs etc e.g i.e cf fig vol no nr inc ltd co mt gen col lt sgt rev "
    "ca bzw z.b u.a usw d.h s.o vgl jh sra srta av mme mlle p.ej"
)
_ABBREVIATIONS = frozenset(_ABBREVIATION_TEXT.split())
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # U.S, p.m, z.B: letters joined by dots


def _ends_sentence(text: str, m: re.Match) -> bool:
    """Whether a Latin-style terminator really ends a sentence (not an abbreviation or initial)."""
    nxt = m.end()
    while nxt < len(text) and text[nxt].isspace():
        nxt += 1
    if nxt < len(text) and text[nxt].islower():
        return False
    if not m.group().startswith("."):
        return True
    word_start = m.start()
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start : m.start()].lstrip(_CLOSE + "(").lower()
    return not (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _DOTTED.fullmatch(word))


def split_sentences(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` offsets of the sentences of ``text`` (rule-based, multilingual).

    Breaks after ``. ! ?`` or an ellipsis followed by whitespace (not before a lowercase letter,
    not after a known abbreviation, a single-letter initial or a dotted one like ``U.S.``), after
    the CJK full stop, exclamation and question marks (U+3002, U+FF01, U+FF1F; no space needed),
    after the Devanagari danda and double danda, the Arabic question mark, the Urdu full stop and
    the Ethiopic full stop, at newlines, and at a space between Thai characters once the sentence
    has 100 characters. Offsets exclude surrounding whitespace (and BOMs), so ``text[start:end]``
    is the sentence.

    Limits: Thai marks neither sentences nor words and a space separates clauses as well as
    sentences, so Thai splits are approximate (only ~1 in 10 match the LAReQA Thai breaks, which
    come from another splitter; elsewhere 82-98% match exactly); the Greek question mark ``;`` is
    not a break; ordinal dots (German ``3. Oktober``) and abbreviations missing from the short
    built-in list do split, while a sentence ending in ``U.S.`` or followed by a lowercase word
    does not; decimal numbers and URLs never split (no space after the dot).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BREAK.finditer(text):
        if m.group("latin") and not _ends_sentence(text, m):
            continue
        if m.group("thai") and m.start() - start < _THAI_MIN:
            continue
        _add_span(spans, text, start, m.start() if m.group("newline") or m.group("thai") else m.end())
        start = m.end()
    _add_span(spans, text, start, len(text))
    return spans


def _blank(ch: str) -> bool:
    return ch.isspace() or ch == "\ufeff"


def _clean(text: str) -> str:
    """Strip whitespace and byte-order marks (59 XQuAD-R sentences start with U+FEFF)."""
    return text.strip().strip("\ufeff").strip()


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and _blank(text[start]):
        start += 1
    while end > start and _blank(text[end - 1]):
        end -= 1
    if start < end:
        spans.append((start, end))


# ---------------------------------------------------------------- parsing one file


@dataclass
class LanguageFile:
    """One parsed ``<lang>.json``: its candidates, questions and answer sentences."""

    language: str
    source: str
    titles: list[str] = field(default_factory=list)
    candidates: list[tuple[str, str, str]] = field(default_factory=list)  # id, text, paragraph
    candidate_article: list[int] = field(default_factory=list)
    questions: list[tuple[str, str, int]] = field(default_factory=list)  # qid, text, article idx (located)
    question_article: dict[str, int] = field(default_factory=dict)  # every question, located or not
    relevant: dict[str, list[str]] = field(default_factory=dict)
    unlocated: list[str] = field(default_factory=list)
    split_paragraphs: int = 0


def read_json(path: Path) -> Any:
    """Parse a UTF-8 JSON file; errors name the file and the line/column."""
    text = read_text(path)
    try:
        return loads_json(text)
    except ValueError as e:  # syntax, a huge integer, nesting too deep
        raise DataError(f"{path}: {json_error(e)}") from None


def _need(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise DataError(f"{where}: missing or invalid {key!r} (expected {' or '.join(k.__name__ for k in kinds)})")
    return value


def _breaks(par: dict, context: str, where: str) -> tuple[list[str], list[tuple[int, int]], bool]:
    """Sentences and offsets of a paragraph: given, located, or split here (third item True)."""
    sents, breaks = par.get("sentences"), par.get("sentence_breaks")
    if breaks is None and sents is None:
        spans = split_sentences(context)
        return [context[b:e] for b, e in spans], spans, True
    if breaks is None:
        if not isinstance(sents, list) or not all(isinstance(s, str) for s in sents):
            raise DataError(f"{where}: 'sentences' must be a list of strings")
        spans, pos = [], 0
        for k, s in enumerate(sents):
            i = context.find(s, pos)
            if i < 0:
                raise DataError(f"{where}: sentence {k} does not occur in the context; add 'sentence_breaks'")
            spans.append((i, i + len(s)))
            pos = i + len(s)
        return sents, spans, False
    ok = isinstance(breaks, list) and all(
        isinstance(b, list)
        and len(b) == 2
        and all(isinstance(x, int) and not isinstance(x, bool) for x in b)
        and 0 <= b[0] <= b[1] <= len(context)
        for b in breaks
    )
    if not ok:
        raise DataError(
            f"{where}: 'sentence_breaks' must be a list of [start, end] integer pairs within the context "
            f"(0 <= start <= end <= {len(context)})"
        )
    spans = [(b[0], b[1]) for b in breaks]
    if sents is None:
        sents = [context[b:e] for b, e in spans]
    elif not isinstance(sents, list) or len(sents) != len(spans) or not all(isinstance(s, str) for s in sents):
        raise DataError(f"{where}: 'sentences' and 'sentence_breaks' differ in length or type")
    return sents, spans, False


def parse_squad(obj: Any, language: str, source: str) -> LanguageFile:
    """Turn a SQuAD-style object (``data[].paragraphs[].qas[]``) into sentence candidates and answers."""
    out = LanguageFile(language=language, source=source)
    articles = _need(obj, "data", list, f"{source}: top level")
    for ai, art in enumerate(articles):
        where_a = f"{source}: data[{ai}]"
        title = art.get("title", "") if isinstance(art, dict) else ""
        out.titles.append(str(title or ""))
        for pi, par in enumerate(_need(art, "paragraphs", list, where_a)):
            where = f"{where_a}.paragraphs[{pi}]"
            context = _need(par, "context", str, where)
            sents, spans, was_split = _breaks(par, context, where)
            out.split_paragraphs += was_split
            paragraph = f"{language}:{ai}:{pi}"
            cand_ids: list[str | None] = []
            for si, text in enumerate(sents):
                if not _clean(text):
                    cand_ids.append(None)
                    continue
                cid = f"{language}:{ai}:{pi}:{si}"
                cand_ids.append(cid)
                out.candidates.append((cid, _clean(text), paragraph))
                out.candidate_article.append(ai)
            qas = par.get("qas")
            if qas is not None and not isinstance(qas, list):
                raise DataError(f"{where}: 'qas' must be a list of question objects")
            for qi, qa in enumerate(qas or []):
                where_q = f"{where}.qas[{qi}]"
                qid = _need(qa, "id", (str, int), where_q)
                qid, question = str(qid), _need(qa, "question", str, where_q).strip()
                if qid in out.question_article:
                    raise DataError(f"{where_q}: duplicate question id {qid!r}")
                if not question:
                    raise DataError(f"{where_q}: empty question")
                out.question_article[qid] = ai
                hits: list[str] = []
                answers = qa.get("answers")
                if answers is not None and not isinstance(answers, list):
                    raise DataError(f"{where_q}: 'answers' must be a list of {{text, answer_start}} objects")
                for ans in answers or []:
                    start = ans.get("answer_start") if isinstance(ans, dict) else None
                    if not isinstance(start, int) or isinstance(start, bool):
                        continue
                    for (b, e), cid in zip(spans, cand_ids, strict=True):
                        if b <= start < e and cid is not None and cid not in hits:
                            hits.append(cid)
                if hits:
                    out.questions.append((qid, question, ai))
                    out.relevant[qid] = hits
                else:
                    out.unlocated.append(qid)
    return out


@functools.lru_cache(maxsize=32)
def _parse_file_cached(path: str, mtime_ns: int, size: int, language: str) -> LanguageFile:
    parsed = parse_squad(read_json(Path(path)), language, path)
    if parsed.unlocated:
        warnings.warn(
            f"{path}: skipped {len(parsed.unlocated)} question(s) whose answer lies in no sentence "
            f"(e.g. {parsed.unlocated[:3]})",
            stacklevel=3,
        )
    return parsed


def parse_file(path: Path, language: str) -> LanguageFile:
    """Parse ``path`` (cached by resolved path, mtime and size); warns about unlocated answers."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    st = path.stat()
    return _parse_file_cached(str(path.resolve()), st.st_mtime_ns, st.st_size, language)


# ---------------------------------------------------------------- building the data set


def _article_keys(files: list[LanguageFile]) -> dict[tuple[str, int], str]:
    """Cross-language article key for every ``(language, article index)``; see the module docstring."""
    nodes = [(f.language, ai) for f in files for ai in range(len(f.titles))]
    first: dict[str, tuple[str, int]] = {}
    links = [
        ((f.language, ai), first.setdefault(qid, (f.language, ai)))
        for f in files
        for qid, ai in f.question_article.items()
    ]
    root = components(nodes, links)
    groups: dict[tuple[str, int], list[tuple[str, int]]] = {}
    for node in nodes:
        groups.setdefault(root[node], []).append(node)
    titles = {f.language: f.titles for f in files}
    label: dict[tuple[str, int], str] = {}
    for key, members in groups.items():
        lang, ai = min(members, key=lambda n: (n[0] != "en", n))
        label[key] = titles[lang][ai] or f"{lang}:{ai}"
    used: dict[str, int] = {}
    for text in label.values():
        used[text] = used.get(text, 0) + 1
    for key, text in label.items():
        if used[text] > 1:
            label[key] = f"{text}#{key[0]}:{key[1]}"
    return {node: label[root[node]] for node in nodes}


def build_dataset(
    files: list[LanguageFile], keep: Iterable[str], name: str, link_questions: bool = True
) -> RetrievalDataset:
    """Assemble queries, pooled candidates and multilingual qrels for the languages in ``keep``.

    ``files`` may hold more languages than ``keep``: they only inform the article keys.
    ``question_id`` is the file's question id when ``link_questions``, else the query id.
    """
    keep = set(keep)
    keys = _article_keys(files)
    used = sorted((f for f in files if f.language in keep), key=lambda f: f.language)
    rel_by_qid: dict[str, list[str]] = {}
    for f in used:
        for qid, cids in f.relevant.items():
            rel_by_qid.setdefault(qid, []).extend(cids)
    langs_of_q: dict[str, int] = {}
    for f in used:
        for qid, _, _ in f.questions:
            langs_of_q[qid] = langs_of_q.get(qid, 0) + 1
    parallel = any(n > 1 for n in langs_of_q.values())
    sources = ", ".join(f.source for f in used)
    if not any(f.candidates for f in used):
        raise DataError(f"{sources}: no sentences (every context is empty)")
    if not langs_of_q:
        raise DataError(f"{sources}: no question whose answer lies in a sentence")

    q_cols: dict[str, list] = {c: [] for c in ("id", "text", "language", "question_id", "article")}
    c_cols: dict[str, list] = {c: [] for c in ("id", "text", "language", "paragraph", "article")}
    qrels: dict[str, dict[str, int]] = {}
    for f in used:
        lang = f.language
        for qid, text, ai in f.questions:
            full = f"{lang}:{qid}"
            q_cols["id"].append(full)
            q_cols["text"].append(text)
            q_cols["language"].append(lang)
            q_cols["question_id"].append(qid if link_questions else full)
            q_cols["article"].append(keys[(lang, ai)])
            qrels[full] = dict.fromkeys(rel_by_qid[qid], 1)
        for (cid, text, paragraph), ai in zip(f.candidates, f.candidate_article, strict=True):
            c_cols["id"].append(cid)
            c_cols["text"].append(text)
            c_cols["language"].append(lang)
            c_cols["paragraph"].append(paragraph)
            c_cols["article"].append(keys[(lang, ai)])
    return RetrievalDataset(
        name=name, queries=pd.DataFrame(q_cols), corpus=pd.DataFrame(c_cols), qrels=qrels, parallel=parallel
    )


# ---------------------------------------------------------------- cache


_CACHE: OrderedDict[tuple, RetrievalDataset] = OrderedDict()
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def files_key(paths: Iterable[Path]) -> tuple:
    """(resolved path, mtime, size) of every file: the part of a cache key that tracks edits."""
    out = []
    for p in paths:
        try:
            st = Path(p).stat()
            out.append((str(Path(p).resolve(strict=True)), st.st_mtime_ns, st.st_size))
        except (OSError, RuntimeError) as exc:  # dangling symlink, symlink loop, no permission
            raise DataError(f"{p}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return tuple(out)


def cached_dataset(key: tuple, build: Callable[[], RetrievalDataset]) -> RetrievalDataset:
    """Build once per key (LRU of 8); callers get fresh frames, so mutating one never alters the cache."""
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
    if hit is None:
        hit = build()
        with _LOCK:
            _CACHE[key] = hit
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return RetrievalDataset(
        name=hit.name,
        queries=hit.queries.copy(),
        corpus=hit.corpus.copy(),
        qrels={q: dict(r) for q, r in hit.qrels.items()},
        parallel=hit.parallel,
        _fingerprint=list(hit._fingerprint),
    )


def clear_cache() -> None:
    """Forget every cached data set and parsed file."""
    with _LOCK:
        _CACHE.clear()
    _parse_file_cached.cache_clear()


# ---------------------------------------------------------------- public loaders


def language_files(folder: Path) -> dict[str, Path]:
    """``{language: path}`` for every ``<xx>.json`` in ``folder``; a two-letter non-ISO 639-1 name is an error."""
    out = {}
    for p in sorted(Path(folder).glob("*.json")):
        if re.fullmatch(r"[a-z]{2}", p.stem):
            out[check_language(p.stem, str(p))] = p
    return out


def load_lareqa(folder: str | Path, languages: list[str] | None = None, name: str | None = None) -> RetrievalDataset:
    """Every ``<folder>/<lang>.json`` (or the requested ``languages``) as one pooled, parallel data set."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: folder not found")
    files = language_files(folder)
    if not files:
        raise DataError(f"{folder}: no <language>.json files (ISO 639-1 names such as en.json, de.json)")
    if languages is not None:
        unknown = [lang for lang in languages if lang not in files]
        if unknown or not languages:
            raise DataError(f"{folder}: no file for language(s) {unknown}; available: {sorted(files)}")
    keep = tuple(sorted(set(languages or files)))
    name = name or derive_name(folder.resolve().name)

    def build() -> RetrievalDataset:
        parsed = []
        for lang, path in files.items():
            try:
                parsed.append(parse_file(path, lang))
            except DataError as e:
                if lang in keep:
                    raise
                warnings.warn(f"ignored for article keys: {e}", stacklevel=4)
        return build_dataset(parsed, keep, name)

    return cached_dataset(("lareqa", files_key(files.values()), keep, name), build)


def load_squad(path: str | Path, language: str | None = None, name: str | None = None) -> RetrievalDataset:
    """One SQuAD-style file in one language; sentences are split here when the file has none.

    ``language`` defaults to the file name (``de.json``). Not parallel: ``question_id`` equals the
    query id. Paragraphs without ``sentences``/``sentence_breaks`` use :func:`split_sentences`.
    """
    path = Path(path)
    if language is None:
        if path.stem not in ISO_639_1:
            raise DataError(
                f"{path}: cannot tell the language; name the file <lang>.json (e.g. de.json) or pass a language"
            )
        language = path.stem
    check_language(language, str(path))
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    name = name or derive_name(f"{path.resolve().parent.name}-{language}" if path.stem == language else path.stem)
    return cached_dataset(
        ("squad", files_key([path]), language, name),
        lambda: build_dataset([parse_file(path, language)], {language}, name, link_questions=False),
    )
