"""Noise robustness: metric vs noise level, per setting kind or per query language, from noisy evaluations.

``evaluate --noise typos:0.1 --noise-seed 0`` stores results under ``<data>-noise-typos0.1-seed0`` beside
the clean ``<data>`` (:func:`hybrid_core.augment.perturb.noisy_name`). :func:`noise_curve_table` collects a
run's clean and noisy results of one data set into one tidy table, with a 95% bootstrap CI per point and a
paired randomisation test against the clean queries (same query ids and settings; Holm-corrected over the
table's rows); :func:`robustness_figure` draws it. The mean is over (setting, query) rows of the group,
which for equal-size settings equals the macro mean the summaries report.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hybrid_core.analysis.figures import KIND_ORDER, LANGUAGE_PALETTE, PALETTE, _layout, ci_band
from hybrid_core.analysis.stats import bootstrap_ci, holm, paired_permutation_test
from hybrid_core.errors import HybridIRError
from hybrid_core.runs import Run

_NOISY = re.compile(r"^(?P<base>.+)-noise-(?P<label>.+)-seed(?P<seed>\d+)$")
_ITEM = re.compile(r"(?P<kind>[a-z]+)(?P<rate>\d+(?:\.\d+)?(?:e-?\d+)?)")


def parse_noisy_name(name: str) -> tuple[str, list[tuple[str, float]], int] | None:
    """``"xquad-r-noise-typos0.1-casing1-seed0"`` -> ``("xquad-r", [("typos", 0.1), ("casing", 1.0)], 0)``."""
    m = _NOISY.match(name)
    if not m:
        return None
    items = [(i["kind"], float(i["rate"])) for i in _ITEM.finditer(m["label"])]
    return m["base"], items, int(m["seed"])


def noisy_results(run: Run, base: str) -> list[tuple[str, list[tuple[str, float]], int]]:
    """The run's result sets for ``base``: the clean one (no items) first, then noisy ones by level."""
    found = []
    for name in run.datasets():
        if name == base:
            found.append((name, [], -1))
            continue
        parsed = parse_noisy_name(name)
        if parsed and parsed[0] == base:
            found.append((name, parsed[1], parsed[2]))
    return sorted(found, key=lambda t: (t[2] >= 0, [r for _, r in t[1]], t[2]))


def noise_curve_table(
    run: Run, base: str, metric: str = "map", by: str = "kind", n_boot: int = 1000, n_perm: int = 2000
) -> pd.DataFrame:
    """One row per (noise result, group): ``level`` (the summed rate of its kinds; 0 = clean), ``noise``,
    ``group`` (mono / cross / multi, or a query language), ``value``, ``ci_low``, ``ci_high``, ``n``,
    ``drop`` (value - clean value), ``p`` (paired test vs clean) and ``p_holm``.
    """
    if by not in ("kind", "language"):
        raise HybridIRError(f"robustness grouping must be 'kind' or 'language', got {by!r}")
    results = noisy_results(run, base)
    if not results or results[0][2] != -1:
        raise HybridIRError(f"run {run.name!r} has no clean results for {base!r}; evaluate without --noise first")
    if len(results) < 2:
        raise HybridIRError(f"run {run.name!r} has no noisy results for {base!r}; evaluate with --noise")
    group_col = "kind" if by == "kind" else "query_language"
    clean = run.per_query(base)
    if metric not in clean.columns:
        raise HybridIRError(f"metric {metric!r} not in the results of {base!r}")
    clean_vals = clean.set_index(["setting", "query_id"])[metric]
    clean_mean = clean.groupby(group_col)[metric].mean()
    rows = []
    for name, items, seed in results:
        pq = run.per_query(name)
        for group, g in pq.groupby(group_col, sort=True):
            vals = g[metric].to_numpy(dtype=np.float64)
            ci = bootstrap_ci(vals, n_boot=n_boot)
            p = np.nan
            if items:
                paired = clean_vals.reindex(pd.MultiIndex.from_frame(g[["setting", "query_id"]])).to_numpy()
                ok = ~np.isnan(paired) & ~np.isnan(vals)
                p = paired_permutation_test(vals[ok], paired[ok], n_perm=n_perm) if ok.any() else np.nan
            rows.append(
                {
                    "dataset": name,
                    "noise": ",".join(f"{k}:{r:g}" for k, r in items) or "none",
                    "level": float(sum(r for _, r in items)),
                    "seed": seed if items else None,
                    "group": group,
                    "metric": metric,
                    "value": ci.value,
                    "ci_low": ci.low,
                    "ci_high": ci.high,
                    "n": int((~np.isnan(vals)).sum()),
                    "drop": ci.value - float(clean_mean.get(group, np.nan)),
                    "p": p,
                }
            )
    table = pd.DataFrame(rows)
    noisy = table["p"].notna()
    table["p_holm"] = np.nan
    if noisy.any():
        table.loc[noisy, "p_holm"] = holm(table.loc[noisy, "p"].to_numpy())
    return table


def robustness_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Metric vs noise level, one line per group with its 95% CI band (from :func:`noise_curve_table`)."""
    metric = table["metric"].iloc[0] if len(table) else ""
    groups = [k for k in KIND_ORDER if k in set(table["group"])] or sorted(set(table["group"]))
    palette = PALETTE if set(groups) <= set(KIND_ORDER) else LANGUAGE_PALETTE
    fig = go.Figure()
    for i, group in enumerate(groups):
        r = table[table["group"] == group].sort_values("level")
        color = palette[i % len(palette)]
        ci_band(fig, r["level"], r["ci_low"], r["ci_high"], color, str(group))
        fig.add_scatter(
            x=r["level"],
            y=r["value"],
            mode="lines+markers",
            name=str(group),
            legendgroup=str(group),
            line={"color": color},
            customdata=np.stack([r["noise"], r["ci_low"], r["ci_high"], r["drop"], r["p_holm"]], axis=1),
            hovertemplate=f"{group}<br>%{{customdata[0]}}<br>{metric} = %{{y:.3f}} [%{{customdata[1]:.3f}}, "
            "%{customdata[2]:.3f}]<br>change vs clean: %{customdata[3]:+.3f} (Holm p = %{customdata[4]:.3g})"
            "<extra></extra>",
        )
    return _layout(
        fig,
        title or f"{metric} under query noise (band: 95% bootstrap CI)",
        xaxis_title="noise level (rate)",
        yaxis_title=metric,
    )
