"""A study's statistics and tables: per data set x slice x arm, the macro metrics with CIs, seed spread,
paired differences against the baseline arm with corrected p-values, effect sizes and the MDE.

Method (see :mod:`hybrid_core.analysis.stats`):

- an arm's seeds are averaged cell by cell (question x setting) first; its value is the macro mean of
  that seed-averaged tensor with a 95% bootstrap CI over questions (translations together), and the
  spread across seeds (SD of each seed's macro mean) is reported beside it;
- every trained arm is compared with the baseline arm on the seed-averaged tensors: mean paired
  difference with its bootstrap SE over questions, the paired randomisation test over questions, Cohen's
  d_z; when both arms have >= 2 seeds the verdict, CI and SE come from the seed-aware test
  (:func:`~hybrid_core.analysis.stats.seed_aware_difference`: question variance plus both arms'
  seed-to-seed variance, Welch-Satterthwaite t) and the question-level p is kept beside it; p-values are
  corrected (Holm or Benjamini-Hochberg, as the study says) over the family of every comparison of one
  table (one data set and slice: arms x {mono, cross, multi mAP, RD}); the untrained model is shown for
  reference and not tested;
- the MDE of each comparison: ``(z_{1-alpha/(2m)} + z_{0.8}) * SE`` with m the family size (t quantiles at
  the test's degrees of freedom for the seed-aware test), i.e. the difference the table could detect with
  80% power at Holm's first threshold.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hybrid_core.analysis import stats
from hybrid_core.analysis.compare import question_tensor
from hybrid_core.runs import RunStore
from hybrid_core.studies import slices as slicing

#: (kind, metric) columns of a study table, in the paper's order.
COLUMNS: tuple[tuple[str, str], ...] = (("mono", "map"), ("cross", "map"), ("multi", "map"), ("multi", "rank_distance"))
LABELS = {("mono", "map"): "mono mAP", ("cross", "map"): "cross mAP", ("multi", "map"): "multi mAP"}
LABELS[("multi", "rank_distance")] = "RD"
ALPHA = 0.05
POWER = 0.8
TIDY_COLUMNS = [
    "dataset",
    "slice",
    "languages",
    "arm",
    "series",
    "axis_name",
    "axis",
    "kind",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "band_low",
    "band_high",
    "seed_sd",
    "n_seeds",
    "delta",
    "delta_low",
    "delta_high",
    "se",
    "p",
    "p_adj",
    "significant",
    "better",
    "d",
    "mde",
    "family_size",
    "test",
    "df",
    "se_questions",
    "se_seeds",
    "p_questions",
    "n_questions",
    "sampled",
    "runs",
]


def _run_tensors(per_query: pd.DataFrame) -> dict[str, tuple[np.ndarray, list, list]]:
    out = {}
    for kind in ("mono", "cross", "multi"):
        metrics = ["map", "rank_distance"] if kind == "multi" else ["map"]
        t, qs, ss = question_tensor(per_query, kind, metrics)
        if t.size and t.shape[2] < len(metrics):  # no rank distance (not a parallel set): keep the column, empty
            t = np.concatenate([t, np.full((*t.shape[:2], len(metrics) - t.shape[2]), np.nan)], axis=2)
        out[kind] = (t, qs, ss)
    return out


def _aligned(tensors: dict, kind: str) -> tuple[dict[str, np.ndarray], list, list]:
    """Every run's tensor of one kind on the union question x setting grid."""
    q_all = sorted(set().union(*(tensors[r][kind][1] for r in tensors)))
    s_all = sorted(set().union(*(tensors[r][kind][2] for r in tensors)))
    m = 2 if kind == "multi" else 1
    out = {}
    for r, by_kind in tensors.items():
        t, qs, ss = by_kind[kind]
        full = np.full((len(q_all), len(s_all), m), np.nan)
        if t.size:
            full[np.ix_(pd.Index(q_all).get_indexer(qs), pd.Index(s_all).get_indexer(ss))] = t
        out[r] = full
    return out, q_all, s_all


