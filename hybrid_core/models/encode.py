"""Batched encoding with a per-text embedding cache.

Cache layout: ``cache/embeddings/<key>/shard-*.npz`` where ``key`` hashes the model fingerprint, the
prompt, the max sequence length and the precision backend (none for fp32; see
:mod:`hybrid_core.models.precision`); each shard holds ``hashes`` (sha1 of each text, 20 bytes) and
``embeddings`` (float32). A text is encoded once per key, whatever data set or slice it came from;
shards are written atomically under unique names, so concurrent evaluations never corrupt each
other. Loaded with ``allow_pickle=False``. A damaged shard (empty, truncated, mismatched arrays) is
deleted with a warning and its texts are encoded again; temporary files of killed writers go after an hour.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hybrid_core import paths
from hybrid_core.errors import ModelError
from hybrid_core.io_utils import atomic_path, kill_point, remove_stale_tmp


def _text_hashes(texts: Sequence[str]) -> np.ndarray:
    return np.array([hashlib.sha1(t.encode("utf-8")).digest() for t in texts], dtype="S20")


def cache_key(model_fingerprint: str, prompt: str, max_seq_length: int | None, backend: str = "") -> str:
    """Folder name for one (model, prompt, max length, precision backend) combination.

    ``backend`` is empty for fp32, so fp32 keys are the ones written before precisions existed.
    """
    raw = f"{model_fingerprint}\x1f{prompt}\x1f{max_seq_length}"
    if backend:
        raw += f"\x1f{backend}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    """Text-hash -> embedding store for one cache key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: dict[bytes, np.ndarray] = {}
        self._loaded: set[str] = set()

    def _refresh(self) -> None:
        if not self.folder.is_dir():
            return
        if not self._loaded:
            remove_stale_tmp(self.folder)
        for shard in sorted(self.folder.glob("shard-*.npz")):
            if shard.name in self._loaded:
                continue
            rows = read_shard(shard)
            if rows is None:
                continue
            for h, e in zip(*rows, strict=True):
                self._index[bytes(h)] = e
            self._loaded.add(shard.name)

    def lookup(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Boolean mask of cached hashes, and their rows (None when nothing is cached)."""
        self._refresh()
        found = np.array([bytes(h) in self._index for h in hashes], dtype=bool)
        if not found.any():
            return found, None
        rows = np.stack([self._index[bytes(h)] for h, f in zip(hashes, found, strict=True) if f])
        return found, rows

    def add(self, hashes: np.ndarray, embeddings: np.ndarray) -> None:
        """Write a new shard atomically."""
        if len(hashes) == 0:
            return
        target = self.folder / f"shard-{uuid.uuid4().hex}.npz"
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, hashes=hashes, embeddings=embeddings.astype(np.float32))
            kill_point("shard:inside-write")
            fh.flush()
            os.fsync(fh.fileno())
        for h, e in zip(hashes, embeddings, strict=True):
            self._index[bytes(h)] = e
        self._loaded.add(target.name)


def read_shard(shard: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(hashes, embeddings)`` of a shard, or None after deleting a damaged one with a warning."""
    try:
        with np.load(shard, allow_pickle=False) as z:
            hashes, emb = z["hashes"], z["embeddings"]
        if hashes.dtype != np.dtype("S20") or emb.ndim != 2 or len(hashes) != len(emb) or emb.dtype != np.float32:
            raise ValueError(f"arrays of shape {hashes.shape} {hashes.dtype} / {emb.shape} {emb.dtype}")
    except FileNotFoundError:  # removed by another process meanwhile
        return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        warnings.warn(f"{shard}: damaged embedding shard ({detail}); deleted, recomputing", stacklevel=3)
        shard.unlink(missing_ok=True)
        return None
    return hashes, emb


def encode(
    model,
    texts: Sequence[str],
    prompt: str = "",
    *,
    model_fingerprint: str | None = None,
    batch_size: int = 64,
    use_cache: bool = True,
    progress: bool = False,
    cache_root: Path | None = None,
    precision: str | None = None,
) -> np.ndarray:
    """L2-normalised float32 embeddings of ``texts`` (with ``prompt`` prepended), cached.

    ``precision`` (fp32 / int8) is the model's own (:func:`hybrid_core.models.precision.model_precision`; an int8
    model comes from :func:`hybrid_core.models.precision.load_int8`); passing it checks the two agree. It is
    part of the cache key, so fp32 and int8 embeddings never mix. Duplicate texts are encoded once. Only texts
    missing from the cache reach the model;
    sentence-transformers sorts them by length so each batch pads little.

    Example:
        >>> emb = encode(model, ["Hallo Welt", "hello world"], prompt="passage: ")  # doctest: +SKIP
    """
    from hybrid_core.models.precision import backend_tag, check_precision, model_precision

    own = model_precision(model)
    if precision is not None and check_precision(precision) != own:
        raise ModelError(f"encode(precision={precision!r}) on a {own} model; load it with precision {precision!r}")
    texts = list(texts)
    get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = get_dim()
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    uniq, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    hashes = _text_hashes(uniq)
    out = np.empty((len(uniq), dim), dtype=np.float32)
    cache = None
    todo = np.ones(len(uniq), dtype=bool)
    if use_cache and model_fingerprint:
        root = cache_root or paths.embeddings_dir()
        cache = EmbeddingCache(root / cache_key(model_fingerprint, prompt, model.max_seq_length, backend_tag(own)))
        found, rows = cache.lookup(hashes)
        if rows is not None:
            out[found] = rows
        todo = ~found
    if todo.any():
        missing = [prompt + t for t in uniq[todo]]
        kw = {}
        if _PROCESSES > 1 and len(missing) > batch_size:
            if own != "fp32":
                raise ModelError(f"{_PROCESSES} encoding processes need an fp32 model (an {own} session stays in one)")
            kw["device"] = ["cpu"] * _PROCESSES  # sentence-transformers' multi-process pool, one per call
        with _worker_threads(_PROCESSES if kw else 1):
            emb = model.encode(
                missing,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=progress,
                **kw,
            )
        emb = np.asarray(emb.cpu() if hasattr(emb, "cpu") else emb, dtype=np.float32)
        out[todo] = emb
        if cache is not None:
            cache.add(hashes[todo], emb)
    return out[inverse]


def set_threads(n: int | None = None) -> int:
    """Intra-op threads for torch (default: every core, 2 here); returns the thread count."""
    import torch

    n = n or max(1, os.cpu_count() or 1)
    torch.set_num_threads(n)
    return n


_PROCESSES = 1


@contextlib.contextmanager
def _worker_threads(processes: int):
    """Spawned workers read ``OMP_NUM_THREADS`` when torch starts: give each its share of the cores."""
    if processes <= 1:
        yield
        return
    old = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // processes))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = old


def set_processes(n: int) -> int:
    """Encode with ``n`` worker processes (sentence-transformers' multi-process pool) from now on; 1 = in process.

    Each worker holds its own copy of the model and splits the cores with the others, so this pays on
    machines with many cores or several GPUs, not on 2 cores (see the README's figures). fp32 models only.
    """
    global _PROCESSES
    if n < 1:
        raise ValueError(f"processes must be >= 1, got {n}")
    _PROCESSES = n
    return n
