"""Dashboard fixtures: run folders made once per session by the real core (tiny models, tiny parallel set).

Every dashboard test reads that run store through ``$HYBRID_IR_RUNS`` and keeps embeddings, projections
and jobs in a session cache (``$HYBRID_IR_CACHE``), so nothing touches the repository's ``cache/``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hybrid_core.data.mock import tiny_parallel_dataset
from tests.dashboard.tiny_runs import make_runs


@pytest.fixture(scope="session")
def dash(tmp_path_factory):
    """The session's run store: tiny-0, tiny-1 (evaluate), sweep-a0/a0.5/a1 (training-style configs), broken-run."""
    root = tmp_path_factory.mktemp("dash")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_CACHE", str(root / "cache"))
        ds = tiny_parallel_dataset()
        names = make_runs(root / "runs", root / "models", ds)
    return SimpleNamespace(
        root=root, runs=root / "runs", cache=root / "cache", ds=ds, names=names, models=root / "models"
    )


@pytest.fixture(autouse=True)
def _dash_dirs(dash, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_RUNS", str(dash.runs))
    monkeypatch.setenv("HYBRID_IR_CACHE", str(dash.cache))
