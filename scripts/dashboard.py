"""Start the dashboard: ``streamlit run app.py``, warming the first page's imports while the browser loads.

    .venv/bin/python scripts/dashboard.py                            # = streamlit run app.py, a faster first page
    .venv/bin/python scripts/dashboard.py --server.port 8502         # any `streamlit run` option passes through

A fresh Streamlit process spends most of its first script run importing pandas / pyarrow (any table needs
them) and the pages' modules. Here a background thread imports them as soon as the server listens, while
the browser is still loading and starting Streamlit's front end (the server is idle then), so the first
script run finds them in ``sys.modules``. Nothing else differs from ``streamlit run app.py``: same app, same
options, same behaviour; a module that fails to import here is simply imported again (and reported) by the
page that needs it.
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading
import time
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


def main(argv: list[str] | None = None) -> None:
    from streamlit.web import cli

    argv = sys.argv[1:] if argv is None else argv
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # `pages` and `hybrid_core` import as they do in the app's script runs
    threading.Thread(target=preload, name="hybrid-ir-preload", daemon=True).start()
    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main()
