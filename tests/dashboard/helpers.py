"""Helpers for dashboard page tests: run a page with preset state, read its figures and errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import pytest
from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parents[2]


def app(page: str, **state) -> AppTest:
    """An AppTest of ``pages/<page>.py`` (or ``app.py``) with preset session state, already run once."""
    path = REPO / ("app.py" if page == "app" else f"pages/{page}.py")
    at = AppTest.from_file(str(path), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if "Could not render" in e.value], [e.value for e in at.error]


def _decode(obj):
    """Plotly's JSON typed arrays (``{"dtype": "f8", "bdata": base64}``) back to numpy arrays."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            return arr.reshape([int(n) for n in str(obj["shape"]).split(",")]) if "shape" in obj else arr
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def figures(at: AppTest) -> list[go.Figure]:
    """Plotly figures rendered by the page (typed arrays decoded)."""
    return [go.Figure(_decode(json.loads(el.proto.spec)), skip_invalid=True) for el in at.get("plotly_chart")]


def summary(dash, run: str) -> dict:
    from hybrid_core.runs import RunStore

    return RunStore(dash.runs).get(run).summary(dash.ds.name)


def built_store(root: Path, make: Callable, dataset: Callable | None = None, **env: str) -> SimpleNamespace:
    """Run folders made by ``make(runs, models, ds)`` (the real core) under ``root``, the cache kept in ``root/cache``.

    ``dataset()`` gives ``ds`` (default: the built-in tiny parallel set); ``env``: more variables set while making.
    Returns ``root``, ``runs``, ``cache``, ``models``, ``ds`` and ``names`` (what ``make`` returned).
    """
    from hybrid_core.data.mock import tiny_parallel_dataset

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HYBRID_IR_CACHE", str(root / "cache"))
        for name, value in env.items():
            mp.setenv(name, value)
        ds = (dataset or tiny_parallel_dataset)()
        names = make(root / "runs", root / "models", ds)
    return SimpleNamespace(
        root=root, runs=root / "runs", cache=root / "cache", models=root / "models", ds=ds, names=names
    )


def use_store(monkeypatch: pytest.MonkeyPatch, store: SimpleNamespace) -> None:
    """Point the pages (``$HYBRID_IR_RUNS``, ``$HYBRID_IR_CACHE``) at a :func:`built_store`."""
    monkeypatch.setenv("HYBRID_IR_RUNS", str(store.runs))
    monkeypatch.setenv("HYBRID_IR_CACHE", str(store.cache))
