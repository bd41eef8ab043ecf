"""Ablations: find runs that differ in exactly one config setting and tabulate the effect of that setting.

A *group* is a set of runs whose configs agree on every key except one (the swept key) and the
replicate keys (``seed``): e.g. hybrid runs with α in {0, 0.25, 0.5, 0.75, 1}. Runs sharing a swept value
(several seeds) are replicates: their per-query values are averaged cell by cell before the macro mean,
and the 95% CI resamples questions (see :mod:`hybrid_core.analysis.stats`). The paper has no α sweep; this is
where ours is read.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hybrid_core.analysis import stats
from hybrid_core.analysis.compare import ALL_METRICS, KINDS, align_grid, question_tensor
from hybrid_core.errors import HybridIRError
from hybrid_core.runs import RunStore
from hybrid_core.training.config import RESUME_SAFE_KEYS
from hybrid_core.training.samplers import effective_alpha

#: Keys whose differing values make runs replicates rather than different settings.
REPLICATE_KEYS = frozenset({"seed"})
#: Keys that are a function of the swept key, so they may differ inside its group.
DEPENDENT_KEYS = {"alpha": {"sampler"}, "sampler": {"alpha"}}
#: Keys that never define a setting: the trainer's bookkeeping options (the ones a resume may change) and
#: output places, devices, progress flags.
IGNORED_KEYS = RESUME_SAFE_KEYS | frozenset(
    {
        "run_name",
        "name",
        "output_dir",
        "out",
        "resume",
        "save_every",
        "device",
        "kinds",
        "progress",
        "num_workers",
        "runs_dir",
        "data_dir",
    }
)


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = tuple(v) if isinstance(v, list) else v
    return out


def config_frame(store: RunStore | None = None) -> pd.DataFrame:
    """One row per readable run (index: run name): flattened config keys plus ``kind`` and ``base_model``.

    ``alpha`` is the *effective* α of the hybrid family (X-Y = 0, X-X-mono = 1, hybrid = its α; NaN for
    other samplers), so the paper's three arms form one α sweep. Training runs record their base model in
    ``base_model``; evaluation runs get the evaluated model there.
    """
    store = store or RunStore()
    rows = {}
    for run in store.list():
        try:
            info = run.info
        except HybridIRError:
            continue
        cfg = _flatten(info.get("config") or {})
        cfg.setdefault("base_model", info.get("model"))
        if "sampler" in cfg:
            cfg["alpha"] = effective_alpha(cfg["sampler"], cfg.get("alpha"))
        rows[run.name] = {"kind": info.get("kind"), **cfg}
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "run"
    return frame


def _setting_keys(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in IGNORED_KEYS and c.split(".")[-1] not in IGNORED_KEYS]


def _canon(value) -> str:
    """A comparable text form of a config value (missing values of any kind are equal)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "∅"
    return repr(value)


def find_groups(frame: pd.DataFrame, key: str) -> list[list[str]]:
    """Groups of runs that agree on every setting but ``key`` (and replicate keys) and take >= 2 values of it."""
    if key not in frame.columns:
        return []
    skip = {key, *DEPENDENT_KEYS.get(key, ())}
    others = [c for c in _setting_keys(frame) if c not in skip and c.split(".")[-1] not in REPLICATE_KEYS]
    sub = frame[frame[key].notna()]
    if sub.empty:
        return []
    sig = (
        sub[others].apply(lambda col: col.map(_canon)).agg("|".join, axis=1)
        if others
        else pd.Series("", index=sub.index)
    )
    groups = []
    for _, names in sub.groupby(sig).groups.items():
        names = sorted(names)
        if sub.loc[names, key].map(_canon).nunique() >= 2:
            groups.append(names)
    return sorted(groups, key=len, reverse=True)


def varying_keys(frame: pd.DataFrame) -> list[str]:
    """Settings for which at least one one-factor group exists (``alpha`` first when present)."""
    keys = [k for k in _setting_keys(frame) if k.split(".")[-1] not in REPLICATE_KEYS and find_groups(frame, k)]
    return sorted(keys, key=lambda k: (k != "alpha", k))


def sweep(
    names: Sequence[str],
    key: str,
    dataset: str,
    store: RunStore | None = None,
    *,
    metrics: Sequence[str] = ALL_METRICS,
    kinds: Sequence[str] = KINDS,
    n_boot: int = stats.N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Tidy table: one row per (value of ``key``, kind, metric) with value, 95% CI, and the runs behind it."""
    store = store or RunStore()
    frame = config_frame(store)
    missing = [n for n in names if n not in frame.index]
    if missing:
        raise HybridIRError(f"unreadable or unknown run(s) {missing}")
    by_value: dict = {}
    for name in names:
        by_value.setdefault(frame.loc[name, key], []).append(name)
    frames = {name: store.get(name).per_query(dataset) for name in names}
    rows = []
    for value, runs in by_value.items():
        for kind in kinds:
            tensors = [question_tensor(frames[r], kind, metrics) for r in runs]
            present = [m for m in metrics if all(m in frames[r].columns for r in runs)]
            if kind != "multi":
                present = [m for m in present if m != "rank_distance"]
            if not present or not any(t.size for t, _, _ in tensors):
                continue
            q_all = sorted(set().union(*(q for _, q, _ in tensors)))
            s_all = sorted(set().union(*(s for _, _, s in tensors)))
            stack = []
            for r in runs:
                stack.append(align_grid(*question_tensor(frames[r], kind, present), q_all, s_all))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a cell missing in every replicate stays NaN
                mean = np.nanmean(np.stack(stack), axis=0)
            for metric, ci in zip(present, stats.macro_bootstrap(mean, n_boot=n_boot, seed=seed), strict=True):
                rows.append(
                    {
                        key: value,
                        "kind": kind,
                        "metric": metric,
                        "value": ci.value,
                        "ci_low": ci.low,
                        "ci_high": ci.high,
                        "n_runs": len(runs),
                        "runs": ", ".join(runs),
                    }
                )
    out = pd.DataFrame(rows, columns=[key, "kind", "metric", "value", "ci_low", "ci_high", "n_runs", "runs"])
    order = sorted(by_value, key=(lambda v: v) if is_numeric(list(by_value)) else str)
    out["_order"] = out[key].map({v: i for i, v in enumerate(order)})
    return out.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)


def is_numeric(values: Sequence) -> bool:
    """True when every value is a real number (draw a curve), else categories (draw bars)."""
    return all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)


def wide(sweep_table: pd.DataFrame, key: str, metric: str = "map", digits: int = 3) -> pd.DataFrame:
    """Display table for one metric: one row per value of ``key``, one column per kind, ``value [low, high]``."""
    t = sweep_table[sweep_table["metric"] == metric]
    if t.empty:
        return pd.DataFrame()
    cell = t.apply(lambda r: f"{r['value']:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]", axis=1)
    out = t.assign(cell=cell).pivot(index=key, columns="kind", values="cell")
    out = out.reindex(index=list(dict.fromkeys(t[key])), columns=[k for k in KINDS if k in set(t["kind"])])
    runs = t.drop_duplicates(key).set_index(key)["runs"]
    out["runs"] = runs.reindex(out.index)
    out.columns.name = None
    return out
