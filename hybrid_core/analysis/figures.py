"""Plotly figure builders: pure functions from core tables to ``go.Figure``.

The dashboard shows these figures and the CLI / a notebook can export the same ones
(:mod:`hybrid_core.analysis.figure_export`). No Streamlit here; no data logic either: inputs are the tables
built by the other modules of :mod:`hybrid_core.analysis` (compare, language_pairs, bias, projection,
ablations).

One style for every figure (:func:`_layout`): fonts readable at print width (13 pt ticks at the 700 px
print width of :data:`PRINT_WIDTH`), the Okabe–Ito palette for categories (Okabe & Ito 2008, "Color
Universal Design"; safe for the common colour-vision deficiencies), viridis for sequential heatmaps and
a blue–red diverging scale centred on zero; languages always in
:func:`hybrid_core.analysis.language_pairs.language_order`, each with a fixed colour *and* marker symbol.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hybrid_core.analysis.language_pairs import language_order
from hybrid_core.evaluation.metrics import HIGHER_IS_BETTER

TEMPLATE = "plotly_white"
#: Okabe–Ito (2008) colour-blind-safe palette, black moved last
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
PALETTE = OKABE_ITO
#: 11 languages: Okabe–Ito plus three of Tol's muted colours; symbols (below) keep them apart where colours clash
LANGUAGE_PALETTE = [*OKABE_ITO, "#999999", "#882255", "#44AA99"]
LANGUAGE_SYMBOLS = [
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "cross",
    "x",
    "triangle-down",
    "star",
    "hexagon",
    "pentagon",
    "star-triangle-up",
]
SEQUENTIAL = "Viridis"
DIVERGING = "RdBu"
FONT = {"family": "Arial, Helvetica, sans-serif", "size": 13, "color": "#222"}
#: print size of exported figures: 700 px wide at scale 3 = 2100 px, 300 dpi over a 7-inch text width
PRINT_WIDTH, PRINT_SCALE = 700, 3
KIND_ORDER = ("mono", "cross", "multi")


def language_style(languages) -> dict[str, tuple[str, str]]:
    """``{language: (colour, marker symbol)}`` in the one language order, the same on every page."""
    langs = language_order(languages)
    return {
        lang: (LANGUAGE_PALETTE[i % len(LANGUAGE_PALETTE)], LANGUAGE_SYMBOLS[i % len(LANGUAGE_SYMBOLS)])
        for i, lang in enumerate(langs)
    }


def _layout(fig: go.Figure, title: str, height: int = 440, **kw) -> go.Figure:
    """Shared look: white template, readable fonts, title top-left, horizontal legend between title and plot."""
    has_legend = sum(1 for t in fig.data if t.showlegend is not False) > 1
    fig.update_layout(
        template=TEMPLATE,
        font=FONT,
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "y": 0.98,
            "yanchor": "top",
            "font": {"size": 15},
            "pad": {"l": 10},
        },
        height=height,
        margin={"l": 60, "r": 20, "t": 95 if has_legend else 50, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "xanchor": "left", "x": 0},
        **kw,
    )
    return fig


def _wrap(text: str, width: int = 60, max_chars: int = 240) -> str:
    text = text if len(text) <= max_chars else text[: max_chars - 1] + "…"
    return "<br>".join(textwrap.wrap(text, width)) or " "


def error_bars(t, value: str = "value", low: str = "ci_low", high: str = "ci_high") -> dict:
    """Asymmetric whiskers from ``t[low]`` to ``t[high]`` around ``t[value]`` (a frame or a dict of arrays).

    The same dict serves either orientation: pass it as ``error_y`` (bars, curves) or ``error_x`` (forest plots).
    """
    v, lo, hi = (np.asarray(t[c], dtype=float) for c in (value, low, high))
    return {"type": "data", "symmetric": False, "array": hi - v, "arrayminus": v - lo, "thickness": 1.2, "width": 4}


def compare_bars(table: pd.DataFrame, metric: str = "map", baseline: str | None = None) -> go.Figure:
    """Grouped bars: one group per kind (mono / cross / multi), one bar per run, 95% CI whiskers."""
    t = table[table["metric"] == metric]
    kinds = [k for k in KIND_ORDER if k in set(t["kind"])]
    fig = go.Figure()
    for i, run in enumerate(dict.fromkeys(t["run"])):
        r = t[t["run"] == run].set_index("kind").reindex(kinds).reset_index()
        label = f"{run} (baseline)" if run == baseline else run
        fig.add_bar(
            x=r["kind"],
            y=r["value"],
            name=label,
            marker={"color": PALETTE[i % len(PALETTE)], "pattern": {"shape": "/" if run == baseline else ""}},
            error_y=error_bars(r),
            customdata=np.stack([r["ci_low"], r["ci_high"]], axis=1),
            hovertemplate=f"{run}<br>%{{x}} {metric} = %{{y:.3f}}<br>95% CI [%{{customdata[0]:.3f}}, "
            "%{customdata[1]:.3f}]<extra></extra>",
        )
    direction = "higher is better" if HIGHER_IS_BETTER.get(metric, True) else "lower is better"
    return _layout(
        fig,
        f"{metric} by setting kind ({direction}; whiskers: 95% bootstrap CI)",
        barmode="group",
        yaxis_title=metric,
        xaxis_title="setting kind",
    )


def pair_heatmap(
    matrix: pd.DataFrame,
    metric: str = "map",
    title: str | None = None,
    show_values: bool = True,
    counts: pd.DataFrame | None = None,
) -> go.Figure:
    """Query language x passage language heatmap of a metric (values printed in cells and on hover).

    ``counts`` (same shape: queries per cell) goes into the hover, so a cell resting on a handful of
    queries (MLQA-R questions exist in 2-4 languages only) is not read like one resting on a thousand.
    """
    higher = HIGHER_IS_BETTER.get(metric, True)
    hover = "query %{y} → passages %{x}<br>" + metric + " = %{z:.3f}"
    custom = None
    if counts is not None:
        custom = counts.reindex_like(matrix).to_numpy(dtype=float)
        hover += "<br>%{customdata:.0f} queries"
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(dtype=float),
            x=list(matrix.columns),
            y=list(matrix.index),
            customdata=custom,
            colorscale=SEQUENTIAL if higher else SEQUENTIAL + "_r",
            colorbar={"title": {"text": metric}},
            texttemplate="%{z:.2f}" if show_values else None,
            textfont={"size": 11},
            hovertemplate=hover + "<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed", title=matrix.index.name or "query language", type="category")
    fig.update_xaxes(title=matrix.columns.name or "passage language", side="bottom", type="category")
    return _layout(fig, title or f"{metric}: query language × passage language", height=520)


def diff_heatmap(
    diff: pd.DataFrame,
    a: pd.DataFrame,
    b: pd.DataFrame,
    name_a: str,
    name_b: str,
    metric: str = "map",
    show_values: bool = True,
) -> go.Figure:
    """``a - b`` per language pair on a diverging scale centred on zero; blue = ``a`` better."""
    ext = float(np.nanmax(np.abs(diff.to_numpy(dtype=float)))) if np.isfinite(diff.to_numpy(dtype=float)).any() else 1.0
    ext = ext or 1.0
    higher = HIGHER_IS_BETTER.get(metric, True)
    a, b = a.reindex_like(diff), b.reindex_like(diff)
    custom = np.stack([a.to_numpy(dtype=float), b.to_numpy(dtype=float)], axis=-1)
    fig = go.Figure(
        go.Heatmap(
            z=diff.to_numpy(dtype=float),
            x=list(diff.columns),
            y=list(diff.index),
            customdata=custom,
            colorscale=DIVERGING if higher else DIVERGING + "_r",
            zmid=0,
            zmin=-ext,
            zmax=ext,
            colorbar={"title": {"text": f"Δ {metric}"}},
            texttemplate="%{z:+.2f}" if show_values else None,
            textfont={"size": 11},
            hovertemplate=f"query %{{y}} → passages %{{x}}<br>{name_a}: %{{customdata[0]:.3f}}<br>"
            f"{name_b}: %{{customdata[1]:.3f}}<br>Δ = %{{z:+.3f}}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed", title=diff.index.name or "query language", type="category")
    fig.update_xaxes(title=diff.columns.name or "passage language", type="category")
    return _layout(fig, f"{metric}: {name_a} − {name_b} (blue: {name_a} better, red: {name_b} better)", height=520)


def _column_bars(table: pd.DataFrame, hover: Callable[[str], str]) -> go.Figure:
    """One bar trace per column of ``table`` over its index, in palette order."""
    fig = go.Figure()
    for i, col in enumerate(table.columns):
        fig.add_bar(
            x=list(table.index),
            y=table[col].to_numpy(dtype=float),
            name=str(col),
            marker_color=PALETTE[i % len(PALETTE)],
            hovertemplate=hover(str(col)),
        )
    return fig


def language_bars(table: pd.DataFrame, metric: str = "map", title: str | None = None) -> go.Figure:
    """Grouped bars per language, one bar per column of ``table`` (e.g. mono / cross / multi)."""
    fig = _column_bars(table, lambda col: f"%{{x}} · {col}<br>{metric} = %{{y:.3f}}<extra></extra>")
    return _layout(fig, title or f"{metric} per language", barmode="group", yaxis_title=metric, xaxis_title="language")


def rank_distance_bars(
    table: pd.DataFrame, low: pd.DataFrame | None = None, high: pd.DataFrame | None = None
) -> go.Figure:
    """Mean rank distance per query language and the macro mean, one bar per run (lower is less biased).

    ``low`` / ``high`` (same layout: :func:`hybrid_core.analysis.bias.rank_distance_intervals`) draw 95% CI whiskers.
    """
    fig = _column_bars(
        table, lambda run: f"{run}<br>query language %{{x}}<br>mean rank distance %{{y:.1f}}<extra></extra>"
    )
    if low is not None and high is not None:
        for trace in fig.data:
            run = trace.name
            if run not in low.columns:
                continue
            lo = low[run].reindex(table.index).to_numpy(dtype=float)
            hi = high[run].reindex(table.index).to_numpy(dtype=float)
            v = table[run].to_numpy(dtype=float)
            trace.error_y = error_bars({"value": v, "ci_low": lo, "ci_high": hi})
            trace.customdata = np.stack([lo, hi], axis=1)
            trace.hovertemplate = (
                f"{run}<br>query language %{{x}}<br>mean rank distance %{{y:.1f}}"
                "<br>95% CI [%{customdata[0]:.1f}, %{customdata[1]:.1f}]<extra></extra>"
            )
    if "macro" in table.index:
        fig.add_vline(x=len(table.index) - 1.5, line={"color": "#888", "dash": "dot", "width": 1})
    return _layout(
        fig,
        "Rank distance per query language (lower = less language bias"
        + ("; whiskers: 95% bootstrap CI)" if low is not None else ")"),
        barmode="group",
        yaxis_title="mean rank distance",
        xaxis_title="query language",
    )


def log_ticks(max_value: float) -> tuple[list[float], list[str]]:
    """Tick positions (on the log10(1 + value) axis) and labels in original units.

    0, 1, 3, 10, 30, 100, ... when the data span less than three decades, else 0, 1, 10, 100, 1000, ...
    """
    decades = [0, 1, 10, 100, 1000, 10_000, 100_000]
    values = decades if max_value > 1000 else sorted({*decades, 3, 30, 300})
    top = max(float(max_value), 1.0)
    shown = [v for v in values if v <= top * 1.0001] or [0, 1]
    if shown[-1] < top:
        shown.append(next(v for v in values if v >= top) if top <= values[-1] else values[-1])
    return [float(np.log10(1 + v)) for v in shown], [f"{v:,}" for v in shown]


def rank_distance_distribution(
    values: pd.DataFrame, style: str = "box", by_language: bool = False, log_y: bool = False
) -> go.Figure:
    """Per-query rank distances (box or violin), optionally split by query language.

    ``log_y`` plots ``log10(1 + rank distance)`` with ticks labelled in rank-distance units (0, 1, 10, 100,
    ...): the density of a violin is then estimated on the scale it is drawn on, so the whole range and
    both tails show (a violin of raw values on a log axis shows only its middle). Violins are cut at the
    data range (``spanmode="hard"``): no density below the smallest rank distance.
    """
    fig = go.Figure()
    for i, run in enumerate(dict.fromkeys(values["run"])):
        v = values[values["run"] == run]
        raw = v["rank_distance"].to_numpy(dtype=float)
        common = {
            "y": np.log10(1 + raw) if log_y else raw,
            "x": v["query_language"] if by_language else None,
            "name": str(run),
            "marker_color": PALETTE[i % len(PALETTE)],
            "customdata": raw,
            "hovertemplate": f"{run}<br>rank distance %{{customdata:.0f}}<extra></extra>",
        }
        if style == "violin":
            fig.add_violin(
                **common, box_visible=True, meanline_visible=True, points=False, scalemode="width", spanmode="hard"
            )
        else:
            fig.add_box(**common, boxmean=True, boxpoints=False)
    mode = {"boxmode": "group"} if style != "violin" else {"violinmode": "group"}
    if by_language:
        langs = language_order(values["query_language"])
        fig.update_xaxes(categoryorder="array", categoryarray=langs)
    if log_y:
        top = float(values["rank_distance"].max()) if len(values) else 1.0
        tickvals, ticktext = log_ticks(top)
        fig.update_yaxes(
            title="rank distance (per query, log scale)", tickvals=tickvals, ticktext=ticktext, rangemode="tozero"
        )
    else:
        fig.update_yaxes(title="rank distance (per query)", rangemode="tozero")
    what = "violins: density over queries, inner box = quartiles" if style == "violin" else "boxes: quartiles"
    return _layout(
        fig,
        f"Distribution of per-query rank distance ({what}; dashed: mean)",
        xaxis_title="query language" if by_language else "",
        **mode,
    )


def mean_rank_heatmap(
    matrix: pd.DataFrame,
    title: str = "Mean rank of the relevant candidate in each language",
    show_values: bool = True,
) -> go.Figure:
    """Query language x candidate language mean rank; colour on a log scale (dark = ranked near the top)."""
    z = matrix.to_numpy(dtype=float)
    logz = np.log10(np.clip(z, 1, None))
    top = float(np.nanmax(logz)) if np.isfinite(logz).any() else 1.0
    ticks = [v for v in (1, 3, 10, 30, 100, 300, 1000, 3000, 10000) if np.log10(v) <= max(top, 0.5) + 1e-9]
    fig = go.Figure(
        go.Heatmap(
            z=logz,
            x=list(matrix.columns),
            y=list(matrix.index),
            customdata=z,
            colorscale=SEQUENTIAL,
            zmin=0,
            colorbar={"title": {"text": "mean rank"}, "tickvals": np.log10(ticks), "ticktext": [str(t) for t in ticks]},
            text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.0f}")(z),
            texttemplate="%{text}" if show_values else None,
            textfont={"size": 11},
            hovertemplate="query %{y}, relevant candidate in %{x}<br>mean rank %{customdata:.1f}<extra></extra>",
            hoverongaps=False,
        )
    )
    fig.update_yaxes(autorange="reversed", title=matrix.index.name or "query language", type="category")
    fig.update_xaxes(title=matrix.columns.name or "candidate language", type="category")
    return _layout(fig, title, height=520)


def own_share_bars(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Own-language share of the top-k (bars) against the language's share of the pool (markers)."""
    share_col, pool_col = table.columns[0], table.columns[1]
    fig = go.Figure()
    fig.add_bar(
        x=list(table.index),
        y=table[share_col],
        name=str(share_col),
        marker_color=PALETTE[0],
        hovertemplate="%{x}: %{y:.1%} of the top-k in the query's language<extra></extra>",
    )
    fig.add_scatter(
        x=list(table.index),
        y=table[pool_col],
        name=str(pool_col),
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 28, "line": {"width": 3, "color": OKABE_ITO[5]}},
        hovertemplate="%{x}: %{y:.1%} of the pool<extra></extra>",
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title="share")
    return _layout(fig, title or "Own-language share of the top-k vs share of the pool", xaxis_title="query language")


