"""Start the dashboard: ``streamlit run app.py``, warming the first page's imports while the browser loads.

    .venv/bin/python scripts/dashboard.py                            # = streamlit run app.py, a faster first page
    .venv/bin/python scripts/dashboard.py --server.port 8502         # any `streamlit run` option passes through

A fresh Streamlit process spends most of its first script run importing pandas / pyarrow (any table needs
them) and the pages' modules. Here a background thread imports them as soon as the server listens, while
the browser is still loading and starting Streamlit's front end (the server is idle then), so the first
script run finds them in ``sys.modules``. Before the server listens, Streamlit reads the metadata of every
installed distribution looking for v2 component manifests (~0.2 s of CPU, no setting turns it off); when the
installed distributions are exactly those of an earlier scan that found none, the launcher skips it
(:func:`cache_component_scan`). Nothing else differs from ``streamlit run app.py``: same app, same options,
same behaviour; a module that fails to import here is simply imported again (and reported) by the page that
needs it.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
# What the first script run of any page imports beyond Streamlit itself, most expensive first.
PRELOAD = (
    "pandas",
    "pyarrow",
    "pyarrow.parquet",  # run results (per-query tables) are Parquet
    "pyarrow.dataset",
    "streamlit.material_icon_names",  # the pages' :material/...: icons
    "pages._ui",
    "pages._export_ui",
    "hybrid_core.analysis.compare",
    "hybrid_core.analysis.stats",
    "hybrid_core.evaluation.tables",
)
log = logging.getLogger("hybrid_ir.dashboard")


def _server_listening() -> bool:
    from streamlit.runtime import Runtime, RuntimeState

    return Runtime.exists() and Runtime.instance().state != RuntimeState.INITIAL


def preload(modules: tuple[str, ...] = PRELOAD, wait: float = 60.0) -> list[str]:
    """Once the server listens, import ``modules``; returns those that could not be imported (logged, not raised)."""
    deadline = time.monotonic() + wait
    while not _server_listening() and time.monotonic() < deadline:
        time.sleep(0.02)
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the page importing it will show the error where it belongs
            log.warning("dashboard pre-import of %s failed: %s", name, exc)
            failed.append(name)
    return failed


def installed_distributions(path: list[str] | None = None) -> list[list]:
    """``[folder, name, METADATA mtime]`` of every ``*.dist-info`` / ``*.egg-info`` on ``path`` (default
    ``sys.path``), sorted: what ``importlib.metadata.distributions()`` reads, from one ``scandir`` per folder.
    pip rewrites a distribution's metadata on every install, upgrade or removal, so any change shows here."""
    found = []
    for folder in sys.path if path is None else path:
        try:
            entries = list(os.scandir(folder or "."))
        except OSError:
            continue
        for e in entries:
            if e.name.endswith((".dist-info", ".egg-info")):
                meta = Path(e.path) / ("METADATA" if e.name.endswith(".dist-info") else "PKG-INFO")
                try:
                    stamp = meta.stat().st_mtime_ns if e.is_dir() else e.stat().st_mtime_ns
                except OSError:
                    stamp = None
                found.append([folder, e.name, stamp])
    return sorted(found, key=lambda r: (r[0], r[1]))


def cached_scan(scan: Callable[..., list], record: Path, path: list[str] | None = None) -> Callable[..., list]:
    """``scan`` (Streamlit's manifest scan) that returns ``[]`` without scanning when the installed distributions
    equal those recorded in ``record`` by an earlier scan that found no manifests. A scan that finds manifests is
    never skipped, and an unreadable record only means scanning."""

    def scan_once(*args, **kwargs):
        from hybrid_core.io_utils import read_json, write_json

        installed = installed_distributions(path)
        try:
            if read_json(record).get("installed") == installed:
                return []
        except (OSError, ValueError, AttributeError):
            pass
        found = scan(*args, **kwargs)
        if not found:
            try:
                write_json(record, {"installed": installed})
            except OSError as exc:  # a read-only cache only costs the scan next time
                log.warning("could not record the component scan in %s: %s", record, exc)
        return found

    return scan_once


def cache_component_scan(record: Path | None = None) -> bool:
    """Route Streamlit's v2-component manifest scan through :func:`cached_scan` (recorded in
    ``<cache>/dashboard/component-scan.json``); False, changing nothing, when this Streamlit has no such scan."""
    try:
        from streamlit.components.v2 import manifest_scanner
    except ImportError:
        return False
    scan = getattr(manifest_scanner, "scan_component_manifests", None)
    if not callable(scan):
        return False
    if record is None:
        from hybrid_core.paths import cache_dir

        record = cache_dir() / "dashboard" / "component-scan.json"
    manifest_scanner.scan_component_manifests = cached_scan(scan, record)
    return True


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    argv = sys.argv[1:] if argv is None else argv
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # `pages` and `hybrid_core` import as they do in the app's script runs
    cache_component_scan()
    threading.Thread(target=preload, name="hybrid-ir-preload", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main()