def slice_grid(
    by_key: dict, q_all: list, s_all: list, lang_of: dict[str, str], langs, metrics: slice = slice(None)
) -> dict | None:
    """The tensors of an aligned grid (:func:`_aligned`) cut to the settings whose query language is in ``langs``
    and to ``metrics``, keeping the questions some tensor has a value for; None when no setting is left."""
    cols = [i for i, s in enumerate(s_all) if lang_of.get(s) in langs]
    if not cols:
        return None
    sub = {k: t[:, cols][..., metrics] for k, t in by_key.items()}
    keep = np.zeros(len(q_all), bool)
    for t in sub.values():
        keep |= ~np.isnan(t).all(axis=(1, 2))
    return {k: t[keep] for k, t in sub.items()}


def adjust_family(rows: list[dict], correction: str, prefix: str = "") -> None:
    """Correct the ``<prefix>p`` of the rows that have one as one family (Holm or BH), in place: ``<prefix>p_adj``,
    ``<prefix>significant`` (at :data:`ALPHA`), ``<prefix>family_size`` and ``<prefix>mde`` (80% power, from
    ``<prefix>se``, t quantiles at ``<prefix>df`` when the row has one)."""
    family = [r for r in rows if not np.isnan(r.get(f"{prefix}p", np.nan))]
    m = len(family)
    if not m:
        return
    adjusted = stats.adjust(np.array([r[f"{prefix}p"] for r in family]), correction)
    for r, pa in zip(family, adjusted, strict=True):
        se = r[f"{prefix}se"]
        r[f"{prefix}p_adj"] = float(pa)
        r[f"{prefix}significant"] = bool(pa <= ALPHA)
        r[f"{prefix}family_size"] = m
        df = r.get(f"{prefix}df", np.inf)  # the seed-aware test's degrees of freedom; a z-test otherwise
        r[f"{prefix}mde"] = stats.mde(se, m=m, alpha=ALPHA, power=POWER, df=df) if not np.isnan(se) else np.nan


def study_results(
    arms: dict[str, list[str]],
    datasets: Sequence[dict],
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
    """The tidy result table of a study.

    ``arms``: ``{arm label: [run per seed]}`` (the untrained model as arm ``"base"``, never tested);
    ``datasets``: plan entries (``name``, ``sampled``); ``slices_of``: ``{data set: {slice: languages}}``;
    ``arm_info``: ``{arm: {"series", "axis", "axis_name"}}`` for curves.
    """
    store = store or RunStore()
    arm_info = arm_info or {}
    rows: list[dict] = []
    for ds in datasets:
        name = ds["name"]
        all_runs = [r for runs in arms.values() for r in runs]
        frames = {r: store.get(r).per_query(name) for r in all_runs}
        lang_of = {}
        for pq in frames.values():
            lang_of.update(dict(zip(pq["setting"], pq["query_language"], strict=True)))
        tensors = {r: _run_tensors(pq) for r, pq in frames.items()}
        grids = {kind: _aligned(tensors, kind) for kind in ("mono", "cross", "multi")}
        for slice_name, langs in slices_of[name].items():
            cells: dict[tuple[str, str], dict] = {}
            for kind in ("mono", "cross", "multi"):
                sub = slice_grid(*grids[kind], lang_of, langs)
                if sub is None:
                    continue
                per_arm = {a: stats.seed_average(np.stack([sub[r] for r in runs])) for a, runs in arms.items()}
                spread = {a: stats.seed_spread(np.stack([sub[r] for r in runs])) for a, runs in arms.items()}
                metrics = ["map", "rank_distance"] if kind == "multi" else ["map"]
                for a, runs in arms.items():
                    cis = stats.macro_bootstrap(per_arm[a], n_boot=n_boot, seed=seed)
                    bands = stats.seed_aware_interval(per_arm[a], spread[a], len(runs), n_boot=n_boot, seed=seed)
                    diffs = (
                        stats.paired_macro_difference(per_arm[a], per_arm[baseline], n_boot, n_perm, seed=seed)
                        if a not in (baseline, "base")
                        else [None] * len(metrics)
                    )
                    for j, metric in enumerate(metrics):
                        ci, diff = cis[j], diffs[j]
                        if np.isnan(ci.value):
                            continue
                        info = arm_info.get(a, {})
                        row = {
                            "dataset": name,
                            "slice": slice_name,
                            "languages": " ".join(langs),
                            "arm": a,
                            "series": info.get("series", a),
                            "axis_name": info.get("axis_name"),
                            "axis": info.get("axis"),
                            "kind": kind,
                            "metric": metric,
                            "value": ci.value,
                            "ci_low": ci.low,
                            "ci_high": ci.high,
                            "band_low": bands[j].low,
                            "band_high": bands[j].high,
                            "seed_sd": float(spread[a][j]),
                            "n_seeds": len(runs),
                            "n_questions": int((~np.isnan(per_arm[a][..., j])).any(axis=1).sum()),
                            "sampled": bool(ds.get("sampled")),
                            "runs": ", ".join(runs),
                        }
                        if diff is not None:
                            row.update(
                                comparison(diff, spread[a][j], len(runs), spread[baseline][j], len(arms[baseline]))
                            )
                            row["better"] = bool(diff.delta > 0 if metric != "rank_distance" else diff.delta < 0)
                        cells[(a, f"{kind}|{metric}")] = row
            adjust_family(list(cells.values()), correction)
            rows.extend(cells.values())
    out = pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)
    return out


