"""A study's robustness to query noise: each arm's mAP on clean and perturbed queries, the drop, and whether
an arm drops less than the baseline.

A study with ``[eval] noise = ["typos:0.05", ...]`` evaluates every cell also on each evaluation set with
its queries perturbed (:func:`hybrid_core.augment.perturb.perturb_queries`; candidates clean; results
stored as ``<set>-noise-<label>-seed<n>``, the names :mod:`hybrid_core.analysis.robustness` parses).
Per data set x slice x arm x setting kind x noise (mAP):

- ``value``: macro mean of the seed-averaged per-query tensor, 95% bootstrap CI over questions, seed SD
  (as in :mod:`hybrid_core.studies.tables`);
- ``drop``: noisy minus clean of the same arm, paired over questions (same queries, perturbed): mean
  difference, 95% CI, bootstrap SE, paired randomisation test (with >= 2 seeds the seed-aware test of
  :func:`hybrid_core.studies.tables.comparison`, the drop's seed-to-seed SD in its variance);
- ``vs_baseline``: the arm's drop minus the baseline arm's drop, paired over questions (> 0: the arm
  loses less than the baseline under this noise);

p-values are corrected (Holm or Benjamini-Hochberg, as the study says) within each table (one data
set and slice): the drop tests form one family, the vs-baseline tests another; MDE at 80% power
with the family size, as in the main tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from hybrid_core.analysis import stats
from hybrid_core.analysis.robustness import curves_figure
from hybrid_core.runs import RunStore
from hybrid_core.studies import slices as slicing
from hybrid_core.studies.tables import (
    _aligned,
    _p,
    _run_tensors,
    adjust_family,
    comparison,
    dapt_note,
    latex_table,
    markdown_table,
    slice_grid,
)

KINDS = ("mono", "cross", "multi")
CLEAN = "none"
TESTS = ("drop", "vs_baseline")


def robustness_results(
    arms: dict[str, list[str]],
    datasets: Sequence[dict],
    noisy: Sequence[dict],
    slices_of: dict[str, dict[str, list[str]]],
    baseline: str,
    *,
    store: RunStore | None = None,
    arm_info: dict[str, dict] | None = None,
    correction: str = "holm",
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    seed: int = 0,
) -> pd.DataFrame:
    """The tidy robustness table (columns in the module docstring); empty without noisy sets.

    ``datasets``: plan entries of the clean sets; ``noisy``: plan entries of their noisy versions
    (``name``, ``base``, ``noise``, ``family``, ``level``, ``seed``).
    """
    store = store or RunStore()
    arm_info = arm_info or {}
    rows: list[dict] = []
    for ds in datasets:
        base_name = ds["name"]
        levels = [n for n in noisy if n["base"] == base_name]
        if not levels:
            continue
        sets = [{"name": base_name, "noise": CLEAN, "family": CLEAN, "level": 0.0}, *levels]
        runs = [r for rs in arms.values() for r in rs]
        frames = {(r, s["name"]): store.get(r).per_query(s["name"]) for r in runs for s in sets}
        lang_of: dict[str, str] = {}
        for pq in frames.values():
            lang_of.update(dict(zip(pq["setting"], pq["query_language"], strict=True)))
        tensors = {key: _run_tensors(pq) for key, pq in frames.items()}
        grids = {kind: _aligned(tensors, kind) for kind in KINDS}
        for slice_name, langs in slices_of[base_name].items():
            table: list[dict] = []
            for kind in KINDS:
                sub = slice_grid(*grids[kind], lang_of, langs, metrics=slice(0, 1))  # mAP only
                if sub is None:
                    continue
                avg = {
                    (a, s["name"]): stats.seed_average(np.stack([sub[(r, s["name"])] for r in rs]))
                    for a, rs in arms.items()
                    for s in sets
                }
                spread = {
                    (a, s["name"]): stats.seed_spread(np.stack([sub[(r, s["name"])] for r in rs]))
                    for a, rs in arms.items()
                    for s in sets
                }
                drop_sd = {  # seed-to-seed SD of each arm's drop (noisy minus clean, seed by seed)
                    (a, s["name"]): stats.seed_spread(
                        np.stack([sub[(r, s["name"])] - sub[(r, base_name)] for r in rs])
                    )[0]
                    for a, rs in arms.items()
                    for s in levels
                }
                for a, rs in arms.items():
                    info = arm_info.get(a, {})
                    clean = avg[(a, base_name)]
                    for s in sets:
                        t = avg[(a, s["name"])]
                        ci = stats.macro_bootstrap(t, n_boot=n_boot, seed=seed)[0]
                        if np.isnan(ci.value):
                            continue
                        row = {
                            "dataset": base_name,
                            "noisy_dataset": s["name"] if s["noise"] != CLEAN else None,
                            "noise": s["noise"],
                            "family": s["family"],
                            "level": s["level"],
                            "slice": slice_name,
                            "languages": " ".join(langs),
                            "arm": a,
                            "series": info.get("series", a),
                            "kind": kind,
                            "metric": "map",
                            "value": ci.value,
                            "ci_low": ci.low,
                            "ci_high": ci.high,
                            "seed_sd": float(spread[(a, s["name"])][0]),
                            "n_seeds": len(rs),
                            "n_questions": int((~np.isnan(t[..., 0])).any(axis=1).sum()),
                            "sampled": bool(ds.get("sampled")),
                        }
                        if s["noise"] != CLEAN:
                            k, sd = len(rs), drop_sd[(a, s["name"])]
                            drop = stats.paired_macro_difference(t, clean, n_boot, n_perm, seed=seed)[0]
                            row.update(_test("drop", comparison(drop, sd, k, 0.0, k)))  # one-sample in the seeds
                            if a not in (baseline, "base"):
                                b_drop = avg[(baseline, s["name"])] - avg[(baseline, base_name)]
                                vs = stats.paired_macro_difference(t - clean, b_drop, n_boot, n_perm, seed=seed)[0]
                                b_sd, b_k = drop_sd[(baseline, s["name"])], len(arms[baseline])
                                row.update(_test("vs_baseline", comparison(vs, sd, k, b_sd, b_k)))
                        table.append(row)
            for test in TESTS:
                adjust_family(table, correction, prefix=f"{test}_")
            rows.extend(table)
    return pd.DataFrame(rows, columns=COLUMNS)


def _test(prefix: str, c: dict) -> dict:
    """A :func:`~hybrid_core.studies.tables.comparison` under this table's column names (``<prefix>``,
    ``<prefix>_low``, ...)."""
    rename = {"delta": "", "delta_low": "_low", "delta_high": "_high"}
    return {f"{prefix}{rename.get(k, '_' + k)}": v for k, v in c.items() if k != "se_seeds"}


_TEST_COLUMNS = [
    "",
    "_low",
    "_high",
    "_se",
    "_p",
    "_p_adj",
    "_significant",
    "_d",
    "_mde",
    "_family_size",
    "_test",
    "_df",
    "_p_questions",
    "_se_questions",
]
COLUMNS = [
    "dataset",
    "noisy_dataset",
    "noise",
    "family",
    "level",
    "slice",
    "languages",
    "arm",
    "series",
    "kind",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "seed_sd",
    "n_seeds",
    *(f"{t}{c}" for t in TESTS for c in _TEST_COLUMNS),
    "n_questions",
    "sampled",
]


# --------------------------------------------------------------------------- display


def _n(v) -> str:
    return "–" if v is None or v != v else f"{v:.3f}"


def _mark(r: pd.Series, test: str) -> str:
    if r.get(f"{test}_significant") is not True:
        return ""
    return " ▲" if r[test] > 0 else " ▼"


def noise_order(rob: pd.DataFrame) -> list[str]:
    """Noise labels in table order: clean first, then by family and level."""
    t = rob.drop_duplicates("noise").sort_values(["level"], kind="stable")
    t = t.assign(clean=t["noise"] != CLEAN).sort_values(["clean", "family", "level"], kind="stable")
    return t["noise"].tolist()


def robustness_table(rob: pd.DataFrame, dataset: str, slice_name: str) -> pd.DataFrame:
    """Rows: arm x kind; columns: clean mAP [CI], then per noise ``mAP (Δ vs clean [CI]) ▲/▼``."""
    t = rob[(rob["dataset"] == dataset) & (rob["slice"] == slice_name)]
    out: dict[str, dict] = {}
    for _, r in t.iterrows():
        cell = f"{_n(r['value'])} [{_n(r['ci_low'])}, {_n(r['ci_high'])}]"
        if r["noise"] != CLEAN:
            delta = f"Δ {r['drop']:+.3f} [{_n(r['drop_low'])}, {_n(r['drop_high'])}]"
            cell = f"{_n(r['value'])} ({delta}){_mark(r, 'drop')}"
        out.setdefault(f"{r['arm']} · {r['kind']}", {})["clean" if r["noise"] == CLEAN else r["noise"]] = cell
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame = frame.reindex(columns=[c if c != CLEAN else "clean" for c in noise_order(t)])
    frame.index.name = "arm · kind (mAP)"
    return frame


def baseline_table(rob: pd.DataFrame, dataset: str, slice_name: str) -> pd.DataFrame:
    """Rows: arm x kind (arms other than the baseline); columns per noise: drop minus the baseline's drop."""
    t = rob[(rob["dataset"] == dataset) & (rob["slice"] == slice_name) & rob["vs_baseline_p"].notna()]
    out: dict[str, dict] = {}
    for _, r in t.iterrows():
        out.setdefault(f"{r['arm']} · {r['kind']}", {})[r["noise"]] = (
            f"{r['vs_baseline']:+.3f} [{_n(r['vs_baseline_low'])}, {_n(r['vs_baseline_high'])}] "
            f"p={_p(r['vs_baseline_p_adj'])} MDE {_n(r['vs_baseline_mde'])}{_mark(r, 'vs_baseline')}"
        )
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame = frame.reindex(columns=[c for c in noise_order(t)])
    frame.index.name = "arm · kind: drop − baseline's drop"
    return frame


