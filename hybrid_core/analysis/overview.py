"""The run table as the dashboard's Home shows it: readable labels, run states, headline numbers.

Pure functions of :meth:`hybrid_core.runs.RunStore.table` (and of the run names a live job is
working on, which the page passes in): no torch, cheap enough for every visit.
"""

from __future__ import annotations

import pandas as pd

from hybrid_core.evaluation.metrics import column_label, column_name


def short_model(ref: object) -> str:
    """A readable model label: a hub name as is; a folder by its last meaningful parts (``runs/x/model`` -> ``x``)."""
    if ref is None or (isinstance(ref, float) and pd.isna(ref)) or ref == "":
        return ""
    parts = [p for p in str(ref).replace("\\", "/").split("/") if p]
    while len(parts) > 1 and parts[-1] in ("model", "st", "hf"):
        parts.pop()
    return parts[-1] if parts else str(ref)


#: States of a run that is not (yet) a usable result: Home lists them apart.
INCOMPLETE = ("stopped while training", "stopped while evaluating", "no results")


def run_state(row: dict | pd.Series, live: dict[str, str] | None = None) -> str:
    """What a run is doing or did, from run.json's ``status``, its results and the live jobs.

    ``live`` maps run names to what a running job does to them (:func:`hybrid_core.jobs.live_runs`).
    Without a live job, a ``training`` / ``evaluating`` status means the job was cancelled or died.
    """
    live = live or {}
    status = row.get("status")
    status = None if status is None or (isinstance(status, float) and pd.isna(status)) else status
    has_results = bool(str(row.get("datasets") or ""))
    if row["name"] in live:
        doing = status if status in ("training", "evaluating") else live[row["name"]]
        steps = _int(row.get("steps"))
        return f"{doing}…" + (f" (step {steps})" if doing == "training" and steps else "")
    if status == "training":
        return "stopped while training"
    if status == "evaluating":
        return "stopped while evaluating"
    if not has_results:
        return "trained, not evaluated" if row.get("kind") == "train" and status == "done" else "no results"
    return "done"


def _int(v) -> str:
    n = pd.to_numeric(v, errors="coerce")
    return "" if pd.isna(n) else f"{int(n)}"


def describe_dataset(name: str) -> str:
    """A result's data set name in words: ``xquad-r-q60-s0`` -> a seeded 60-question sample of xquad-r, seed 0."""
    from hybrid_core.data.specs import parse_sample_name

    base, n, seed = parse_sample_name(name)
    if n is None:
        return f"{name}: the whole set"
    return f"{name}: a seeded sample of {n} questions of {base} (seed {seed}), every language of those questions"


def runs_overview(table: pd.DataFrame, dataset: str | None = None, live: dict[str, str] | None = None) -> pd.DataFrame:
    """The run table for display: state, short model names, effective α, dates, data sets, mAP on ``dataset``.

    Missing values are empty strings (never "None"); mAP is shown with 3 decimals and "–" where a run has no
    result on ``dataset``; α is the sampler's effective α (:func:`hybrid_core.training.samplers.effective_alpha`).
    """
    from hybrid_core.training.samplers import effective_alpha

    columns = ["run", "state", "kind", "model", "sampler", "alpha", "train data", "steps", "created", "data sets"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    good = table[table["error"].isna()] if "error" in table.columns else table
    col = lambda name: good[name] if name in good.columns else pd.Series(None, index=good.index, dtype=object)  # noqa: E731
    alpha = [
        effective_alpha(s, a) for s, a in zip(col("sampler"), pd.to_numeric(col("alpha"), errors="coerce"), strict=True)
    ]
    out = pd.DataFrame(
        {
            "run": good["name"],
            "state": [run_state(r, live) for r in good.to_dict("records")],
            "kind": col("kind"),
            "model": col("model").map(short_model),
            "sampler": col("sampler"),
            "alpha": ["" if a is None else f"{a:g}" for a in alpha],
            "train data": col("train_data"),
            "steps": col("steps").map(_int),
            "created": pd.to_datetime(col("created"), errors="coerce", utc=True).dt.strftime("%Y-%m-%d %H:%M"),
            "data sets": col("datasets"),  # last: the widest cell; everything before it fits a 1400 px window
        },
        index=good.index,
    )
    for c in out.columns:
        out[c] = out[c].astype(object).where(out[c].notna(), "")
    if dataset:  # the headline numbers right after the name, so a narrow window still shows them
        for i, kind in enumerate(("mono", "cross", "multi")):
            name = column_name("map", kind, dataset)
            values = (
                pd.to_numeric(good[name], errors="coerce")
                if name in good.columns
                else pd.Series(float("nan"), index=good.index)
            )
            out.insert(1 + i, column_label("map", kind), values.map(lambda v: "–" if pd.isna(v) else f"{v:.3f}"))
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
