"""Dashboard fixtures: run folders made once per session by the real core (tiny models, tiny parallel set).

Every dashboard test reads that run store through ``$HYBRID_IR_RUNS`` and keeps embeddings, projections
and jobs in a session cache (``$HYBRID_IR_CACHE``), so nothing touches the repository's ``cache/``.
"""

from __future__ import annotations

import pytest

from tests.dashboard.helpers import built_store, use_store
from tests.dashboard.tiny_runs import make_runs


@pytest.fixture(scope="session")
def dash(tmp_path_factory):
    """The session's run store: tiny-0, tiny-1 (evaluate), sweep-a0/a0.5/a1 (training-style configs), broken-run."""
    return built_store(tmp_path_factory.mktemp("dash"), make_runs)


@pytest.fixture(autouse=True)
def _dash_dirs(dash, monkeypatch):
    use_store(monkeypatch, dash)
