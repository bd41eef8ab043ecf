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

from hybrid_core.data.beir import read_corpus
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
        table: RetrievalDataset | pd.DataFrame = read_corpus(root / cname)
    elif isinstance(corpus, RetrievalDataset):
        table = corpus
    elif isinstance(corpus, str) and corpus:
        table = load_dataset(corpus, data_dir=data_dir)
    else:
        raise DataError(f"{query_file}: a query set needs a corpus; choose a data set or upload a BEIR corpus.jsonl")
    return load_query_set(root / query_file, table, name=name)


# --------------------------------------------------------------------------- saved uploads (for jobs)
UPLOAD_MANIFEST = "upload.json"
_GENERIC_STEMS = {"corpus", "queries", "qrels", "test", "dev", "train", "data", "set"}


def suggest_name(file_names: Sequence[str]) -> str:
    """A data set name from the uploaded file names: ``ro-en-questions.csv`` -> ``upload-ro-en-questions``.

    BEIR's fixed names (corpus, queries, test ...) say nothing and are skipped; several files join their
    stems (``de.json`` + ``en.json`` -> ``upload-de-en``). The ``upload-`` prefix keeps uploads apart from
    the named sets (an upload called ``xquad-r.csv`` must not overwrite a run's ``xquad-r`` results).
    """
    stems = sorted({Path(n).stem.lower() for n in file_names} - _GENERIC_STEMS)
    slug = re.sub(r"[^a-z0-9._-]+", "-", "-".join(stems)).strip("-.")[:60].strip("-.")
    return f"upload-{slug or 'set'}"


def uploads_dir(root: str | Path | None = None) -> Path:
    """Where saved uploads live: ``<cache>/uploads`` unless given."""
    from hybrid_core import paths

    return Path(root) if root else paths.cache_dir() / "uploads"


def save_upload(
    files: Sequence[tuple[str, bytes]], corpus: str | None, name: str, root: str | Path | None = None
) -> Path:
    """Validate the upload, then keep its files under ``<uploads>/<name>/`` for a background job to load.

    The folder holds the files as uploaded plus ``upload.json`` (name, corpus); :func:`load_dataset`
    reads it back through :func:`load_saved_upload`. Validation runs first: nothing is written for a bad
    upload. Written into a temporary folder renamed into place, so a folder is always complete.
    """
    import json
    import os
    import shutil

    from hybrid_core.data.available import load_named

    checked = check_files(files)
    load_upload(
        files, corpus=load_named(corpus) if corpus and detect_kind(list(checked)) == "queryset" else None, name=name
    )
    folder = uploads_dir(root) / name
    tmp = folder.with_name(f".{name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "files").mkdir(parents=True)
    for n, data in checked.items():
        (tmp / "files" / n).write_bytes(data)
    (tmp / UPLOAD_MANIFEST).write_text(json.dumps({"name": name, "corpus": corpus}), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    return folder


def load_saved_upload(folder: str | Path) -> RetrievalDataset:
    """A folder written by :func:`save_upload`, parsed exactly as the upload was (notes are dropped)."""
    import json

    from hybrid_core.data.available import load_named

    folder = Path(folder)
    try:
        meta = json.loads((folder / UPLOAD_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{folder / UPLOAD_MANIFEST}: unreadable ({exc})") from None
    files = [(p.name, p.read_bytes()) for p in sorted((folder / "files").iterdir()) if p.is_file()]
    corpus = meta.get("corpus")
    needs_corpus = detect_kind([n for n, _ in files]) == "queryset" and not any(
        n.lower() == "corpus.jsonl" for n, _ in files
    )
    ds, _ = load_upload(files, corpus=load_named(corpus) if needs_corpus and corpus else None, name=meta["name"])
    return ds
