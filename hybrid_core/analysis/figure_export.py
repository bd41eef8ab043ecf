"""Figures as PNG / SVG / PDF (Kaleido, headless Chromium) and tables as CSV / LaTeX text, in memory.

Kaleido 1.x drives a Chromium it finds on ``PATH`` or through ``$BROWSER_PATH``; on Debian that is
``/usr/bin/chromium`` (``apt-get install chromium``), set here when the variable is unset. Tables are
written by :func:`hybrid_core.evaluation.tables.table_text`, the same text ``hybrid-ir export`` writes.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import plotly.graph_objects as go

from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.tables import TABLE_FORMATS, table_text

__all__ = [
    "FIGURE_FORMATS",
    "TABLE_FORMATS",
    "chromium_path",
    "figure_bytes",
    "render_figures",
    "render_session",
    "table_text",
    "write_figure",
]

FIGURE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
_CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def chromium_path() -> str | None:
    """The browser Kaleido will use: ``$BROWSER_PATH``, else a Debian/Ubuntu Chromium, else one on PATH."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env
    for cand in _CHROMIUM_CANDIDATES:
        if Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return shutil.which("chromium") or shutil.which("google-chrome")


def figure_bytes(
    fig: go.Figure, fmt: str = "png", width: int = 1000, height: int | None = None, scale: float = 2
) -> bytes:
    """Render ``fig`` to PNG, SVG or PDF bytes (``scale`` multiplies the pixels of a PNG only)."""
    if fmt not in FIGURE_FORMATS:
        raise HybridIRError(f"unknown figure format {fmt!r}; use one of {list(FIGURE_FORMATS)}")
    browser = chromium_path()
    if browser is None:
        raise HybridIRError("figure export needs Chromium: apt-get install -y chromium (or set BROWSER_PATH)")
    os.environ.setdefault("BROWSER_PATH", browser)
    import plotly.io as pio

    h = height or fig.layout.height or 500
    try:
        return pio.to_image(fig, format=fmt, width=width, height=h, scale=scale if fmt == "png" else 1)
    except Exception as exc:  # kaleido raises several types when the browser cannot start
        raise HybridIRError(f"figure export failed ({type(exc).__name__}: {exc})") from None


_session_lock = threading.Lock()
_session_users = 0


@contextmanager
def render_session() -> Iterator[None]:
    """Keep one Chromium open for every figure rendered inside (Kaleido's sync server), instead of one each.

    Reference-counted, so nested or concurrent sessions (two dashboard users) share it; the browser
    closes when the last one ends. Without Chromium the figures fail as in :func:`figure_bytes`.
    """
    global _session_users
    browser = chromium_path()
    started = False
    with _session_lock:
        if browser is not None:
            os.environ.setdefault("BROWSER_PATH", browser)
            import kaleido

            if _session_users == 0:
                try:
                    kaleido.start_sync_server(silence_warnings=True)
                    started = True
                except Exception:  # no server: figure_bytes falls back to one browser per figure
                    started = False
            _session_users += 1
    try:
        yield
    finally:
        with _session_lock:
            if browser is not None:
                _session_users -= 1
                if _session_users == 0 and started:
                    import kaleido

                    kaleido.stop_sync_server(silence_warnings=True)


def render_figures(figs: dict[str, go.Figure], formats, render: Callable[[go.Figure, str], bytes]) -> dict[str, bytes]:
    """``{"figures/<stem>.<fmt>": bytes}`` of every figure in every format, drawn by ``render(fig, fmt)`` in one
    Chromium session (:func:`render_session`); raises :class:`HybridIRError` when a figure cannot be drawn (no
    Chromium), so a bundle can leave its figures out as a whole."""
    out: dict[str, bytes] = {}
    with render_session():
        for stem, fig in figs.items():
            for fmt in formats:
                out[f"figures/{stem}.{fmt}"] = render(fig, fmt)
    return out


def write_figure(fig: go.Figure, path: str | Path, **kw) -> Path:
    """Write a figure to ``path`` (format from the suffix: .png or .svg)."""
    from hybrid_core.io_utils import atomic_path

    path = Path(path)
    data = figure_bytes(fig, path.suffix.lstrip(".").lower(), **kw)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
