"""The run store: one folder per evaluation or training run, plain files only.

Layout of ``<runs>/<name>/``::

    run.json                      schema version, kind, model, config, git SHA, created
    train_log.jsonl               (training runs) one JSON line per logged step
    checkpoints/step-<N>/         (training runs) resumable checkpoints (safetensors)
    model/                        (training runs) the final sentence-transformers folder
    results/<dataset>/summary.json     macro/setting/bias summary + data fingerprint + timings
    results/<dataset>/per_query.parquet one row per (setting, query)
    results/<dataset>/manifest.json    size and sha256 of the two files above

The dashboard and a notebook read the same files. A result is never recomputed when a summary for
the same data fingerprint (and the requested setting kinds) is on disk and verifies.

A result is committed as a unit: both files and the manifest are written into a temporary folder
that is renamed into place under the run's results lock, so a crash leaves either the old result or
the new one, never a mix; readers check sizes and hashes against the manifest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import unicodedata
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hybrid_core import paths
from hybrid_core.errors import RunError
from hybrid_core.io_utils import file_lock, kill_point, read_json, remove_stale_tmp, write_json

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SUMMARY, PER_QUERY, MANIFEST = "summary.json", "per_query.parquet", "manifest.json"


def validate_name(name: str) -> str:
    """Run and data set names: letters, digits, ``.``, ``_``, ``-``; no path tricks."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise RunError(
            f"invalid run name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