def footnote(rob: pd.DataFrame, dataset: str, slice_name: str, baseline: str, correction: str, plan: dict) -> str:
    t = rob[(rob["dataset"] == dataset) & (rob["slice"] == slice_name)]
    ds = next((d for d in plan.get("datasets", []) if d["name"] == dataset), {})
    seeds = {n.get("seed") for n in plan.get("noisy", [])}
    langs = t["languages"].iloc[0].split() if len(t) else []
    parts = [
        f"Query noise: every query of {dataset} perturbed (noise seed {', '.join(map(str, sorted(seeds)))}; "
        "candidates and judgements clean; the perturbed texts are stored beside each result as queries.parquet). "
        "Cells: mAP, macro mean over settings of the mean over questions (seed-averaged per query), 95% bootstrap "
        "CI over questions.",
        f"Δ: noisy minus clean mAP of the same arm, paired over questions, {stats.TEST_NAME}; "
        f"p corrected by {stats.CORRECTIONS[correction]} over the "
        f"{int(t['drop_family_size'].max()) if t['drop_family_size'].notna().any() else 0} drop tests of this "
        "table; ▲/▼ = significant gain/loss at .05 after correction.",
        f"Second table: an arm's drop minus the drop of the baseline {baseline!r} (> 0: it loses less), paired over "
        f"questions, corrected over the {int(t['vs_baseline_family_size'].max()) if t['vs_baseline_family_size'].notna().any() else 0} "  # noqa: E501
        "such tests of this table.",
    ]
    if (t["drop_test"] == "seeds+questions").any():
        parts.append(
            "Arms with >= 2 seeds: p, CI and MDE come from the seed-aware test instead "
            f"({stats.TEST_NAME_SEEDS}; a drop is tested against 0 with its own seed-to-seed variance); the "
            "question-level p is kept in robustness.csv (columns *_p_questions)."
        )
    elif len(t) and (t["n_seeds"] < 2).any():
        parts.append("One seed: training-seed variance is not in these tests.")
    for test, what in (("drop", "drop"), ("vs_baseline", "difference in drop")):
        mdes = t[f"{test}_mde"].dropna()
        if len(mdes):
            parts.append(
                f"Minimum detectable {what} (80% power, two-sided .05/m from the test's SE): "
                f"{mdes.median():.3f} (median over cells)."
            )
    if ds.get("sampled"):
        parts.append(
            f"SAMPLED: a seeded sample of {ds['questions']} questions (seed {ds.get('sample_seed')}) of {ds['spec']}."
        )
    else:
        parts.append(f"Whole set: {ds.get('questions', '?')} questions of {ds.get('spec', dataset)}.")
    parts.append(f"Slice {slice_name}: {slicing.describe(slice_name, langs)}.")
    if dapt_note(plan):
        parts.append(dapt_note(plan))
    return " ".join(parts)


