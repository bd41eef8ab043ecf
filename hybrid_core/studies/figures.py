"""Plotly figures of a study (pure builders: tidy results in, ``go.Figure`` out).

- :func:`curve`: a metric against a numeric arm axis (alpha of the hybrid sampler, lambda of a merge),
  one line per setting kind with its 95% CI band (over questions and, with >= 2 seeds, training seeds);
  arms off the axis (X-X, the untrained model) are dotted reference lines.
- :func:`slice_bars`: one metric of one kind per arm, grouped by language slice (seen / unseen /
  low-resource), with CI whiskers.
- :func:`delta_forest`: each arm's paired difference from the baseline per setting kind, with its 95% CI,
  filled where significant after correction, the table's MDE as a shaded band around 0. The chart to read
  a study whose arms lie on no numeric axis (augmentation, DAPT): absolute bars hide differences of 0.01.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from hybrid_core.analysis.figures import KIND_ORDER, PALETTE, _layout, error_bars, sweep_curve

METRIC_TITLES = {"map": "mAP", "rank_distance": "rank distance (lower is less biased)"}


def curve_series(tidy: pd.DataFrame) -> list[str]:
    """Series with at least two arms on a numeric axis (they get a curve)."""
    t = tidy[tidy["axis"].notna()]
    counts = t.groupby("series")["arm"].nunique()
    return [s for s in dict.fromkeys(t["series"]) if counts.get(s, 0) >= 2]


def _recipe_intervals(t: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """``t`` with ``ci_low``/``ci_high`` set to the intervals over questions *and* training seeds (``band_*``) when
    some arm has >= 2 seeds, and whether it did: a figure comparing recipes shows the recipe's uncertainty."""
    seeded = "band_low" in t and len(t) > 0 and t["band_low"].notna().all() and bool((t["n_seeds"] > 1).any())
    return (t.assign(ci_low=t["band_low"], ci_high=t["band_high"]) if seeded else t), seeded


def curve(
    tidy: pd.DataFrame, dataset: str, slice_name: str, metric: str = "map", series: str | None = None
) -> go.Figure:
    """``metric`` against the axis of ``series`` (default: the first with a curve), per kind, CI bands."""
    t = tidy[(tidy["dataset"] == dataset) & (tidy["slice"] == slice_name) & (tidy["metric"] == metric)]
    options = curve_series(t)
    if not options:
        return slice_bars(tidy, dataset, metric, slices=[slice_name])
    series = series if series in options else options[0]
    on = t[t["series"] == series]
    axis_name = str(on["axis_name"].dropna().iloc[0]) if on["axis_name"].notna().any() else "axis"
    table = on.rename(columns={"axis": axis_name}).astype({axis_name: float})
    table, seeded = _recipe_intervals(table)
    fig = sweep_curve(table, axis_name, metric)
    kinds = [k for k in KIND_ORDER if k in set(t["kind"])]
    refs = t[t["series"] != series].drop_duplicates(["arm", "kind"])
    refs = refs[~((refs["axis"] == refs["axis"]) & refs["series"].isin(options))]  # not another curve's arm
    sides = {arm: ("top left", "top right")[i % 2] for i, arm in enumerate(dict.fromkeys(refs["arm"]))}
    for _, r in refs.iterrows():
        color = PALETTE[kinds.index(r["kind"]) % len(PALETTE)] if r["kind"] in kinds else "#555"
        fig.add_hline(
            y=r["value"],
            line={"dash": "dot", "color": color, "width": 1},
            annotation_text=f"{r['arm']} ({r['kind']})",
            annotation_position=sides[r["arm"]],  # reference arms alternate sides: close lines keep legible labels
            annotation_font_size=10,
        )
    title = (
        f"{dataset} · {slice_name}: {METRIC_TITLES.get(metric, metric)} vs {axis_name} "
        f"(band: 95% CI over {'questions and seeds' if seeded else 'questions'})"
    )
    return _layout(fig, title, xaxis_title=axis_name, yaxis_title=METRIC_TITLES.get(metric, metric))