def projection_scatter(points: pd.DataFrame, link_translations: bool = True, title: str = "") -> go.Figure:
    """2-D projection coloured by language; questions are circles, candidates diamonds; hover shows the text.

    ``points`` has columns x, y, language, type (question / candidate), question_id, text. With
    ``link_translations``, grey lines join the translations of one question.
    """
    fig = go.Figure()
    if link_translations:
        qs = points[points["type"] == "question"]
        centre = qs.groupby("question_id")[["x", "y"]].transform("mean")
        multi = qs["question_id"].map(qs["question_id"].value_counts()) > 1
        xs: list = []
        ys: list = []
        for (x, y), (cx, cy) in zip(qs.loc[multi, ["x", "y"]].to_numpy(), centre[multi].to_numpy(), strict=True):
            xs += [x, cx, None]
            ys += [y, cy, None]
        if xs:
            fig.add_scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": "rgba(80,80,80,0.45)", "width": 1.2},
                name="translations → their centre",
                hoverinfo="skip",
            )
    style = language_style(points["language"])
    both = points["type"].nunique() > 1
    # a language-agnostic model puts translations on one spot: every language keeps its own symbol, markers are
    # half transparent with a dark outline and sized down in drawing order, so coinciding points stay visible
    for i, (lang, (colour, symbol)) in enumerate(style.items()):
        for typ in ("question", "candidate"):
            p = points[(points["language"] == lang) & (points["type"] == typ)]
            if p.empty:
                continue
            fig.add_scattergl(
                x=p["x"],
                y=p["y"],
                mode="markers",
                name=f"{lang} · {typ}s" if both else lang,
                legendgroup=lang,
                marker={
                    "color": colour,
                    "symbol": symbol if typ == "question" else f"{symbol}-open",
                    "size": max(6, 13 - i * 0.6),
                    "opacity": 0.6,
                    "line": {"width": 1, "color": "rgba(30,30,30,0.8)"},
                },
                customdata=np.stack([p["question_id"].astype(str), p["text"].map(_wrap)], axis=1),
                hovertemplate=f"<b>{lang}</b> {typ} · id %{{customdata[0]}}<br>%{{customdata[1]}}<extra></extra>",
            )
    fig.update_xaxes(showticklabels=False, title="", zeroline=False, showgrid=False)
    fig.update_yaxes(showticklabels=False, title="", zeroline=False, showgrid=False)
    _layout(fig, title, height=580)
    fig.update_layout(
        legend={"orientation": "v", "y": 1, "yanchor": "top", "x": 1.01, "xanchor": "left"},
        margin={"l": 20, "r": 20, "t": 50, "b": 20},
    )
    return fig