def robustness_figures(rob: pd.DataFrame) -> dict[str, go.Figure]:
    """Per data set x slice (all / seen / unseen / low-resource) x noise family x kind: mAP vs noise level, one
    line per arm with its 95% CI band (clean = level 0)."""
    out = {}
    for (ds, sl, kind), t in rob.groupby(["dataset", "slice", "kind"], sort=False):
        if sl not in slicing.ORDER:
            continue
        for family in [f for f in dict.fromkeys(t["family"]) if f != CLEAN]:
            sub = t[t["family"].isin([CLEAN, family])]
            table = sub.drop(columns=["series"]).assign(
                series=sub["arm"],
                drop=sub["drop"].fillna(0.0),  # the clean point: no change
                drop_low=sub["drop_low"].fillna(0.0),
                drop_high=sub["drop_high"].fillna(0.0),
                p_holm=sub["drop_p_adj"],
            )
            title = f"{ds} · {sl} · {kind}: mAP vs {family} noise level (band: 95% CI over questions)"
            fig = curves_figure(table, title=title)
            fig.update_layout(xaxis_title=f"{family} rate (0 = clean queries)", yaxis_title=f"{kind} mAP")
            out[f"robustness--{ds}--{sl}--{family}--{kind}"] = fig
    return out


def write_robustness(
    rob: pd.DataFrame, folder: Path, plan: dict, baseline: str, correction: str
) -> tuple[list[Path], list[str]]:
    """``robustness.csv``, ``tables/robustness--<ds>--<slice>.{md,csv,tex}`` and figures; returns the files and
    the Markdown of the all / seen / unseen / low-resource tables for the report."""
    from hybrid_core.io_utils import atomic_path

    def put(path: Path, text: str) -> Path:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    written = [put(folder / "robustness.csv", rob.to_csv(index=False))]
    report: list[str] = []
    for ds in dict.fromkeys(rob["dataset"]):
        for sl in dict.fromkeys(rob.loc[rob["dataset"] == ds, "slice"]):
            stem = f"robustness--{ds}--{sl.replace(':', '-')}"
            note = footnote(rob, ds, sl, baseline, correction, plan)
            values, vs = robustness_table(rob, ds, sl), baseline_table(rob, ds, sl)
            parts = [f"## Robustness: {ds}, slice {sl}", markdown_table(values)]
            md = "\n\n".join([*parts, markdown_table(vs) if len(vs) else "", note])
            written.append(put(folder / "tables" / f"{stem}.md", md + "\n"))
            written.append(
                put(
                    folder / "tables" / f"{stem}.csv",
                    rob[(rob["dataset"] == ds) & (rob["slice"] == sl)].to_csv(index=False),
                )
            )
            tex = latex_table(values, caption=f"Robustness to query noise: {ds}, slice {sl}. {note}")
            if len(vs):
                tex += latex_table(vs, caption=f"Drop minus the drop of the baseline {baseline}: {ds}, slice {sl}.")
            written.append(put(folder / "tables" / f"{stem}.tex", tex))
            if sl in slicing.ORDER:
                report += [md, ""]
    for stem, fig in robustness_figures(rob).items():
        with atomic_path(folder / "figures" / f"{stem}.json") as tmp:
            tmp.write_text(fig.to_json(), encoding="utf-8")
        written.append(folder / "figures" / f"{stem}.json")
    return written, report
