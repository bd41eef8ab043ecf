"""The run table as the dashboard's Home shows it: readable labels, run states, headline numbers.

Pure functions of :meth:`hybrid_core.runs.RunStore.table` (and of the run names a live job is
working on, which the page passes in): no torch, cheap enough for every visit.
"""

from __future__ import annotations

import pandas as pd


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


def distinct_model_runs(table: pd.DataFrame, n: int = 2) -> list[str]:
    """Up to ``n`` readable runs with different models (first of each model, table order): a useful default pick.

    Two runs of one model score identically; comparing them by default shows nothing.
    """
    good = table[table["error"].isna()] if "error" in table.columns else table
    picked, models = [], set()
    for name, model in zip(good.get("name", []), good.get("model", [None] * len(good)), strict=False):
        if model in models:
            continue
        picked.append(name)
        models.add(model)
        if len(picked) == n:
            break
    return picked