def slice_bars(
    tidy: pd.DataFrame, dataset: str, metric: str = "map", kind: str | None = None, slices: list[str] | None = None
) -> go.Figure:
    """Bars per arm, grouped by slice (one kind; default multi), 95% CI whiskers."""
    kind = kind or "multi"
    t, seeded = _recipe_intervals(
        tidy[(tidy["dataset"] == dataset) & (tidy["metric"] == metric) & (tidy["kind"] == kind)]
    )
    slices = slices or [s for s in ("all", "seen", "unseen", "low-resource") if s in set(t["slice"])]
    fig = go.Figure()
    for i, sl in enumerate(slices):
        r = t[t["slice"] == sl]
        fig.add_bar(
            x=r["arm"],
            y=r["value"],
            name=sl,
            marker_color=PALETTE[i % len(PALETTE)],
            error_y=error_bars(r),
            hovertemplate=f"{sl}<br>%{{x}}<br>{metric} = %{{y:.3f}}<extra></extra>",
        )
    title = f"{dataset}: {kind} {METRIC_TITLES.get(metric, metric)} by language slice "
    title += f"(whiskers: 95% CI over {'questions and seeds' if seeded else 'questions'})"
    return _layout(fig, title, barmode="group", xaxis_title="arm", yaxis_title=METRIC_TITLES.get(metric, metric))


def delta_forest(tidy: pd.DataFrame, dataset: str, slice_name: str, metric: str = "map") -> go.Figure:
    """Δ vs the baseline per arm (rows) and kind (colours), 95% CI whiskers; filled = significant, band = ±MDE."""
    t = tidy[
        (tidy["dataset"] == dataset) & (tidy["slice"] == slice_name) & (tidy["metric"] == metric) & tidy["p"].notna()
    ]
    kinds = [k for k in KIND_ORDER if k in set(t["kind"])]
    arms = list(dict.fromkeys(t["arm"]))
    fig = go.Figure()
    if len(t):
        mde = float(t["mde"].median())
        fig.add_vrect(x0=-mde, x1=mde, fillcolor="#888", opacity=0.12, line_width=0, layer="below")
    fig.add_vline(x=0, line={"color": "#444", "width": 1})
    row = {a: i for i, a in enumerate(arms)}
    for i, kind in enumerate(kinds):
        r = t[t["kind"] == kind].set_index("arm").reindex(arms).dropna(subset=["delta"])
        significant = r["significant"].astype(bool).to_numpy()
        offset = (i - (len(kinds) - 1) / 2) * 0.22  # kinds side by side within an arm's row
        fig.add_scatter(
            x=r["delta"],
            y=[row[a] + offset for a in r.index],
            text=list(r.index),
            mode="markers",
            name=kind,
            marker={
                "color": PALETTE[i % len(PALETTE)],
                "size": 10,
                "symbol": ["circle" if s else "circle-open" for s in significant],
                "line": {"width": 2, "color": PALETTE[i % len(PALETTE)]},
            },
            error_x=error_bars(r, "delta", "delta_low", "delta_high"),
            customdata=r[["p_adj", "mde"]].to_numpy(),
            hovertemplate=f"%{{text}} · {kind}<br>Δ = %{{x:+.4f}}<br>p (corrected) = %{{customdata[0]:.3f}}"
            "<br>MDE = %{customdata[1]:.4f}<extra></extra>",
        )
    name = METRIC_TITLES.get(metric, metric)
    title = f"{dataset} · {slice_name}: {name}, arm − baseline (95% CI; filled = significant; band = ±median MDE)"
    fig = _layout(
        fig,
        title,
        height=max(300, 120 + 60 * len(arms)),
        xaxis_title=f"difference in {name}",
        yaxis={
            "autorange": "reversed",
            "tickvals": list(range(len(arms))),
            "ticktext": arms,
            "showgrid": False,
            "zeroline": False,
        },
    )
    return fig


def study_figures(tidy: pd.DataFrame) -> dict[str, go.Figure]:
    """Every figure of a study, by file stem: curves and Δ-vs-baseline plots per data set x slice x metric, slice
    bars per data set."""
    out = {}
    for ds in dict.fromkeys(tidy["dataset"]):
        t = tidy[tidy["dataset"] == ds]
        for metric in ("map", "rank_distance"):
            if curve_series(t):
                for sl in dict.fromkeys(t["slice"]):
                    if sl.startswith("lang:"):
                        continue
                    out[f"curve--{ds}--{sl}--{metric}"] = curve(tidy, ds, sl, metric)
            if t["p"].notna().any():
                for sl in dict.fromkeys(t["slice"]):
                    if not sl.startswith("lang:"):
                        out[f"delta--{ds}--{sl}--{metric}"] = delta_forest(tidy, ds, sl, metric)
            if t["slice"].nunique() > 1:
                out[f"slices--{ds}--{metric}"] = slice_bars(tidy, ds, metric)
    return out