def comparison(diff: stats.PairedResult, sd_a: float, k_a: int, sd_b: float, k_b: int) -> dict:
    """The tidy columns of one comparison: with >= 2 seeds on both sides the seed-aware test decides (CI, SE, p,
    df); the question-level randomisation test's p and SE are kept beside it (``p_questions``, ``se_questions``).
    A one-sample question (e.g. one arm's noisy minus clean) passes ``sd_b = 0`` and ``k_b = k_a``."""
    out = {
        "delta": diff.delta,
        "d": diff.d,
        "p_questions": diff.p,
        "se_questions": diff.se,
    }
    if k_a >= 2 and k_b >= 2 and np.isfinite(sd_a) and np.isfinite(sd_b):
        sa = stats.seed_aware_difference(diff, sd_a, k_a, sd_b, k_b)
        return out | {
            "test": "seeds+questions",
            "delta_low": sa.low,
            "delta_high": sa.high,
            "se": sa.se,
            "p": sa.p,
            "df": sa.df,
            "se_seeds": sa.se_seeds,
        }
    return out | {
        "test": "questions",
        "delta_low": diff.low,
        "delta_high": diff.high,
        "se": diff.se,
        "p": diff.p,
        "df": np.inf,
    }


# --------------------------------------------------------------------------- display tables


