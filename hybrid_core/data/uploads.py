"""Turn uploaded files (name + bytes) into a RetrievalDataset, with specific messages and no side effects.

Accepted uploads (detected from the file names):

- a query set ``*.csv`` / ``*.tsv`` / ``*.jsonl`` (``query, language, relevant_ids`` or ``answer``) against
  a named corpus (``xquad-r``, ``mlqa-r``) or an uploaded BEIR ``corpus.jsonl`` (``_id, text, language``);
- SQuAD / LAReQA JSON: one or more ``<lang>.json`` files (several languages sharing question ids make a
  parallel set);
- a BEIR set: ``corpus.jsonl`` + ``queries.jsonl`` + one qrels ``*.tsv``.

Checks run before any parsing: file count and size limits, UTF-8, known extensions. Files are parsed
from a temporary folder that is deleted afterwards; nothing is written to the data or run folders.
Every problem raises :class:`~hybrid_core.errors.DataError` with a message naming the uploaded file.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from hybrid_core.data.dataset import RetrievalDataset
from hybrid_core.errors import DataError, HybridIRError

MAX_UPLOAD_MB = 50  # per file; .streamlit/config.toml's server.maxUploadSize must equal it (a test checks)
MAX_FILE_BYTES = MAX_UPLOAD_MB * 2**20
MAX_FILES = 16
MAX_QUERIES = 20_000  # evaluating more in a dashboard session is a job for the CLI
QUERY_SUFFIXES = (".csv", ".tsv", ".jsonl", ".ndjson")


def _clean_name(name: str) -> str:
    base = Path(name).name
    if not base or base.startswith(".") or not re.fullmatch(r"[\w.\- ]{1,120}", base):
        raise DataError(f"{name!r}: unsupported file name; use letters, digits, '.', '_' or '-'")
    return base


def check_files(files: Sequence[tuple[str, bytes]]) -> dict[str, bytes]:
    """Size, count, name and UTF-8 checks; returns ``{file name: bytes}``."""
    if not files:
        raise DataError("no file uploaded")
    if len(files) > MAX_FILES:
        raise DataError(f"{len(files)} files uploaded; at most {MAX_FILES} are accepted")
    out: dict[str, bytes] = {}
    lower: dict[str, str] = {}
    for name, data in files:
        base = _clean_name(name)
        if base in out:
            raise DataError(f"{base}: uploaded twice")
        if base.lower() in lower:  # the parsers lower-case names: en.json and EN.json would collide
            raise DataError(f"{lower[base.lower()]} and {base}: names differ only in case; upload one of them")
        lower[base.lower()] = base
        if len(data) > MAX_FILE_BYTES:
            raise DataError(
                f"{base}: {len(data) / 2**20:.1f} MB is over the {MAX_FILE_BYTES // 2**20} MB limit per file"
            )
        if not data.strip():
            raise DataError(f"{base}: file is empty")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{base}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8 and upload it again"
            ) from None
        out[base] = data
    return out


def _corpus_from_jsonl(path: Path) -> pd.DataFrame:
    """A BEIR ``corpus.jsonl`` as an id/text/language/paragraph/article table (language is required here)."""
    from hybrid_core.data.querysets import check_language, read_jsonl

    rows = []
    for line, rec in read_jsonl(path):
        where = f"{path.name}: line {line}"
        did, text = rec.get("_id", rec.get("id")), rec.get("text")
        if did is None or not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: needs '_id' and a non-empty 'text'")
        lang = check_language(rec.get("language", rec.get("lang")), where)
        rows.append((str(did), text, lang, str(did), str(rec.get("title") or "")))
    frame = pd.DataFrame(rows, columns=["id", "text", "language", "paragraph", "article"])
    if frame["id"].duplicated().any():
        raise DataError(f"{path.name}: duplicate _id {frame.loc[frame['id'].duplicated(), 'id'].iloc[0]!r}")
    return frame


def detect_kind(names: Sequence[str]) -> str:
    """``beir``, ``squad`` or ``queryset`` from the uploaded file names, else a DataError saying what is missing."""
    lower = {n.lower() for n in names}
    suffixes = {Path(n).suffix for n in lower}
    if "queries.jsonl" in lower and "corpus.jsonl" in lower:
        if not any(n.endswith(".tsv") for n in lower):
            raise DataError("a BEIR upload needs a qrels file (e.g. test.tsv with query-id, corpus-id, score)")
        return "beir"
    if suffixes == {".json"}:
        return "squad"
    queries = [n for n in lower if Path(n).suffix in QUERY_SUFFIXES and n != "corpus.jsonl"]
    if len(queries) == 1 and lower <= {queries[0], "corpus.jsonl"}:
        return "queryset"
    raise DataError(
        f"cannot tell the format of {sorted(names)}: upload one query set (.csv/.tsv/.jsonl, optionally with a BEIR "
        "corpus.jsonl), SQuAD/LAReQA <lang>.json file(s), or a BEIR corpus.jsonl + queries.jsonl + qrels .tsv"
    )


def load_upload(
    files: Sequence[tuple[str, bytes]],
    corpus: str | RetrievalDataset | None = None,
    name: str = "upload",
    data_dir: str | Path | None = None,
) -> tuple[RetrievalDataset, list[str]]:
    """Validate and parse uploaded files; returns the data set and notes (e.g. skipped queries).

    ``corpus`` is used for a query set without an uploaded ``corpus.jsonl``: a data set name
    (``xquad-r``) or a loaded RetrievalDataset.
    """
    from hybrid_core.runs import validate_name

    try:
        validate_name(name)
    except HybridIRError as exc:
        raise DataError(str(exc).replace("run name", "data set name")) from None
    checked = check_files(files)
    kind = detect_kind(list(checked))
    with tempfile.TemporaryDirectory(prefix="hybrid-ir-upload-") as tmp, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        root = Path(tmp)
        try:
            ds = _parse(kind, checked, root, corpus, name, data_dir)
        except DataError as exc:
            raise DataError(str(exc).replace(f"{root}/", "").replace(str(root), "upload")) from None
        notes = [str(w.message).replace(f"{root}/", "") for w in caught if issubclass(w.category, UserWarning)]
    if len(ds.queries) > MAX_QUERIES:
        raise DataError(f"{len(ds.queries)} queries; the dashboard evaluates at most {MAX_QUERIES} (use the CLI)")
    return ds, notes


def _parse(kind: str, files: dict[str, bytes], root: Path, corpus, name: str, data_dir) -> RetrievalDataset:
    from hybrid_core.data import load_beir, load_dataset, load_lareqa, load_query_set, load_squad

    if kind == "beir":
        (root / "qrels").mkdir()
        tsvs = [n for n in files if n.lower().endswith(".tsv")]
        if len(tsvs) != 1:
            raise DataError(f"a BEIR upload needs exactly one qrels .tsv, got {tsvs}")
        for n, data in files.items():
            target = root / "qrels" / n if n in tsvs else root / n.lower()
            target.write_bytes(data)
        return load_beir(root, split=Path(tsvs[0]).stem, name=name)
    if kind == "squad":
        for n, data in files.items():
            (root / n.lower()).write_bytes(data)
        if len(files) == 1:
            return load_squad(root / next(iter(files)).lower(), name=name)
        return load_lareqa(root, name=name)
    query_file = next(n for n in files if n.lower() != "corpus.jsonl")
    for n, data in files.items():
        (root / n).write_bytes(data)
    if "corpus.jsonl" in {n.lower() for n in files}:
        cname = next(n for n in files if n.lower() == "corpus.jsonl")
        table: RetrievalDataset | pd.DataFrame = _corpus_from_jsonl(root / cname)
    elif isinstance(corpus, RetrievalDataset):
        table = corpus
    elif isinstance(corpus, str) and corpus:
        table = load_dataset(corpus, data_dir=data_dir)
    else:
        raise DataError(f"{query_file}: a query set needs a corpus; choose a data set or upload a BEIR corpus.jsonl")
    return load_query_set(root / query_file, table, name=name)
