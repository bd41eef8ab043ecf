"""Where things live on disk: data dir, cache dir, runs dir.

Resolution order, most specific first:
- data: explicit argument (``--data-dir``) > ``$HYBRID_IR_DATA`` > ``./data``
- cache: explicit argument > ``$HYBRID_IR_CACHE`` > ``<repo>/cache``
- runs: explicit argument > ``$HYBRID_IR_RUNS`` > ``<cache>/runs``
- embeddings: ``$HYBRID_IR_EMBEDDINGS`` > ``<cache>/embeddings``
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The folder that holds ``xquad-r/``, ``mlqa-r/`` and users' own data sets."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HYBRID_IR_DATA")
    return Path(env).expanduser() if env else Path("data")


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Root of every generated artefact: converted models, embeddings, runs, projections."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HYBRID_IR_CACHE")
    return Path(env).expanduser() if env else REPO_ROOT / "cache"


def runs_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The run store: one folder per evaluation or training run."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("HYBRID_IR_RUNS")
    return Path(env).expanduser() if env else cache_dir() / "runs"


def models_dir() -> Path:
    """Converted / downloaded sentence-transformers folders."""
    return cache_dir() / "models"


def embeddings_dir() -> Path:
    """Embedding cache (``$HYBRID_IR_EMBEDDINGS`` or ``<cache>/embeddings``)."""
    env = os.environ.get("HYBRID_IR_EMBEDDINGS")
    return Path(env).expanduser() if env else cache_dir() / "embeddings"