def ci_band(fig: go.Figure, x, low, high, color: str, group: str) -> None:
    """A translucent confidence band between ``low`` and ``high`` along ``x`` (no legend entry, no hover)."""
    rgb = tuple(int(color.lstrip("#")[j : j + 2], 16) for j in (0, 2, 4))
    fig.add_scatter(
        x=[*x, *list(x)[::-1]],
        y=[*high, *list(low)[::-1]],
        fill="toself",
        mode="lines",
        fillcolor=f"rgba{(*rgb, 0.15)}",
        line={"width": 0},
        hoverinfo="skip",
        showlegend=False,
        legendgroup=group,
    )


def sweep_curve(table: pd.DataFrame, key: str = "alpha", metric: str = "map") -> go.Figure:
    """Metric vs a numeric setting (e.g. α), one line per kind with a 95% CI band."""
    t = table[table["metric"] == metric].sort_values(key)
    fig = go.Figure()
    for i, kind in enumerate(k for k in KIND_ORDER if k in set(t["kind"])):
        r = t[t["kind"] == kind]
        color = PALETTE[i % len(PALETTE)]
        ci_band(fig, r[key], r["ci_low"], r["ci_high"], color, kind)
        fig.add_scatter(
            x=r[key],
            y=r["value"],
            mode="lines+markers",
            name=kind,
            legendgroup=kind,
            line={"color": color},
            customdata=np.stack([r["ci_low"], r["ci_high"], r["runs"]], axis=1),
            hovertemplate=f"{kind}<br>{key} = %{{x}}<br>{metric} = %{{y:.3f}} [%{{customdata[0]:.3f}}, "
            "%{customdata[1]:.3f}]<br>runs: %{customdata[2]}<extra></extra>",
        )
    return _layout(fig, f"{metric} vs {key} (band: 95% bootstrap CI)", xaxis_title=key, yaxis_title=metric)


def group_bars(table: pd.DataFrame, key: str, metric: str = "map") -> go.Figure:
    """Metric per value of a (categorical) setting, grouped by kind, with 95% CI whiskers."""
    t = table[table["metric"] == metric].copy()
    t[key] = t[key].astype(str)
    fig = go.Figure()
    for i, kind in enumerate(k for k in KIND_ORDER if k in set(t["kind"])):
        r = t[t["kind"] == kind]
        fig.add_bar(
            x=r[key],
            y=r["value"],
            name=kind,
            marker_color=PALETTE[i % len(PALETTE)],
            error_y=error_bars(r),
            hovertemplate=f"{kind}<br>{key} = %{{x}}<br>{metric} = %{{y:.3f}}<extra></extra>",
        )
    return _layout(
        fig, f"{metric} by {key} (whiskers: 95% bootstrap CI)", barmode="group", xaxis_title=key, yaxis_title=metric
    )
