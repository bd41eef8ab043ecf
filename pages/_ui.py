"""Shared page helpers: cached run-store reads keyed by file mtimes, error cards, tables (downloads: ``_export_ui``).

Not a page (the leading underscore keeps it out of navigation). Every cached read takes the run's
``mtime_key()`` as an argument, so a rewritten result invalidates its cache entry and nothing else.
Core objects that are expensive (models, FAISS indexes) are cached once per process with
``st.cache_resource``.
"""

from __future__ import annotations

import logging
import math
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from hybrid_core.errors import HybridIRError
from hybrid_core.runs import RunStore

if TYPE_CHECKING:  # pandas' Styler imports jinja2: only when a table is formatted
    from pandas.io.formats.style import Styler

log = logging.getLogger("hybrid_ir.dashboard")


def ensure_app_navigation() -> None:
    """Run through ``app.py``'s navigation even when a deep link is the first request after start-up.

    Streamlit treats an app with a ``pages/`` folder as a v1 multipage app until ``st.navigation`` has run
    once in the process; a first request for ``/bias`` would then run ``pages/bias.py`` bare, with an
    auto-generated sidebar. Switch the process to ``st.navigation`` mode and rerun (Streamlit 1.67).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def store() -> RunStore:
    """The run store (``$HYBRID_IR_RUNS`` or ``cache/runs``), read fresh on every rerun."""
    return RunStore()


def runs_key(s: RunStore | None = None) -> tuple[tuple[str, float], ...]:
    """(name, mtime) of every run folder: the cache key of anything that reads the whole store."""
    s = s or store()
    return tuple((r.name, r.mtime_key()) for r in s.list())


@st.cache_data(show_spinner=False, max_entries=32)
def _run_table(root: str, key: tuple) -> pd.DataFrame:
    return RunStore(root).table()


def run_table() -> pd.DataFrame:
    """``RunStore.table()``: one row per run, with an ``error`` column for unreadable runs."""
    s = store()
    return _run_table(str(s.root), runs_key(s))


def good_runs(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["error"].isna()] if "error" in table.columns else table


def datasets_by_run(table: pd.DataFrame) -> dict[str, list[str]]:
    """``{run: [data set, ...]}`` for readable runs that have results."""
    out = {}
    for _, row in good_runs(table).iterrows():
        names = [d for d in str(row.get("datasets") or "").split(", ") if d]
        if names:
            out[row["name"]] = names
    return out


def all_datasets(table: pd.DataFrame) -> list[str]:
    """Data sets with results, most runs first."""
    counts: dict[str, int] = {}
    for names in datasets_by_run(table).values():
        for d in names:
            counts[d] = counts.get(d, 0) + 1
    return sorted(counts, key=lambda d: (-counts[d], d))


def evaluated_or_stop() -> tuple[pd.DataFrame, list[str]]:
    """The run table and its data sets; with no evaluated run, a notice and the page stops here."""
    table = run_table()
    datasets = all_datasets(table) if not table.empty else []
    if not datasets:
        no_runs_notice()
        st.stop()
    return table, datasets


def runs_with(table: pd.DataFrame, dataset: str) -> list[str]:
    return [r for r, ds in datasets_by_run(table).items() if dataset in ds]


def runs_on_set(table: pd.DataFrame, dataset: str) -> list[str]:
    """Runs with results on ``dataset`` or on another slice of the same set (those on ``dataset`` first)."""
    from hybrid_core.analysis import compare

    picked = compare.pick_datasets(datasets_by_run(table), dataset)
    return sorted(picked, key=lambda r: (picked[r] != dataset, r))


def pick_dataset_and_runs(
    key: str, dataset_col, runs_col, n_default: int = 10, across_slices: bool = False
) -> tuple[pd.DataFrame, str, list[str]]:
    """The pages' common head: a data set with results, then runs that have results on it.

    With ``across_slices``, runs evaluated on another slice of the same set are offered too (they compare on
    the questions they share). Stops the page with a notice when nothing is evaluated. Changing the data set
    keeps the chosen runs that have results on the new one (the default pick when none has). Keys:
    ``<key>_dataset``, ``<key>_runs``.
    """
    table, datasets = evaluated_or_stop()
    dataset = dataset_col.selectbox("Data set", datasets, key=f"{key}_dataset")
    available = runs_on_set(table, dataset) if across_slices else runs_with(table, dataset)
    previous = st.session_state.get(f"{key}_runs")
    if previous is not None:
        kept = [r for r in previous if r in available]
        if kept:
            st.session_state[f"{key}_runs"] = kept
        else:
            del st.session_state[f"{key}_runs"]
    chosen = runs_col.multiselect("Runs", available, default=available[:n_default], key=f"{key}_runs")
    return table, dataset, chosen


@st.cache_data(show_spinner=False, max_entries=16)  # a full set's per-query table is tens of MB
def _per_query(root: str, name: str, dataset: str, mtime: float) -> pd.DataFrame:
    return RunStore(root).get(name).per_query(dataset)


def per_query(names: list[str], dataset: str) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """Per-query results of several runs (cached until their files change) and ``{run: error}`` for unreadable ones."""
    s = store()
    frames, errors = {}, {}
    for n in names:
        try:
            frames[n] = _per_query(str(s.root), n, dataset, s.get(n).mtime_key())
        except HybridIRError as exc:
            errors[n] = str(exc)
    return frames, errors


@st.cache_data(show_spinner=False, max_entries=256)
def _summary(root: str, name: str, dataset: str, mtime: float) -> dict:
    return RunStore(root).get(name).summary(dataset)


def summary(name: str, dataset: str) -> dict:
    """A run's summary for a data set (cached until its files change)."""
    s = store()
    return _summary(str(s.root), name, dataset, s.get(name).mtime_key())