def derive_name(text: str, fallback: str = "data", max_len: int = 80) -> str:
    """A valid name made from free text (a folder or file name): accents dropped, other characters
    outside ``[A-Za-z0-9._-]`` turned into ``-``; ``max_len`` leaves room for suffixes like ``-q50-s0``."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text)
    name = re.sub(r"\.{2,}", ".", name)[:max_len].strip("-._")
    return name or fallback


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_sha() -> str | None:
    """The code's commit, for provenance (None outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=paths.REPO_ROOT, capture_output=True, text=True, timeout=5, check=False
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Run:
    """A run folder. Cheap to construct; reads files on demand."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def info(self) -> dict:
        f = self.path / "run.json"
        if not f.is_file():
            raise RunError(f"run {self.name!r}: run.json is missing (half-written or not a run folder)")
        try:
            info = read_json(f)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunError(f"run {self.name!r}: run.json is not valid JSON ({exc})") from None
        if not isinstance(info, dict) or info.get("schema_version") != SCHEMA_VERSION:
            raise RunError(f"run {self.name!r}: run.json has an unknown schema version")
        return info

    def update_info(self, **fields) -> None:
        write_json(self.path / "run.json", {**self.info, **fields})

    def result_dir(self, dataset: str) -> Path:
        return self.path / "results" / validate_name(dataset)

    def datasets(self) -> list[str]:
        root = self.path / "results"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if not p.name.startswith(".") and (p / SUMMARY).is_file())

    def _check(self, dataset: str, files: tuple[str, ...]) -> None:
        """Raise RunError when ``files`` of a result disagree with its manifest (size or sha256).

        Results written before manifests existed (no manifest.json) pass unchecked.
        """
        folder = self.result_dir(dataset)
        if not (folder / MANIFEST).is_file():
            return
        try:
            listed = read_json(folder / MANIFEST)["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RunError(f"run {self.name!r}: {MANIFEST} for {dataset!r} is corrupt ({exc})") from None
        for name in files:
            f = folder / name
            want = listed.get(name) if isinstance(listed, dict) else None
            if not isinstance(want, dict) or not f.is_file():
                raise RunError(f"run {self.name!r}: {name} for {dataset!r} is missing or not in its manifest")
            size = f.stat().st_size
            if size != want.get("size"):
                raise RunError(
                    f"run {self.name!r}: {name} for {dataset!r} is damaged ({size} bytes, manifest says "
                    f"{want.get('size')})"
                )
            if file_sha256(f) != want.get("sha256"):
                raise RunError(f"run {self.name!r}: {name} for {dataset!r} is damaged (sha256 differs from manifest)")

    def summary(self, dataset: str) -> dict:
        f = self.result_dir(dataset) / SUMMARY
        if not f.is_file():
            raise RunError(f"run {self.name!r} has no results for {dataset!r}; evaluate it first")
        try:
            self._check(dataset, (SUMMARY,))
            summary = read_json(f)
        except FileNotFoundError:  # replaced by a concurrent commit between the check and the read
            raise RunError(f"run {self.name!r}: results for {dataset!r} are being rewritten; read again") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunError(f"run {self.name!r}: {f.name} for {dataset!r} is corrupt ({exc})") from None
        if not isinstance(summary, dict):
            raise RunError(f"run {self.name!r}: {f.name} for {dataset!r} is corrupt (not a JSON object)")
        return summary

    def per_query(self, dataset: str) -> pd.DataFrame:
        f = self.result_dir(dataset) / PER_QUERY
        if not f.is_file():
            raise RunError(f"run {self.name!r} has no per-query results for {dataset!r}")
        try:
            self._check(dataset, (PER_QUERY,))
            return pd.read_parquet(f)
        except RunError:
            raise
        except FileNotFoundError:
            raise RunError(f"run {self.name!r}: results for {dataset!r} are being rewritten; read again") from None
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise RunError(f"run {self.name!r}: per_query.parquet for {dataset!r} is unreadable ({exc})") from None

    def has_result(self, dataset: str, fingerprint: str, kinds: tuple[str, ...] | None = None) -> bool:
        """True when a complete, verified result for exactly this data (by fingerprint) is on disk,
        covering every setting kind in ``kinds`` (None: any). A damaged one warns and counts as absent."""
        folder = self.result_dir(dataset)
        if not (folder / SUMMARY).is_file():
            return False
        try:
            summary = self.summary(dataset)
            if summary.get("data_fingerprint") != fingerprint:
                return False
            done = summary.get("kinds", list(summary.get("macro", {})))
            if kinds is not None and not set(kinds) <= set(done):
                return False
            self._check(dataset, (PER_QUERY,))
            if not (folder / MANIFEST).is_file():  # legacy result: the parquet must at least be whole
                import pyarrow.parquet as pq

                rows = pq.read_table(folder / PER_QUERY, columns=["query_id"]).column("query_id")
                if len(set(rows.to_pylist())) != summary.get("n_queries"):
                    raise RunError(f"run {self.name!r}: {PER_QUERY} and {SUMMARY} for {dataset!r} disagree")
        except Exception as exc:  # damaged: any reader error (pyarrow raises several types)
            warnings.warn(f"{exc}; recomputing", stacklevel=2)
            return False
        return True

    def save_result(self, dataset: str, per_query: pd.DataFrame, summary: dict) -> None:
        """Commit per-query rows, summary and manifest as one unit (a folder renamed into place).

        Kill points ``result:between-writes`` and ``result:before-commit`` (see ``io_utils.kill_point``).
        """
        final = self.result_dir(dataset)
        root = final.parent
        root.mkdir(parents=True, exist_ok=True)
        with self.results_lock():
            remove_stale_tmp(root, older_than=0)  # under the lock, every temporary folder is a dead writer's
            tmp = root / f".{dataset}.{uuid.uuid4().hex[:8]}.tmp"
            tmp.mkdir()
            try:
                per_query.to_parquet(tmp / PER_QUERY, index=False)
                kill_point("result:between-writes")
                write_json(tmp / SUMMARY, summary)
                files = {
                    n: {"size": (tmp / n).stat().st_size, "sha256": file_sha256(tmp / n)} for n in (PER_QUERY, SUMMARY)
                }
                write_json(tmp / MANIFEST, {"files": files})
                for n in (PER_QUERY, SUMMARY, MANIFEST):
                    with open(tmp / n, "rb") as fh:
                        os.fsync(fh.fileno())
                kill_point("result:before-commit")
                old = root / f".{dataset}.{uuid.uuid4().hex[:8]}.old.tmp"
                if final.exists():
                    os.replace(final, old)
                os.replace(tmp, final)
                shutil.rmtree(old, ignore_errors=True)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    @contextmanager
    def results_lock(self) -> Iterator[None]:
        """Exclusive lock on this run's results (``results/.lock``), held while a result is committed."""
        with file_lock(self.path / "results" / ".lock", what=f"run {self.name!r} results"):
            yield

    def mtime_key(self) -> float:
        """Latest modification time of the run's metadata and results, for cache keys."""
        files = [self.path / "run.json", *self.path.glob("results/*/summary.json")]
        return max((f.stat().st_mtime for f in files if f.exists()), default=0.0)


