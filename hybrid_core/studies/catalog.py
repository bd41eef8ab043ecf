"""Studies on disk and their state, for the CLI and the dashboard.

A study folder (``<studies>/<name>/<size>/``) is *planned* when it has only ``plan.json``, *running*
while ``status.json`` says so and its process is alive (*interrupted* when that process is gone), and
*done* once the tables are written. Progress is the share of cells whose runs are finished.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hybrid_core.io_utils import read_json
from hybrid_core.studies.plan import studies_dir


def _alive(pid) -> bool:
    from hybrid_core.jobs import _alive as process_alive  # one liveness check (zombies count as gone)

    return isinstance(pid, int) and pid > 0 and process_alive(pid)


def study_state(folder: Path) -> dict:
    """``{"state", "progress", "current", "updated", "error"}`` of one study folder."""
    status = {}
    f = folder / "status.json"
    if f.is_file():
        try:
            status = read_json(f)
        except (ValueError, OSError):
            status = {}
    state = status.get("state", "planned")
    if state in ("running", "analysing") and not _alive(status.get("pid")):
        state = "interrupted"
    if state == "done" and not (folder / "results.csv").is_file():
        state = "interrupted"
    total = status.get("total") or 0
    done = status.get("done") or 0
    return {
        "state": state,
        "progress": (done / total) if total else (1.0 if state == "done" else 0.0),
        "current": status.get("current"),
        "updated": status.get("updated"),
        "error": status.get("error"),
        "wall_seconds": status.get("wall_seconds"),
    }


def list_studies(root=None) -> pd.DataFrame:
    """One row per study folder: name, size, state, progress, current run, last update, path."""
    base = studies_dir(root)
    rows = []
    if base.is_dir():
        for plan in sorted(base.glob("*/*/plan.json")):
            folder = plan.parent
            rows.append({"study": folder.parent.name, "size": folder.name, **study_state(folder), "path": str(folder)})
    return pd.DataFrame(
        rows, columns=["study", "size", "state", "progress", "current", "updated", "error", "wall_seconds", "path"]
    )
