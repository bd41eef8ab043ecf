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
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hybrid_core.analysis import stats
from hybrid_core.analysis.ablations import find_groups
from hybrid_core.analysis.compare import align_grid, question_tensor
from hybrid_core.analysis.figures import KIND_ORDER, LANGUAGE_PALETTE, PALETTE, _layout, ci_band
from hybrid_core.analysis.stats import bootstrap_ci, holm, paired_permutation_test
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.settings import KINDS
from hybrid_core.evaluation.tables import format_p
from hybrid_core.runs import Run, RunStore

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
                    "noise": noise_label(items),
                    "level": noise_level(items),
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
    return _with_holm(pd.DataFrame(rows))


def _with_holm(table: pd.DataFrame) -> pd.DataFrame:
    """``p_holm``: Holm over the rows with a test (the noisy ones); NaN on the clean rows."""
    table["p_holm"] = np.nan
    noisy = table["p"].notna()
    if noisy.any():
        table.loc[noisy, "p_holm"] = holm(table.loc[noisy, "p"].to_numpy(dtype=np.float64))
    return table


def robustness_figure(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Metric vs noise level, one line per group with its 95% CI band (from :func:`noise_curve_table`).

    Drawn by :func:`curves_figure` with each group as a series (kinds in the paper's order, languages sorted).
    """
    groups = [k for k in KIND_ORDER if k in set(table["group"])] or sorted(set(table["group"]))
    order = {g: i for i, g in enumerate(groups)}
    curves = table.assign(series=table["group"].astype(str)).drop(columns=["group"])
    curves = curves.sort_values("series", key=lambda c: c.map(order), kind="stable")
    metric = table["metric"].iloc[0] if len(table) else ""
    return curves_figure(curves, title=title or f"{metric} under query noise (band: 95% bootstrap CI)")


# --- several runs (or arms of replicate runs) on one data set: what the dashboard shows ---------------------------

#: Columns of :func:`robustness_curves`.
CURVE_COLUMNS = [
    "series",
    "runs",
    "dataset",
    "noise",
    "noise_kinds",
    "level",
    "noise_seed",
    "kind",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "drop",
    "drop_low",
    "drop_high",
    "p",
    "p_holm",
    "n_questions",
]


def noise_family(items: list[tuple[str, float]]) -> str:
    """The kinds of a noise spec, ``"typos"`` or ``"casing+typos"``: levels of one family form one curve."""
    return "+".join(sorted(k for k, _ in items))


def noise_label(items: list[tuple[str, float]]) -> str:
    """``[("typos", 0.1), ("casing", 1.0)]`` -> ``"typos:0.1,casing:1"``; ``"none"`` for the clean queries."""
    return ",".join(f"{k}:{r:g}" for k, r in items) or "none"


def noise_level(items: list[tuple[str, float]]) -> float:
    """The x of a robustness curve: the summed rate of the noise kinds (0 = clean)."""
    return float(sum(r for _, r in items))


def noisy_bases(run_datasets: dict[str, list[str]]) -> dict[str, list[str]]:
    """``{clean data set: [runs]}`` for runs that have clean results and at least one noisy result of it."""
    out: dict[str, list[str]] = {}
    for run, names in run_datasets.items():
        have = set(names)
        for base in dict.fromkeys(p[0] for p in map(parse_noisy_name, names) if p and p[0] in have):
            out.setdefault(base, []).append(run)
    return {b: sorted(runs) for b, runs in sorted(out.items())}


def _series_tensor(frames: list[pd.DataFrame], kind: str, metric: str, languages) -> tuple[np.ndarray, list, list]:
    """Replicates (several runs of one series) averaged cell by cell, as :func:`ablations.sweep` does."""
    tensors = []
    for pq in frames:
        if languages is not None:
            pq = pq[pq["query_language"].isin(languages)]
        tensors.append(question_tensor(pq, kind, [metric]))
    q_all = sorted(set().union(*(q for _, q, _ in tensors)))
    s_all = sorted(set().union(*(s for _, _, s in tensors)))
    if not q_all or not s_all:
        return np.zeros((0, 0, 1)), [], []
    stack = [align_grid(t, q, s, q_all, s_all) for t, q, s in tensors if t.size]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.stack(stack), axis=0), q_all, s_all


def _pair(x: tuple, y: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Two (tensor, questions, settings) on their union grid, for a paired comparison."""
    q_all, s_all = sorted(set(x[1]) | set(y[1])), sorted(set(x[2]) | set(y[2]))
    return align_grid(*x, q_all, s_all), align_grid(*y, q_all, s_all)


def _noise_fields(noise: tuple[str, list[tuple[str, float]], int]) -> dict:
    name, items, nseed = noise
    return {
        "dataset": name,
        "noise": noise_label(items),
        "noise_kinds": noise_family(items),
        "level": noise_level(items),
        "noise_seed": nseed if items else None,
    }


def _series_tensors(series, base: str, store: RunStore | None, metric: str, kinds, languages):
    """Yield (label, runs, (result name, noise items, seed), kind, noisy tensor, clean tensor) for every series,
    noise result every run of the series has (the clean one first) and kind; tensors as (array, questions,
    settings)."""
    store = store or RunStore()
    series = dict(series)
    if not series:
        raise HybridIRError("no runs to draw robustness curves for")
    langs = list(languages) if languages is not None else None
    for label, names in series.items():
        runs = [store.get(n) for n in names]
        found = [{name: (items, nseed) for name, items, nseed in noisy_results(r, base)} for r in runs]
        shared = [name for name in found[0] if all(name in f for f in found[1:])]
        if base not in shared:
            raise HybridIRError(
                f"{label}: needs clean results of {base!r} in every run ({', '.join(names)}); "
                "evaluate without --noise first"
            )
        frames = {name: [r.per_query(name) for r in runs] for name in shared}
        if metric not in frames[base][0].columns:
            raise HybridIRError(f"metric {metric!r} not in the results of {base!r}")
        for kind in kinds:
            clean = _series_tensor(frames[base], kind, metric, langs)
            if not clean[0].size or np.isnan(clean[0]).all():
                continue
            for name in shared:
                noisy = _series_tensor(frames[name], kind, metric, langs) if name != base else clean
                if noisy[0].size:
                    yield label, list(names), (name, *found[0][name]), kind, noisy, clean


def robustness_curves(
    series: dict[str, Sequence[str]] | Sequence[tuple[str, Sequence[str]]],
    base: str,
    store: RunStore | None = None,
    *,
    metric: str = "map",
    kinds: Sequence[str] = KINDS,
    languages: Sequence[str] | None = None,
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    seed: int = 0,
) -> pd.DataFrame:
    """Metric vs noise level of several series (``{label: [runs]}``; a run's own name for single runs) on ``base``.

    One row per (series, noise result, kind): the macro mean over the kind's settings with a 95% bootstrap CI
    over questions (:func:`hybrid_core.analysis.stats.macro_bootstrap`), and the change from the clean queries
    (``drop`` = noisy - clean) paired question by question with its 95% CI and the paired randomisation test
    (:func:`hybrid_core.analysis.stats.paired_macro_difference`), Holm-corrected over the table's noisy rows.
    A series of several runs (seeds) averages them cell by cell first; only noise results every run of the
    series has are used (the clean row alone when there is none). ``languages`` keeps the settings whose
    query language is listed (a slice). Noise specs are grouped in families (:func:`noise_family`);
    ``level`` is the summed rate (0 = clean).
    """
    rows = []
    for label, names, noise, kind, noisy, clean in _series_tensors(series, base, store, metric, kinds, languages):
        items = noise[1]
        ci = stats.macro_bootstrap(noisy[0], n_boot=n_boot, seed=seed)[0]
        if items:
            d = stats.paired_macro_difference(*_pair(noisy, clean), n_boot=n_boot, n_perm=n_perm, seed=seed)[0]
            drop, low, high, p = d.delta, d.low, d.high, d.p
        else:
            drop, low, high, p = 0.0, 0.0, 0.0, np.nan
        rows.append(
            {
                "series": label,
                "runs": ", ".join(names),
                **_noise_fields(noise),
                "kind": kind,
                "metric": metric,
                "value": ci.value,
                "ci_low": ci.low,
                "ci_high": ci.high,
                "drop": drop,
                "drop_low": low,
                "drop_high": high,
                "p": p,
                "n_questions": int((~np.isnan(noisy[0])).any(axis=(1, 2)).sum()),
            }
        )
    return _with_holm(pd.DataFrame(rows, columns=[c for c in CURVE_COLUMNS if c != "p_holm"]))[CURVE_COLUMNS]


def versus_baseline(
    series: dict[str, Sequence[str]] | Sequence[tuple[str, Sequence[str]]],
    base: str,
    baseline: str,
    store: RunStore | None = None,
    *,
    metric: str = "map",
    kinds: Sequence[str] = KINDS,
    languages: Sequence[str] | None = None,
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    seed: int = 0,
) -> pd.DataFrame:
    """Each series minus the ``baseline`` series at every noise level both have (e.g. an augmentation vs "none").

    One row per (series, noise result, kind): ``delta`` with its 95% CI, paired over questions on the same
    (possibly noisy) queries (:func:`hybrid_core.analysis.stats.paired_macro_difference`), ``p`` and ``p_holm``
    (Holm over the table's rows). Does augmentation help, and does its help grow with the noise?
    """
    series = dict(series)
    if baseline not in series:
        raise HybridIRError(f"baseline {baseline!r} is not among the series {sorted(series)}")
    tensors: dict[tuple, tuple] = {}
    meta: dict[tuple, tuple] = {}
    for label, names, noise, kind, noisy, _ in _series_tensors(series, base, store, metric, kinds, languages):
        tensors[(label, noise[0], kind)] = noisy
        meta[(label, noise[0], kind)] = (names, noise)
    rows = []
    for (label, name, kind), t in tensors.items():
        ref = tensors.get((baseline, name, kind))
        if label == baseline or ref is None:
            continue
        d = stats.paired_macro_difference(*_pair(t, ref), n_boot=n_boot, n_perm=n_perm, seed=seed)[0]
        rows.append(
            {
                "series": label,
                "baseline": baseline,
                **_noise_fields(meta[(label, name, kind)][1]),
                "kind": kind,
                "metric": metric,
                "delta": d.delta,
                "delta_low": d.low,
                "delta_high": d.high,
                "p": d.p,
                "n_questions": d.n_questions,
            }
        )
    table = pd.DataFrame(rows)
    if not table.empty:
        table["p_holm"] = stats.holm(table["p"].to_numpy(dtype=np.float64))
        table = table.sort_values(["series", "kind", "level"], kind="stable").reset_index(drop=True)
    return table


def _interval_cells(table: pd.DataFrame, columns: list[str], digits: int, sign: str = "") -> list[str]:
    """``value [low, high]`` per row of the three ``columns``; "–" where the value is NaN."""
    return [
        f"{v:{sign}.{digits}f} [{lo:{sign}.{digits}f}, {hi:{sign}.{digits}f}]" if v == v else "–"
        for v, lo, hi in table[columns].itertuples(index=False)
    ]


def _display(table: pd.DataFrame, cells: dict[str, list[str]]) -> pd.DataFrame:
    """The display columns both tables share: series, kind, noise, level, the ``cells``, raw and Holm p, questions."""
    return pd.DataFrame(
        {
            "series": table["series"],
            "kind": table["kind"],
            "noise": table["noise"],
            "level": table["level"],
            **cells,
            "p": [format_p(p)[2:] for p in table["p"]],
            "p (Holm)": [format_p(p)[2:] for p in table["p_holm"]],
            "questions": table["n_questions"],
        }
    )


def versus_display(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Display form of :func:`versus_baseline`: ``delta [CI]`` per (series, kind, noise) with raw and Holm p."""
    if table.empty:
        return pd.DataFrame()
    label = f"Δ {table['metric'].iloc[0]} vs {table['baseline'].iloc[0]}"
    return _display(table, {label: _interval_cells(table, ["delta", "delta_low", "delta_high"], digits, "+")})


def families(table: pd.DataFrame) -> list[str]:
    """Noise families of a curve table (the clean rows belong to every family), most levels first."""
    noisy = table[table["noise_kinds"] != ""]
    counts = noisy.groupby("noise_kinds")["level"].nunique()
    return sorted(counts.index, key=lambda f: (-counts[f], f))


def family_rows(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """The clean rows and the rows of one noise family (one curve per series and kind)."""
    return table[(table["noise_kinds"] == "") | (table["noise_kinds"] == family)]


def curve_display(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Display table: one row per (series, kind, noise), ``value [CI]`` and ``drop [CI]`` with raw and Holm p.

    Rows keep the table's series order (e.g. "none" first), then kinds in the paper's order, then levels.
    """
    if table.empty:
        return pd.DataFrame()
    change = _interval_cells(table, ["drop", "drop_low", "drop_high"], digits, "+")
    out = _display(
        table,
        {
            table["metric"].iloc[0]: _interval_cells(table, ["value", "ci_low", "ci_high"], digits),
            "change vs clean": [c if n != "none" else "–" for n, c in zip(table["noise"], change, strict=True)],
        },
    )
    order = {"series": list(dict.fromkeys(table["series"])), "kind": list(KIND_ORDER)}
    return out.sort_values(
        ["series", "kind", "level"],
        kind="stable",
        key=lambda c: c.map({v: i for i, v in enumerate(order[c.name])}) if c.name in order else c,
    ).reset_index(drop=True)


#: What a curve's hover shows, in ``customdata`` order.
HOVER_COLUMNS = ("noise", "ci_low", "ci_high", "drop", "drop_low", "drop_high", "p_holm", "value")


def curves_figure(table: pd.DataFrame, title: str | None = None, change: bool = False) -> go.Figure:
    """Metric vs noise level: one line per series (colour) and kind (dash), each with its 95% CI band.

    ``change``: draw the change vs clean instead (``drop`` with its band ``drop_low`` .. ``drop_high``): each noisy
    level minus the same series' clean score, paired question by question (:func:`robustness_curves`), so its CI
    leaves out the spread between questions that both absolute bands carry; 0 at the clean level. Serves
    :func:`robustness_curves` (the dashboard), :func:`study_noise_table` and a study's robustness table
    (:func:`hybrid_core.studies.robustness.robustness_figures`), and :func:`noise_curve_table` (no ``kind``
    column: one line per series). The hover shows both, the change with its CI where the table has one.
    """
    metric = table["metric"].iloc[0] if len(table) else ""
    series = list(dict.fromkeys(table["series"]))
    kinds = [k for k in KIND_ORDER if k in set(table["kind"])] if "kind" in table.columns else [None]
    dashes = dict(zip(KIND_ORDER, ("solid", "dash", "dot"), strict=True))
    palette = PALETTE if len(series) <= len(PALETTE) else LANGUAGE_PALETTE
    table = table.assign(**{c: np.nan for c in ("drop_low", "drop_high", "p_holm") if c not in table.columns})
    y, low, high = ("drop", "drop_low", "drop_high") if change else ("value", "ci_low", "ci_high")
    fig = go.Figure()
    if change:
        fig.add_hline(y=0, line={"color": "#444", "width": 1})
    for i, label in enumerate(series):
        color = palette[i % len(palette)]
        for kind in kinds:
            rows = table["series"] == label
            if kind is not None:
                rows &= table["kind"] == kind
            r = table[rows].sort_values("level")
            if r.empty:
                continue
            name = f"{label} · {kind}" if len(kinds) > 1 else str(label)
            change_ci = "" if r["drop_low"].isna().all() else " [%{customdata[4]:+.3f}, %{customdata[5]:+.3f}]"
            ci_band(fig, r["level"], r[low], r[high], color, name)
            fig.add_scatter(
                x=r["level"],
                y=r[y],
                mode="lines+markers",
                name=name,
                legendgroup=name,
                line={"color": color, "dash": dashes.get(kind, "solid")},
                customdata=np.stack([r[c] for c in HOVER_COLUMNS], axis=1),
                hovertemplate=f"{name}<br>%{{customdata[0]}}<br>{metric} = %{{customdata[7]:.3f}} "
                f"[%{{customdata[1]:.3f}}, %{{customdata[2]:.3f}}]<br>change vs clean: %{{customdata[3]:+.3f}}"
                f"{change_ci}, Holm p = %{{customdata[6]:.3g}}<extra></extra>",
            )
    if change:
        title = title or f"{metric}: noisy minus clean queries, paired over questions (band: 95% bootstrap CI)"
    else:
        title = title or f"{metric} under query noise (band: 95% bootstrap CI over questions)"
    return _layout(
        fig,
        title,
        xaxis_title="noise level (rate)",
        yaxis_title=f"change in {metric} vs clean" if change else metric,
    )


# --- augmentation comparisons: runs that differ only in their `augment` training option ---------------------------

#: The training option whose one-factor groups are the augmentation comparisons.
AUGMENT_KEY = "augment"
NO_AUGMENT = "none"


def augment_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`ablations.config_frame` with ``augment`` = "none" for trained runs without augmentation.

    A trained run without the option (or with it unset) is the "none" arm of an augmentation comparison;
    evaluation-only runs (no sampler) stay out.
    """
    frame = frame.copy()
    if "sampler" not in frame.columns:
        return frame.iloc[0:0]
    if AUGMENT_KEY not in frame.columns:
        frame[AUGMENT_KEY] = None
    trained = frame["sampler"].notna()
    frame[AUGMENT_KEY] = frame[AUGMENT_KEY].astype(object)
    frame.loc[trained & frame[AUGMENT_KEY].isna(), AUGMENT_KEY] = NO_AUGMENT
    return frame


def augment_groups(frame: pd.DataFrame) -> list[list[str]]:
    """One-factor groups (:func:`ablations.find_groups`) over ``augment``: runs equal in every other setting."""
    return find_groups(augment_frame(frame), AUGMENT_KEY)


def augment_series(frame: pd.DataFrame, group: Sequence[str]) -> dict[str, list[str]]:
    """``{augment value: [runs]}`` of a group (seeds of one value are replicates), "none" first."""
    values = augment_frame(frame).loc[list(group), AUGMENT_KEY]
    out: dict[str, list[str]] = {}
    for run, value in values.items():
        out.setdefault(str(value), []).append(run)
    return dict(sorted(out.items(), key=lambda kv: (kv[0] != NO_AUGMENT, kv[0])))


# --- a study's tidy results (results.csv) with noisy evaluation sets -----------------------------------------------


def study_noise_table(tidy: pd.DataFrame, base: str, slice_name: str, metric: str = "map") -> pd.DataFrame:
    """A study's rows for ``base`` and its noisy versions (one slice, one metric), with ``level`` and ``drop``.

    ``tidy`` is a study's results table (one row per data set x slice x arm x kind x metric, ``value`` with
    ``ci_low`` / ``ci_high``); noisy data sets are recognised by name (:func:`parse_noisy_name`). ``drop`` is the
    arm's value minus its clean value (the study's CIs are per point; paired drop CIs need the per-query results,
    which :func:`robustness_curves` reads from the runs).
    """
    parsed = {d: parse_noisy_name(d) for d in dict.fromkeys(tidy["dataset"])}
    names = [d for d, p in parsed.items() if d == base or (p and p[0] == base)]
    t = tidy[tidy["dataset"].isin(names) & (tidy["slice"] == slice_name) & (tidy["metric"] == metric)].copy()
    if t.empty:
        return t.assign(level=[], noise=[], noise_kinds=[], drop=[])
    items = {d: (parsed[d][1] if parsed[d] else []) for d in names}
    t["noise"] = t["dataset"].map(lambda d: noise_label(items[d]))
    t["noise_kinds"] = t["dataset"].map(lambda d: noise_family(items[d]))
    t["level"] = t["dataset"].map(lambda d: noise_level(items[d]))
    clean = t[t["dataset"] == base].set_index(["arm", "kind"])["value"]
    t["drop"] = [v - clean.get((a, k), np.nan) for a, k, v in t[["arm", "kind", "value"]].itertuples(index=False)]
    t = t.drop(columns=["series"], errors="ignore")  # a study's curve series; here each arm is one line
    return t.rename(columns={"arm": "series"}).sort_values(["series", "kind", "level"]).reset_index(drop=True)


def study_noise_bases(tidy: pd.DataFrame) -> list[str]:
    """Clean data sets of a study that also have noisy evaluations."""
    names = set(tidy["dataset"])
    return sorted({p[0] for p in map(parse_noisy_name, names) if p and p[0] in names})
