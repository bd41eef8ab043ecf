"""Atomic file writes, safe JSON reads, run-folder locks and the test hook that kills at a write boundary.

A reader never sees a half-written file and a crash leaves nothing behind. ``HYBRID_IR_KILL_AT``
(tests only; no effect when unset) names a point where :func:`kill_point` SIGKILLs the process.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hybrid_core.errors import HybridIRError

KILL_ENV = "HYBRID_IR_KILL_AT"
_KILL_HITS: dict[str, int] = {}


def kill_point(name: str) -> None:
    """Test hook: SIGKILL this process when ``$HYBRID_IR_KILL_AT`` is ``name`` (or ``name#n``: at the n-th hit).

    Lets tests crash a process at an exact write boundary (between two result files, inside a
    shard write, before a checkpoint is renamed into place) and check that a rerun recovers.
    """
    wanted = os.environ.get(KILL_ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("#")
    if point != name:
        return
    _KILL_HITS[name] = _KILL_HITS.get(name, 0) + 1
    if _KILL_HITS[name] >= (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    Kill point ``atomic:<file name>`` fires after the temporary file is written, before the rename.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        kill_point(f"atomic:{target.name}")
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write(target: str | os.PathLike, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``target`` atomically."""
    with atomic_path(target) as tmp:
        write(tmp)


def write_json(target: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    atomic_write(
        target,
        lambda p: p.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"),
    )


def loads_json(text: str) -> Any:
    """``json.loads`` whose every failure is a ``ValueError``: syntax (``JSONDecodeError``), an integer
    too long to convert, or nesting too deep for the parser (``RecursionError`` otherwise)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def read_json(path: str | os.PathLike) -> Any:
    """Read a UTF-8 JSON file; malformed content raises ``ValueError`` (see :func:`loads_json`)."""
    return loads_json(Path(path).read_text(encoding="utf-8"))


def json_error(exc: ValueError) -> str:
    """A one-line description of a :func:`loads_json` failure, with line/column when known."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
    return f"invalid JSON ({str(exc).splitlines()[0][:200]})"


def remove_stale_tmp(folder: Path, older_than: float = 3600.0) -> int:
    """Delete ``.*.tmp`` files and folders left in ``folder`` by a killed writer; returns how many.

    Only entries not modified for ``older_than`` seconds go (0 = all: callers holding the folder's lock).
    """
    import shutil

    removed = 0
    now = time.time()
    for p in folder.glob(".*.tmp*") if folder.is_dir() else []:
        try:
            if older_than and now - p.lstat().st_mtime < older_than:
                continue
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed += 1
        except OSError:
            continue
    return removed


class LockedError(HybridIRError):
    """Another process holds the lock (raised only by non-blocking :func:`file_lock`)."""


@contextmanager
def file_lock(path: str | os.PathLike, *, blocking: bool = True, what: str = "") -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if missing) for the ``with`` block.

    The kernel drops the lock when the process dies, so a killed holder never leaves it stuck.
    Non-blocking: raise :class:`LockedError` naming ``what`` when another process holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise LockedError(f"{what or path} is in use by another process (lock {path})") from None
            raise
        yield
    finally:
        os.close(fd)


def zip_bytes(files: dict[str, bytes | str]) -> bytes:
    """An in-memory zip (deflated) of ``{name in the zip: content}``, names sorted so the listing is stable."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    return buf.getvalue()