def _num(v: float, metric: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    return f"{v:.1f}" if metric == "rank_distance" else f"{v:.3f}"


def _p(p: float) -> str:
    if p is None or np.isnan(p):
        return "–"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def _mark(r: pd.Series, latex: bool = False) -> str:
    if r.get("significant") is not True:
        return ""
    if latex:
        return r"$^{\uparrow}$" if r["better"] else r"$^{\downarrow}$"
    return " ▲" if r["better"] else " ▼"


def value_table(tidy: pd.DataFrame, dataset: str, slice_name: str, latex: bool = False) -> pd.DataFrame:
    """Rows: arms; columns: mono / cross / multi mAP and RD as ``value [low, high]`` with the seed SD and a mark
    (▲ better / ▼ worse than the baseline, significant after correction)."""
    t = tidy[(tidy["dataset"] == dataset) & (tidy["slice"] == slice_name)]
    out = {}
    for _, r in t.iterrows():
        m = r["metric"]
        cell = f"{_num(r['value'], m)} [{_num(r['ci_low'], m)}, {_num(r['ci_high'], m)}]"
        if r["n_seeds"] > 1 and not np.isnan(r["seed_sd"]):
            cell += (r" $\pm$" if latex else " ±") + _num(r["seed_sd"], m)
        out.setdefault(r["arm"], {})[LABELS[(r["kind"], m)]] = cell + _mark(r, latex)
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame = frame.reindex(columns=[c for c in LABELS.values() if c in frame.columns])
    frame.index.name = "arm"
    return frame


def delta_table(tidy: pd.DataFrame, dataset: str, slice_name: str) -> pd.DataFrame:
    """Rows: compared arms; columns per metric: ``Δ [low, high]``, corrected p, d_z and MDE."""
    t = tidy[(tidy["dataset"] == dataset) & (tidy["slice"] == slice_name) & tidy["p"].notna()]
    out = {}
    for _, r in t.iterrows():
        m, label = r["metric"], LABELS[(r["kind"], r["metric"])]
        questions_only = f" (questions only p={_p(r['p_questions'])})" if r.get("test") == "seeds+questions" else ""
        out.setdefault(r["arm"], {})[label] = (
            f"{r['delta']:+.{1 if m == 'rank_distance' else 3}f} "
            f"[{_num(r['delta_low'], m)}, {_num(r['delta_high'], m)}]"
            f" p={_p(r['p_adj'])}{questions_only} d={r['d']:+.2f} MDE {_num(r['mde'], m)}{_mark(r)}"
        )
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame = frame.reindex(columns=[c for c in LABELS.values() if c in frame.columns])
    frame.index.name = "arm vs baseline"
    return frame


def footnote(tidy: pd.DataFrame, dataset: str, slice_name: str, baseline: str, correction: str, plan: dict) -> str:
    """What a table's numbers are: test, correction, baseline, MDE, seeds, sampling, slice."""
    t = tidy[(tidy["dataset"] == dataset) & (tidy["slice"] == slice_name)]
    ds = next((d for d in plan.get("datasets", []) if d["name"] == dataset), {})
    tested = t[t["p"].notna()]
    langs = t["languages"].iloc[0].split() if len(t) else []
    kinds = set(tested["test"].dropna()) if "test" in tested else set()
    seeded = kinds == {"seeds+questions"}
    questions = f"{stats.TEST_NAME}, on seed-averaged per-query scores"
    if seeded:
        test = (
            f"{stats.TEST_NAME_SEEDS} (the question-level {questions} gives the 'questions only' p, uncorrected, "
            "beside it; a difference must hold across training seeds, not only across questions)"
        )
    elif len(kinds) > 1:
        test = (
            f"for arms with >= 2 seeds on both sides, {stats.TEST_NAME_SEEDS}; for the others (one seed), the "
            f"{questions}, which leaves training-seed variance out (column 'test' of results.csv says which)"
        )
    elif len(tested) and (tested["n_seeds"] < 2).any():
        test = f"{questions} (one seed: training-seed variance is not in the test, so a difference may not hold "
        test += "for another seed)"
    else:
        test = questions
    parts = [
        "Cells: macro mean over settings of the mean over questions (seed-averaged per query), 95% bootstrap CI over "
        "questions (translations of a question resampled together), ± SD across seeds.",
        f"Paired comparisons with the baseline {baseline!r}: {test}; "
        f"p corrected by {stats.CORRECTIONS[correction]} over the "
        f"{int(tested['family_size'].max()) if len(tested) else 0} "
        "comparisons of this table; ▲/▼ = significantly better/worse at .05 after correction; d = Cohen's d_z over "
        "questions. The untrained model is shown for reference, not tested.",
    ]
    if len(tested):
        mdes = tested.groupby(["kind", "metric"])["mde"].median()
        parts.append(
            "Minimum detectable effect (80% power, two-sided .05 at Holm's first threshold .05/m, from the test's SE"
            + (" and t quantiles at its degrees of freedom" if seeded else ", paired bootstrap")
            + "): "
            + ", ".join(f"{LABELS[k]} {_num(mdes[k], k[1])}" for k in COLUMNS if k in mdes.index)
            + " (median over arms); a difference that is not significant is smaller than this or absent."
        )
    if ds.get("sampled"):
        parts.append(
            f"SAMPLED: a seeded sample of {ds['questions']} questions (seed {ds.get('sample_seed')}) of {ds['spec']}, "
            "not the whole set."
        )
    else:
        parts.append(f"Whole set: {ds.get('questions', '?')} questions of {ds.get('spec', dataset)}.")
    parts.append(f"Slice {slice_name}: {slicing.describe(slice_name, langs)}.")
    if plan.get("size_seeds") is not None:
        chosen, own = (", ".join(map(str, plan[k])) for k in ("seeds", "size_seeds"))
        parts.append(f"Training seeds {chosen}, chosen on the command line (--seeds); this size defines {own}.")
    note = dapt_note(plan)
    if note:
        parts.append(note)
    return " ".join(parts)


def dapt_note(plan: dict) -> str:
    """The caption note of a study with masked-LM (DAPT) stages; loud when their text is a target (evaluation) set."""
    out = []
    for d in plan.get("dapt", []):
        arms = ", ".join(d["arms"])
        if str(d["source"]).startswith("target-set:"):
            out.append(
                f"DAPT ON TARGET-SET TEXT: arm(s) {arms} had a masked-LM stage ({d['steps']} steps) on the "
                f"candidate passages of {d['source'][len('target-set:') :]} (unlabeled, but the evaluation domain)."
            )
        else:
            out.append(f"DAPT: arm(s) {arms} had a masked-LM stage ({d['steps']} steps) on {d['source']}.")
    return " ".join(out)


def paper_layout(tidy: pd.DataFrame, slice_name: str = "all") -> pd.DataFrame:
    """The paper's layout: one row per arm, mono / cross / multi mAP and RD per data set, then the published rows
    (XLM-R and LaBSE, labelled as reported in arXiv 2408.10536; not re-run here)."""
    from hybrid_core.analysis.compare import paper_table
    from hybrid_core.data.specs import parse_sample_name

    t = tidy[tidy["slice"] == slice_name]
    rows: dict[str, dict] = {}
    for _, r in t.iterrows():
        base = parse_sample_name(r["dataset"])[0]
        short = "mlqa-r" if base.startswith("mlqa-r") else base
        rows.setdefault(f"{r['arm']} (measured)", {})[f"{short} {LABELS[(r['kind'], r['metric'])]}"] = r["value"]
    measured = pd.DataFrame.from_dict(rows, orient="index")
    rep = paper_table()
    rep_rows: dict[str, dict] = {}
    for _, r in rep.iterrows():
        key = f"{r['model']} {r['batches']} (reported)"
        for col, label in (("mono map", "mono mAP"), ("cross map", "cross mAP"), ("multi map", "multi mAP")):
            rep_rows.setdefault(key, {})[f"{r['dataset']} {label}"] = r[col]
        rep_rows[key][f"{r['dataset']} RD"] = r["rank_distance"]
    reported = pd.DataFrame.from_dict(rep_rows, orient="index")
    cols = [c for c in reported.columns if c in measured.columns] or list(measured.columns)
    out = pd.concat([measured.reindex(columns=cols), reported.reindex(columns=cols)])
    out.index.name = "model, batches"
    return out


# --------------------------------------------------------------------------- writers


#: The paper's claims for hybrid(α) against the pure samplers (arXiv 2408.10536, abstract and Table 2):
#: (other arm's α, kind, metric, the sign of (other - hybrid) that the claim predicts).
PAPER_CLAIMS: tuple[tuple[str, float, str, str, int], ...] = (
    ("hybrid >= X-X-mono on cross-lingual mAP", 1.0, "cross", "map", -1),
    ("hybrid >= X-X-mono on multilingual mAP", 1.0, "multi", "map", -1),
    ("hybrid >= X-Y on monolingual mAP", 0.0, "mono", "map", -1),
    ("hybrid rank distance below X-X-mono", 1.0, "multi", "rank_distance", 1),
)


def paper_claims(tidy: pd.DataFrame, baseline: str, slice_name: str = "all") -> pd.DataFrame:
    """The paper's claims checked on a study whose baseline is a hybrid arm (0 < α < 1) and which has the pure
    X-X-mono (α = 1) and X-Y (α = 0) arms: per claim and data set the measured difference (other − hybrid) with
    its CI, the corrected p and the verdict — *supported* (significant, claimed direction), *contradicted*
    (significant, opposite) or *not shown* (not significant: any true difference is likely below the MDE).
    Empty when the study lacks those arms."""
    t = tidy[(tidy["slice"] == slice_name) & (tidy["axis_name"] == "alpha")]
    base = t[t["arm"] == baseline]
    axis = pd.to_numeric(base["axis"], errors="coerce")
    if base.empty or not (0 < float(axis.iloc[0]) < 1):  # NaN (no alpha) fails both comparisons
        return pd.DataFrame()
    rows = []
    for claim, alpha, kind, metric, sign in PAPER_CLAIMS:
        other = t[(t["axis"] == alpha) & (t["arm"] != baseline) & (t["kind"] == kind) & (t["metric"] == metric)]
        for _, r in other.drop_duplicates(["dataset", "arm"]).iterrows():
            if pd.isna(r["delta"]):
                continue
            if r["significant"] is True or r["significant"] == 1:
                verdict = "supported" if np.sign(r["delta"]) == sign else "contradicted"
            else:
                verdict = f"not shown (n.s.; MDE {r['mde']:.3g})" if pd.notna(r["mde"]) else "not shown (n.s.)"
            rows.append(
                {
                    "claim": claim,
                    "dataset": r["dataset"],
                    "versus": r["arm"],
                    "other - hybrid": _num(r["delta"], metric),
                    "95% CI": f"[{_num(r['delta_low'], metric)}, {_num(r['delta_high'], metric)}]",
                    "p (corrected)": _p(r["p_adj"]),
                    "verdict": verdict,
                }
            )
    return pd.DataFrame(rows)


def _latex_escape(text: str) -> str:
    if text.startswith("$") or "$^" in text or "$\\pm$" in text:
        head = text
        for ch, rep in (("_", r"\_"), ("%", r"\%"), ("&", r"\&"), ("#", r"\#")):
            head = head.replace(ch, rep)
        return head
    for ch, rep in (
        ("\\", r"\textbackslash{}"),
        ("_", r"\_"),
        ("%", r"\%"),
        ("&", r"\&"),
        ("#", r"\#"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("±", r"$\pm$"),
        ("Δ", r"$\Delta$"),
        ("▲", r"$^{\uparrow}$"),
        ("▼", r"$^{\downarrow}$"),
        ("–", "--"),
    ):
        text = text.replace(ch, rep)
    return text


def latex_table(table: pd.DataFrame, caption: str = "", label: str = "") -> str:
    """A booktabs table (``\\toprule``/``\\midrule``/``\\bottomrule``), every cell escaped for pdflatex."""
    cols = [table.index.name or "", *map(str, table.columns)]
    lines = [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{l" + "r" * len(table.columns) + "}",
        r"\toprule",
        " & ".join(_latex_escape(c) for c in cols) + r" \\",
        r"\midrule",
    ]
    for idx, row in table.iterrows():
        cells = [str(idx), *("--" if (isinstance(v, float) and np.isnan(v)) else _fmt_cell(v) for v in row)]
        lines.append(" & ".join(_latex_escape(c) for c in cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if caption:
        lines.append(r"\caption{" + _latex_escape(caption) + "}")
    if label:
        lines.append(r"\label{" + label + "}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def _fmt_cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"
    return str(v)


def markdown_table(table: pd.DataFrame) -> str:
    """A GitHub table with the index as first column (no tabulate dependency)."""
    head = [table.index.name or "", *map(str, table.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    for idx, row in table.iterrows():
        cells = [str(idx), *("–" if (isinstance(v, float) and np.isnan(v)) else _fmt_cell(v) for v in row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_tables(
    tidy: pd.DataFrame, folder: Path, plan: dict, baseline: str, correction: str, reported: bool
) -> list[Path]:
    """``results.csv`` (tidy, every number), per data set x slice ``tables/<ds>--<slice>.{md,csv,tex}`` and
    ``report.md`` (the all / seen / unseen / low-resource tables of every data set)."""
    from hybrid_core.io_utils import atomic_path

    def put(path: Path, text: str) -> Path:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return path

    written = [put(folder / "results.csv", tidy.to_csv(index=False))]
    report = [f"# Study {plan['study']} (size {plan['size']})", ""]
    if dapt_note(plan):
        report += [dapt_note(plan), ""]
    for ds in dict.fromkeys(tidy["dataset"]):
        for sl in dict.fromkeys(tidy.loc[tidy["dataset"] == ds, "slice"]):
            stem = f"{ds}--{sl.replace(':', '-')}"
            note = footnote(tidy, ds, sl, baseline, correction, plan)
            values, deltas = value_table(tidy, ds, sl), delta_table(tidy, ds, sl)
            md = "\n\n".join(
                [f"## {ds}, slice {sl}", markdown_table(values), markdown_table(deltas) if len(deltas) else "", note]
            )
            written.append(put(folder / "tables" / f"{stem}.md", md + "\n"))
            written.append(
                put(
                    folder / "tables" / f"{stem}.csv",
                    tidy[(tidy["dataset"] == ds) & (tidy["slice"] == sl)].to_csv(index=False),
                )
            )
            written.append(
                put(
                    folder / "tables" / f"{stem}.tex",
                    latex_table(value_table(tidy, ds, sl, latex=True), caption=f"{ds}, slice {sl}. {note}"),
                )
            )
            if sl in slicing.ORDER:
                report += [md, ""]
    if reported:
        paper = paper_layout(tidy)
        written.append(put(folder / "tables" / "paper-layout.csv", paper.to_csv()))
        written.append(
            put(
                folder / "tables" / "paper-layout.tex",
                latex_table(
                    paper,
                    caption="Measured here (seed means, slice all) beside the numbers reported in "
                    "arXiv 2408.10536 (not re-run here).",
                ),
            )
        )
        report += ["## Paper layout (measured beside reported)", markdown_table(paper), ""]
    claims = paper_claims(tidy, baseline)
    if len(claims):
        written.append(put(folder / "tables" / "paper-claims.csv", claims.to_csv(index=False)))
        written.append(
            put(
                folder / "tables" / "paper-claims.tex",
                latex_table(
                    claims.set_index("claim"),
                    caption=f"The claims of arXiv 2408.10536 checked here (slice all, {baseline} as hybrid; "
                    f"{'Holm' if correction == 'holm' else 'Benjamini-Hochberg'} correction over each table's "
                    "family). Not shown = not significant: a true difference, if any, is likely below the MDE.",
                ),
            )
        )
        report += ["## The paper's claims, checked", markdown_table(claims.set_index("claim")), ""]
    written.append(put(folder / "report.md", "\n".join(report) + "\n"))
    return written


def read_results(folder: Path) -> pd.DataFrame:
    """The tidy results of a finished study folder."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.read_csv(folder / "results.csv")