class RunStore:
    """All runs under one folder."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = paths.runs_dir(root)

    def path(self, name: str) -> Path:
        return self.root / validate_name(name)

    @contextmanager
    def exclusive(self, name: str, what: str = "train") -> Iterator[None]:
        """Non-blocking exclusive lock ``<runs>/.locks/<name>.<what>.lock`` for the ``with`` block.

        A second process asking for the same run and purpose gets a RunError at once. The lock lives
        beside the run folder, not in it, because a new run's folder must not exist before it starts.
        """
        from hybrid_core.io_utils import LockedError

        try:
            with file_lock(self.root / ".locks" / f"{validate_name(name)}.{what}.lock", blocking=False):
                yield
        except LockedError:
            raise RunError(f"run {name!r} is already being used ({what}) by another process") from None

    def exists(self, name: str) -> bool:
        return (self.path(name) / "run.json").is_file()

    def create(self, name: str, kind: str, model: str, config: dict | None = None, overwrite: bool = False) -> Run:
        """Make a new run folder; refuses to overwrite an existing run unless asked."""
        folder = self.path(name)
        if folder.exists() and overwrite:
            shutil.rmtree(folder)
        try:
            folder.mkdir(parents=True)  # atomic: of two processes creating one name, exactly one succeeds
        except FileExistsError:
            what = "already exists" if (folder / "run.json").is_file() else "is a folder without run.json"
            raise RunError(f"run {name!r} {what} at {folder}; choose another name, or delete that folder") from None
        info = {
            "schema_version": SCHEMA_VERSION,
            "name": name,
            "kind": kind,
            "model": model,
            "created": now_iso(),
            "git_sha": git_sha(),
            "config": config or {},
        }
        write_json(folder / "run.json", info)
        return Run(folder)

    def discard_if_empty(self, run: Run) -> bool:
        """Delete a run folder that holds only run.json (nothing computed yet); True when deleted."""
        if run.path.is_dir() and {p.name for p in run.path.iterdir()} <= {"run.json"}:
            shutil.rmtree(run.path, ignore_errors=True)
            return True
        return False

    def get(self, name: str) -> Run:
        run = Run(self.path(name))
        if not run.path.is_dir():
            raise RunError(f"no run named {name!r} in {self.root}; see `python -m hybrid_core runs`")
        return run

    def list(self) -> list[Run]:
        """Every folder in the store (corrupt ones included: readers show them as errors)."""
        if not self.root.is_dir():
            return []
        return sorted(
            (Run(p) for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda r: r.name
        )

    def table(self) -> pd.DataFrame:
        """One row per run: name, kind, model, sampler, alpha, steps, created, data sets, headline mAPs, error."""
        rows = []
        for run in self.list():
            row: dict = {"name": run.name}
            try:
                info = run.info
                cfg = info.get("config", {})
                row.update(
                    kind=info.get("kind"),
                    model=info.get("model"),
                    sampler=cfg.get("sampler"),
                    alpha=cfg.get("alpha") if cfg.get("sampler") == "hybrid" else None,  # α means nothing elsewhere
                    train_data=cfg.get("train_data"),
                    steps=info.get("steps", cfg.get("steps")),
                    status=info.get("status"),  # training / evaluating while a job works on it (or was stopped)
                    created=info.get("created"),
                    datasets=", ".join(run.datasets()),
                )
                for ds in run.datasets():
                    macro = run.summary(ds).get("macro", {})
                    for kind in ("mono", "cross", "multi"):  # columns as evaluation.metrics.column_name spells them
                        if kind in macro:
                            row[f"{ds} {kind} map"] = macro[kind].get("map")
                row["error"] = None
            except RunError as exc:
                row["error"] = str(exc)
            rows.append(row)
        return pd.DataFrame(rows)
