"""What is on disk besides runs: the LAReQA data sets and the default model; quick-start job presets.

Cheap on purpose (file checks only, no torch): the dashboard's home page calls these on every visit.
"""

from __future__ import annotations

import ipaddress

import pandas as pd

from hybrid_core import paths

#: One-click evaluations of the default model offered when the run store is empty.
EVALUATE_PRESETS: dict[str, dict] = {
    "quick": {
        "title": "Quick: 200 XQuAD-R questions × 11 languages (a few minutes)",
        "label": "evaluate default model (quick)",
        "args": ("evaluate", "--data", "xquad-r", "--max-questions", "200", "--seed", "0"),
    },
    "full": {
        "title": "Full: XQuAD-R + MLQA-R (about 20 minutes on 2 CPU cores)",
        "label": "evaluate default model (full)",
        "args": ("evaluate", "--data", "xquad-r", "mlqa-r"),
    },
}


def exposure_warning(address: str | None) -> str | None:
    """A warning when the dashboard listens beyond this machine (``server.address`` not loopback), else None.

    The dashboard has no login and can start training and evaluation processes, so anyone who can
    reach it can use this machine's CPU and disk. An empty address is Streamlit's default: every interface.
    """
    host = (address or "").strip().strip("[]")
    if host == "localhost":
        return None
    try:
        if host and ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    where = f"address {host!r}" if host else "every network interface (no server.address set)"
    return (
        f"This dashboard listens on {where}, not only on this machine. It has no login and can start processes: "
        "expose it only behind a reverse proxy with authentication (see README, Security and reliability)."
    )


def data_status(data_dir: str | None = None) -> pd.DataFrame:
    """One row per known data set: title, languages, whether its files are in the data folder, the folder."""
    from hybrid_core.data import KNOWN_SETS

    root = paths.data_dir(data_dir)
    rows = []
    for key, meta in KNOWN_SETS.items():
        folder = root / key
        found = sorted(p.stem for p in folder.glob("*.json")) if folder.is_dir() else []
        missing = sorted(set(meta["languages"]) - set(found))
        rows.append(
            {
                "data set": key,
                "languages": " ".join(meta["languages"]),
                "questions": meta["questions"],
                "candidates": meta["candidates"],
                "status": "ready" if not missing else ("missing" if not found else f"lacks {' '.join(missing)}"),
                "folder": str(folder),
                "available": not missing,
            }
        )
    return pd.DataFrame(rows)


def model_status() -> dict:
    """The default model's name, whether its converted folder exists, and a one-line detail."""
    try:
        from hybrid_core.models.loading import DEFAULT_MODEL, default_model_path
    except ImportError:
        return {
            "name": "multilingual-e5-small",
            "ready": False,
            "detail": "hybrid_core.models is not installed",
        }
    try:
        path = default_model_path()
    except Exception as exc:  # a status line must not break the page
        return {"name": DEFAULT_MODEL, "ready": False, "detail": f"unknown ({exc})"}
    ready = (path / "modules.json").is_file()
    detail = f"converted, in `{path}`" if ready else f"not converted yet (target `{path}`)"
    return {"name": DEFAULT_MODEL, "ready": ready, "detail": detail}


BUILTIN_DEMO = "tiny-parallel"


def dataset_choices(data_dir: str | None = None) -> list[str]:
    """Data sets a page can load by name: the LAReQA sets found on disk, then the built-in demo set."""
    found = data_status(data_dir)
    return [*found.loc[found["available"], "data set"], BUILTIN_DEMO]


def load_named(name: str, data_dir: str | None = None):
    """A data set by name (``xquad-r``, ``mlqa-r``, ``tiny-parallel``) or path, through the data loaders."""
    if name == BUILTIN_DEMO:
        from hybrid_core.data.mock import tiny_parallel_dataset

        return tiny_parallel_dataset()
    from hybrid_core.data import load_dataset

    return load_dataset(name, data_dir=data_dir)


def short_model(ref: object) -> str:
    """A readable model label: a hub name as is; a folder by its last meaningful parts (``runs/x/model`` -> ``x``)."""
    if ref is None or (isinstance(ref, float) and pd.isna(ref)) or ref == "":
        return ""
    parts = [p for p in str(ref).replace("\\", "/").split("/") if p]
    while len(parts) > 1 and parts[-1] in ("model", "st", "hf"):
        parts.pop()
    return parts[-1] if parts else str(ref)


def runs_overview(table: pd.DataFrame, dataset: str | None = None) -> pd.DataFrame:
    """The run table for display: readable runs, short model names, dates, and mono/cross/multi mAP on ``dataset``."""
    if table.empty:
        return pd.DataFrame(columns=["run", "kind", "model", "sampler", "alpha", "train data", "steps", "created"])
    good = table[table["error"].isna()] if "error" in table.columns else table
    out = pd.DataFrame(
        {
            "run": good["name"],
            "kind": good.get("kind"),
            "model": good.get("model", pd.Series(dtype=object)).map(short_model),
            "sampler": good.get("sampler"),
            "alpha": pd.to_numeric(good.get("alpha"), errors="coerce").map(lambda a: "" if pd.isna(a) else f"{a:g}"),
            "train data": good.get("train_data"),
            "steps": pd.to_numeric(good.get("steps"), errors="coerce").map(lambda n: "" if pd.isna(n) else f"{int(n)}"),
            "created": pd.to_datetime(good.get("created"), errors="coerce", utc=True).dt.strftime("%Y-%m-%d %H:%M"),
            "data sets": good.get("datasets"),
        }
    )
    for col in ("kind", "sampler", "train data", "data sets", "created"):
        out[col] = out[col].astype(object).where(out[col].notna(), "")
    if dataset:  # the headline numbers right after the name, so a narrow window still shows them
        for i, kind in enumerate(("mono", "cross", "multi")):
            col = f"{dataset} {kind} map"
            out.insert(1 + i, f"{kind} mAP", good[col].astype(float) if col in good.columns else float("nan"))
    return out.reset_index(drop=True)
