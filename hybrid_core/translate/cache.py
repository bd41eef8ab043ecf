"""On-disk translation cache: one sqlite file, keyed by (model key, src, tgt, text).

sqlite commits are atomic (a crash leaves the previous state), and several processes may share
the file. The model key names the model and its weights (a fingerprint), so retrained weights
never hit stale entries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from hybrid_core import paths


def default_cache_path() -> Path:
    return paths.cache_dir() / "translations.sqlite"


class TranslationCache:
    """``get_many`` / ``put_many`` over a sqlite table."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS translations (model TEXT, src TEXT, tgt TEXT, text TEXT, "
                "translation TEXT, PRIMARY KEY (model, src, tgt, text))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get_many(self, model: str, src: str, tgt: str, texts: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(texts))
        with self._connect() as db:
            for i in range(0, len(unique), 500):
                chunk = unique[i : i + 500]
                rows = db.execute(
                    f"SELECT text, translation FROM translations WHERE model=? AND src=? AND tgt=? "
                    f"AND text IN ({','.join('?' * len(chunk))})",
                    [model, src, tgt, *chunk],
                ).fetchall()
                found.update(rows)
        return found

    def put_many(self, model: str, src: str, tgt: str, items: dict[str, str]) -> None:
        with self._connect() as db:  # one transaction: all or nothing
            db.executemany(
                "INSERT OR REPLACE INTO translations VALUES (?, ?, ?, ?, ?)",
                [(model, src, tgt, t, tr) for t, tr in items.items()],
            )


def cached_translate(
    cache: TranslationCache | None,
    model_key: str,
    texts: list[str],
    src: str,
    tgt: str,
    compute: Callable[[list[str]], list[str]],
) -> list[str]:
    """Translations of ``texts``: cached ones read, the rest (each distinct text once) computed and stored."""
    if cache is None:
        unique = list(dict.fromkeys(texts))
        done = dict(zip(unique, compute(unique), strict=True))
        return [done[t] for t in texts]
    done = cache.get_many(model_key, src, tgt, texts)
    missing = [t for t in dict.fromkeys(texts) if t not in done]
    if missing:
        new = dict(zip(missing, compute(missing), strict=True))
        cache.put_many(model_key, src, tgt, new)
        done.update(new)
    return [done[t] for t in texts]