def summaries(names: list[str], dataset: str) -> tuple[dict[str, dict], dict[str, str]]:
    """Summaries of several runs, and ``{run: error message}`` for those that cannot be read."""
    out, errors = {}, {}
    for n in names:
        try:
            out[n] = summary(n, dataset)
        except HybridIRError as exc:
            errors[n] = str(exc)
    return out, errors


def cached_core(fn: Callable, *args, names: list[str] = (), **kwargs):
    """Call a pure core function of the store through ``st.cache_data``, keyed by the runs' mtimes."""
    s = store()
    mtimes = tuple((n, s.get(n).mtime_key() if s.exists(n) else 0.0) for n in names)
    return _cached_call(fn.__module__, fn.__name__, str(s.root), mtimes, args, tuple(sorted(kwargs.items())))


@st.cache_data(show_spinner=False, max_entries=128)
def _cached_call(module: str, name: str, root: str, mtimes: tuple, args: tuple, kwargs: tuple):
    import importlib

    fn = getattr(importlib.import_module(module), name)
    return fn(*args, store=RunStore(root), **dict(kwargs))


@st.cache_resource(show_spinner=False, max_entries=4)
def model_for(model_ref: str):
    """Load a sentence-transformers model once per process; returns (model, fingerprint)."""
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model

    ref = resolve_model(model_ref)
    return load_model(ref), model_fingerprint(ref)


def run_model(name: str):
    """The model of a run (its trained folder, or the evaluated model), loaded once per process."""
    info = store().get(name).info
    if not info.get("model"):
        raise HybridIRError(f"run {name!r} has no model yet (training not finished?)")
    return model_for(info["model"])


@contextmanager
def guard(what: str = "this view") -> Iterator[None]:
    """Show user errors as an error card and unexpected ones as a short message; never a traceback."""
    try:
        yield
    except HybridIRError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:  # the browser must never see a traceback
        log.error("dashboard error in %s:\n%s", what, traceback.format_exc())
        st.error(f"Could not render {what}: {type(exc).__name__}: {exc}", icon=":material/error:")


def error_cards(errors: dict[str, str]) -> None:
    """One compact error card per unreadable run; the rest of the page still renders."""
    for name, msg in errors.items():
        st.error(f"**{name}** — {msg}", icon=":material/broken_image:")


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "export"


def _figure_bytes_safe(fig: go.Figure, fmt: str, render: Callable) -> bytes:
    try:
        return render(fig, fmt)
    except HybridIRError as exc:
        log.error("figure export failed: %s", exc)
        return f"figure export failed: {exc}".encode()


def jobs_finished(page_key: str, listed: list) -> bool:
    """True once when the set of running jobs shrank since this page's last poll (then: rerun the page)."""
    now = {j.id for j in listed if j.state == "running"}
    before = st.session_state.get(f"{page_key}_running_jobs", set())
    st.session_state[f"{page_key}_running_jobs"] = now
    return bool(before - now)


def no_runs_notice() -> None:
    st.info(
        "No evaluated runs yet. Go to **Home** and evaluate the default model, or start a job on **Jobs**.",
        icon=":material/info:",
    )


def fmt_table(table: pd.DataFrame, digits: int = 3) -> Styler:
    """Floats shown with exactly ``digits`` decimals (1330.0 stays "1330.0"); the downloads keep full precision."""
    return table.round(digits).style.format(precision=digits, na_rep="–")


def plain(v) -> str:
    """A config value as text: integers without ".0" (pandas turns int columns with gaps into floats)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def configs_expander(frame: pd.DataFrame, runs: list[str], key: str) -> None:
    """ "Configs of these runs": the runs' rows of a config frame, options no run sets left out, values as text."""
    with st.expander("Configs of these runs"):
        st.dataframe(frame.loc[list(runs)].dropna(axis=1, how="all").map(plain), key=key)
