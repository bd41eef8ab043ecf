"""The run store: one folder per evaluation or training run, plain files only.

Layout of ``<runs>/<name>/``::

    run.json                      schema version, kind, model, config, git SHA, created
    train_log.jsonl               (training runs) one JSON line per logged step
    checkpoints/step-<N>/         (training runs) resumable checkpoints (safetensors)
    model/                        (training runs) the final sentence-transformers folder
    results/<dataset>/summary.json     macro/setting/bias summary + data fingerprint + timings
    results/<dataset>/per_query.parquet one row per (setting, query)

The dashboard and a notebook read the same files. A result is never recomputed when a summary for
the same data fingerprint is on disk.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hybrid_core import paths
from hybrid_core.errors import RunError
from hybrid_core.io_utils import atomic_path, read_json, write_json

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def validate_name(name: str) -> str:
    """Run and data set names: letters, digits, ``.``, ``_``, ``-``; no path tricks."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise RunError(
            f"invalid run name {name!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


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
        return sorted(p.name for p in root.iterdir() if (p / "summary.json").is_file()) if root.is_dir() else []

    def summary(self, dataset: str) -> dict:
        f = self.result_dir(dataset) / "summary.json"
        if not f.is_file():
            raise RunError(f"run {self.name!r} has no results for {dataset!r}; evaluate it first")
        try:
            return read_json(f)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RunError(f"run {self.name!r}: {f.name} for {dataset!r} is corrupt ({exc})") from None

    def per_query(self, dataset: str) -> pd.DataFrame:
        f = self.result_dir(dataset) / "per_query.parquet"
        if not f.is_file():
            raise RunError(f"run {self.name!r} has no per-query results for {dataset!r}")
        try:
            return pd.read_parquet(f)
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise RunError(f"run {self.name!r}: per_query.parquet for {dataset!r} is unreadable ({exc})") from None

    def has_result(self, dataset: str, fingerprint: str) -> bool:
        """True when results for exactly this data (by fingerprint) are on disk."""
        try:
            return (
                self.summary(dataset).get("data_fingerprint") == fingerprint
                and (self.result_dir(dataset) / "per_query.parquet").is_file()
            )
        except RunError:
            return False

    def save_result(self, dataset: str, per_query: pd.DataFrame, summary: dict) -> None:
        """Write per-query rows then the summary (the summary's presence marks a complete result)."""
        folder = self.result_dir(dataset)
        with atomic_path(folder / "per_query.parquet") as tmp:
            per_query.to_parquet(tmp, index=False)
        write_json(folder / "summary.json", summary)

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

    def exists(self, name: str) -> bool:
        return (self.path(name) / "run.json").is_file()

    def create(self, name: str, kind: str, model: str, config: dict | None = None, overwrite: bool = False) -> Run:
        """Make a new run folder; refuses to overwrite an existing run unless asked."""
        folder = self.path(name)
        if folder.exists():
            if not overwrite:
                raise RunError(f"run {name!r} already exists at {folder}; choose another name or pass --overwrite")
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
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
