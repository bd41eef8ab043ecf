"""Compare runs: macro metrics per kind with 95% bootstrap CIs and a paired test against a baseline.

Numbers are recomputed from the per-query Parquet files exactly as the summaries compute them
(mean over queries within a setting, then over the settings of a kind), so a table's value equals
``summary["macro"][kind][metric]``. CIs resample whole questions; the test is the paired randomisation
(sign-flip) test over questions from :mod:`hybrid_core.analysis.stats`, with Holm-adjusted p-values per run.
The paper's published numbers are available as a separate, labelled table (:func:`paper_table`).

Runs evaluated on different slices of one set (``xquad-r``, ``xquad-r-q60-s0``, ``xquad-r-q50-s0``; names
from :func:`hybrid_core.data.specs.sample_name`) are compared on the queries they share
(:func:`common_queries`): each run's per-query rows are restricted to the (question, query language) pairs
present in every run, and means / CIs / tests are then computed exactly as for one data set.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hybrid_core import paths
from hybrid_core.analysis import stats
from hybrid_core.data.specs import parse_sample_name
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.metrics import HIGHER_IS_BETTER, METRICS, column_name
from hybrid_core.evaluation.settings import KINDS
from hybrid_core.evaluation.tables import format_p
from hybrid_core.io_utils import atomic_path, read_json, write_json
from hybrid_core.runs import RunStore

#: Every metric a comparison can show, in display order.
ALL_METRICS: tuple[str, ...] = (*METRICS, "rank_distance")
PAPER_SOURCE = "reported in arXiv 2408.10536 (Table 2), not re-run here"


def display_order(metrics: Sequence[str]) -> list[str]:
    """The paper's two headline numbers first (mAP, rank distance), then the other metrics in registry order."""
    head = [m for m in ("map", "rank_distance") if m in metrics]
    return [*head, *(m for m in metrics if m not in head)]


def question_tensor(per_query: pd.DataFrame, kind: str, metrics: Sequence[str]) -> tuple[np.ndarray, list, list]:
    """(questions, settings, metrics) array of one kind, NaN where a question is absent from a setting.

    Questions are ``question_id`` (translations of one question are one unit); returns the array and
    its question and setting labels (sorted).
    """
    rows = per_query[per_query["kind"] == kind]
    metrics = [m for m in metrics if m in rows.columns]
    if rows.empty or not metrics:
        return np.zeros((0, 0, len(metrics))), [], []
    grouped = rows.groupby(["question_id", "setting"], sort=True)[metrics].mean()
    q_codes, q_labels = pd.factorize(grouped.index.get_level_values(0), sort=True)
    s_codes, s_labels = pd.factorize(grouped.index.get_level_values(1), sort=True)
    out = np.full((len(q_labels), len(s_labels), len(metrics)), np.nan)
    out[q_codes, s_codes] = grouped.to_numpy(dtype=np.float64)
    return out, list(q_labels), list(s_labels)


def align_grid(t: np.ndarray, qs: list, ss: list, q_all: list, s_all: list) -> np.ndarray:
    """Place a tensor on the union question / setting grid."""
    out = np.full((len(q_all), len(s_all), t.shape[2]), np.nan)
    qi = pd.Index(q_all).get_indexer(qs)
    si = pd.Index(s_all).get_indexer(ss)
    out[np.ix_(qi, si)] = t
    return out


def base_set(name: str) -> str:
    """The set a data-set name is a slice of: ``"xquad-r-q60-s0"`` -> ``"xquad-r"``; a full set -> itself."""
    return parse_sample_name(name)[0]


def _slice_order(name: str) -> tuple:
    """Sort key within a base set: the full set first, then larger samples, then by seed."""
    _, n, seed = parse_sample_name(name)
    return (n is not None, -(n or 0), seed or 0, name)


def slice_groups(datasets: Sequence[str]) -> dict[str, list[str]]:
    """``{base set: [its slices, full set first, then larger samples]}`` for data-set names."""
    groups: dict[str, list[str]] = {}
    for d in dict.fromkeys(datasets):
        groups.setdefault(base_set(d), []).append(d)
    return {b: sorted(names, key=_slice_order) for b, names in groups.items()}


def pick_datasets(run_datasets: dict[str, Sequence[str]], dataset: str) -> dict[str, str]:
    """Which result of each run to compare on ``dataset``.

    A run with results for ``dataset`` itself uses them; otherwise its largest slice of the same base set
    (full set first). Runs with no slice of that set are left out.
    """
    base = base_set(dataset)
    out = {}
    for run, names in run_datasets.items():
        if dataset in names:
            out[run] = dataset
            continue
        same = slice_groups([d for d in names if base_set(d) == base]).get(base)
        if same:
            out[run] = same[0]
    return out


def common_queries(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], int, int]:
    """Restrict per-query frames to the (question_id, query_language) pairs every frame has.

    Returns the restricted frames, the number of shared questions and of shared queries.
    """
    if not frames:
        return {}, 0, 0
    keys = [
        pd.MultiIndex.from_frame(pq[["question_id", "query_language"]].astype(str)).unique() for pq in frames.values()
    ]
    shared = keys[0]
    for k in keys[1:]:
        shared = shared.intersection(k)
    out = {
        name: pq[pd.MultiIndex.from_frame(pq[["question_id", "query_language"]].astype(str)).isin(shared)]
        for name, pq in frames.items()
    }
    n_questions = len(shared.get_level_values(0).unique()) if len(shared) else 0
    return out, n_questions, len(shared)


def common_slice(datasets: dict[str, str]) -> tuple[str, list[str]]:
    """The slice to evaluate every run on for a strict comparison, and the runs not yet evaluated on it.

    The smallest slice in use (fewest questions; a full set counts as the largest), so the re-evaluations
    are the cheapest; a sample's questions are the same whenever the same base set, size and seed are drawn.
    """
    target = min(set(datasets.values()), key=lambda d: (parse_sample_name(d)[1] or float("inf"), d))
    return target, [run for run, d in datasets.items() if d != target]


def slices_note(datasets: dict[str, str], n_questions: int, n_queries: int) -> str:
    """The sentence a page shows when runs come from different slices of one set."""
    by_slice: dict[str, list[str]] = {}
    for run, d in datasets.items():
        by_slice.setdefault(d, []).append(run)
    used = "; ".join(f"{d}: {', '.join(runs)}" for d, runs in by_slice.items())
    return (
        f"The runs were evaluated on different slices of {base_set(next(iter(datasets.values())))} ({used}). "
        f"They are compared on the {n_questions} questions ({n_queries} queries) they share. A slice's candidate "
        "pool holds only its own questions' paragraphs, so the same question can score higher in a smaller slice: "
        "for a strict comparison, evaluate every run on one slice."
    )


@dataclass
class CompareReport:
    """A comparison: a tidy table (one row per run x kind x metric) plus context for display."""

    table: pd.DataFrame
    baseline: str | None
    dataset: str
    test: str = stats.TEST_NAME
    notes: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: the result each run was compared on (differs from ``dataset`` for runs on another slice of the set)
    datasets: dict[str, str] = field(default_factory=dict)
    #: questions / queries shared by all runs when they come from different slices, else None
    n_common: tuple[int, int] | None = None

    @property
    def runs(self) -> list[str]:
        return list(dict.fromkeys(self.table["run"])) if not self.table.empty else []

    def wide(self, kind: str, what: str = "value", digits: int = 3) -> pd.DataFrame:
        """Display table of one kind: runs x metrics.

        ``what="value"`` gives ``0.792 [0.780, 0.804]``; ``what="delta"`` gives the difference to
        the baseline with its raw two-sided p-value and ▲ / ▼ when significant after Holm adjustment
        within the run (over kinds x metrics).
        """
        t = self.table[self.table["kind"] == kind]
        if what == "delta":
            t = t[t["run"] != self.baseline]

        def cell(r: pd.Series) -> str:
            if what == "value":
                if np.isnan(r["value"]):
                    return "–"
                return f"{r['value']:.{digits}f} [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"
            if np.isnan(r["delta"]):
                return "–"
            mark = (" ▲" if r["better"] else " ▼") if r["significant"] else ""
            return f"{r['delta']:+.{digits}f} ({format_p(r['p_value'])}){mark}"

        if t.empty:
            return pd.DataFrame()
        shown = t.assign(cell=t.apply(cell, axis=1))
        order = [m for m in display_order(ALL_METRICS) if m in set(t["metric"])]
        wide = shown.pivot(index="run", columns="metric", values="cell")
        return wide.reindex(index=list(dict.fromkeys(t["run"])), columns=order)


def compare_frames(
    frames: dict[str, pd.DataFrame],
    baseline: str | None = None,
    *,
    dataset: str = "",
    metrics: Sequence[str] = ALL_METRICS,
    kinds: Sequence[str] = KINDS,
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    alpha: float = 0.05,
    seed: int = 0,
) -> CompareReport:
    """Compare per-query results of several runs (``{run name: per-query frame}``) on one data set."""
    if baseline is not None and baseline not in frames:
        raise HybridIRError(f"baseline {baseline!r} is not among the compared runs {sorted(frames)}")
    rows: list[dict] = []
    for kind in kinds:
        present = [m for m in metrics if any(m in pq.columns and (pq["kind"] == kind).any() for pq in frames.values())]
        if kind != "multi":
            present = [m for m in present if m != "rank_distance"]
        if not present:
            continue
        tensors = {name: question_tensor(pq, kind, present) for name, pq in frames.items()}
        q_all = sorted(set().union(*(qs for _, qs, _ in tensors.values())))
        s_all = sorted(set().union(*(ss for _, _, ss in tensors.values())))
        grid: dict[str, np.ndarray] = {}
        for name, (t, qs, ss) in tensors.items():
            cols = [m for m in present if m in frames[name].columns]
            full = np.full((len(q_all), len(s_all), len(present)), np.nan)
            if t.size:
                full[..., [present.index(c) for c in cols]] = align_grid(t, qs, ss, q_all, s_all)
            grid[name] = full
        for name, values in grid.items():
            cis = stats.macro_bootstrap(values, n_boot=n_boot, seed=seed) if values.size else []
            p = np.full(len(present), np.nan)
            if baseline is not None and name != baseline and values.size:
                p = stats.macro_permutation_test(values, grid[baseline], n_perm=n_perm, seed=seed)
            base = stats.macro_means(grid[baseline]) if baseline is not None and values.size else None
            n_q = int((~np.isnan(values[..., 0])).any(axis=1).sum()) if values.size else 0
            for j, metric in enumerate(present):
                ci = cis[j] if cis else stats.Interval(np.nan, np.nan, np.nan)
                delta = ci.value - base[j] if base is not None and name != baseline else np.nan
                rows.append(
                    {
                        "run": name,
                        "kind": kind,
                        "metric": metric,
                        "value": ci.value,
                        "ci_low": ci.low,
                        "ci_high": ci.high,
                        "n_questions": n_q,
                        "n_settings": len(s_all),
                        "delta": delta,
                        "p_value": p[j],
                        "better": bool(delta > 0) == HIGHER_IS_BETTER[metric] if not np.isnan(delta) else None,
                    }
                )
    table = pd.DataFrame(rows, columns=_COLUMNS)
    if not table.empty:
        table["p_holm"] = np.nan
        for _, idx in table.groupby("run").groups.items():
            table.loc[idx, "p_holm"] = stats.holm(table.loc[idx, "p_value"].to_numpy(dtype=np.float64))
        table["significant"] = table["p_holm"] < alpha
    return CompareReport(table=table, baseline=baseline, dataset=dataset)


_COLUMNS = [
    "run",
    "kind",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n_questions",
    "n_settings",
    "delta",
    "p_value",
    "better",
    "p_holm",
    "significant",
]


def compare_runs(
    names: Sequence[str],
    dataset: str,
    baseline: str | None = None,
    store: RunStore | None = None,
    *,
    cache: bool = True,
    **kwargs,
) -> CompareReport:
    """Load the runs' per-query results for ``dataset`` and compare them; unreadable runs become ``errors``.

    A run without results for ``dataset`` but with another slice of the same set is compared on that slice
    (:func:`pick_datasets`); then every run is restricted to the queries all of them share
    (:func:`common_queries`) and the report says so in ``notes`` and ``n_common``.

    With ``cache``, a finished report is kept under ``<cache>/compare/`` keyed by the runs' result files
    (size and mtime), the baseline and the resampling options, so a dashboard restart does not
    recompute it; any change to a run's results makes a new key.
    """
    store = store or RunStore()
    used = _resolve(store, names, dataset)
    key = _cache_key(store, names, used, baseline, kwargs) if cache else None
    if key is not None:
        cached = _load_cached(key)
        if cached is not None:
            return cached
    frames: dict[str, pd.DataFrame] = {}
    fingerprints: dict[str, str | None] = {}
    errors: dict[str, str] = {}
    for name in names:
        try:
            run = store.get(name)
            fingerprints[name] = run.summary(used[name]).get("data_fingerprint")
            frames[name] = run.per_query(used[name])
        except HybridIRError as exc:
            errors[name] = str(exc)
    shown = {n: used[n] for n in frames}
    n_common = None
    if len(set(shown.values())) > 1:
        frames, n_q, n_queries = common_queries(frames)
        n_common = (n_q, n_queries)
        if n_queries == 0:
            raise HybridIRError(f"the runs' slices of {base_set(dataset)} share no questions: {shown}")
    if baseline not in frames:
        if baseline is not None and baseline in errors:
            errors[baseline] += " (baseline: no significance tests)"
        baseline = None
    report = (
        compare_frames(frames, baseline, dataset=dataset, **kwargs)
        if frames
        else CompareReport(pd.DataFrame(columns=_COLUMNS), None, dataset)
    )
    report.errors = errors
    report.datasets, report.n_common = shown, n_common
    if n_common is not None:
        report.notes.append(slices_note(shown, *n_common))
    elif len(set(fingerprints.values()) - {None}) > 1:
        report.notes.append(
            f"the runs were evaluated on different versions of {dataset!r} (data fingerprints differ); "
            "paired tests use only the (question, setting) cells present in both runs"
        )
    if key is not None and not errors:
        _save_cached(key, report)
    return report


def _resolve(store: RunStore, names: Sequence[str], dataset: str) -> dict[str, str]:
    """``{run: data set to read}``: ``dataset`` itself, or the run's slice of the same set when it lacks it."""
    found = {}
    for name in names:
        try:
            found[name] = store.get(name).datasets()
        except HybridIRError:
            found[name] = []
    picked = pick_datasets(found, dataset)
    return {n: picked.get(n, dataset) for n in names}


_CACHE_VERSION = 2


def _cache_key(
    store: RunStore, names: Sequence[str], datasets: dict[str, str], baseline: str | None, options: dict
) -> str | None:
    """Hash of what a report depends on; None when a result file is missing (errors are not cached)."""
    files = []
    for name in names:
        try:
            folder = store.get(name).result_dir(datasets[name])
        except HybridIRError:
            return None
        for f in (folder / "summary.json", folder / "per_query.parquet"):
            if not f.is_file():
                return None
            st = f.stat()
            files.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
    raw = json.dumps([_CACHE_VERSION, list(names), datasets, baseline, sorted(options.items()), files], default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _cache_dir() -> Path:
    return paths.cache_dir() / "compare"


def _load_cached(key: str) -> CompareReport | None:
    meta_f, table_f = _cache_dir() / f"{key}.json", _cache_dir() / f"{key}.parquet"
    try:
        meta = read_json(meta_f)
        table = pd.read_parquet(table_f)
    except Exception:  # absent or damaged: recompute
        return None
    n_common = tuple(meta["n_common"]) if meta.get("n_common") else None
    return CompareReport(
        table=table,
        baseline=meta["baseline"],
        dataset=meta["dataset"],
        notes=meta["notes"],
        datasets=meta.get("datasets", {}),
        n_common=n_common,
    )


def _save_cached(key: str, report: CompareReport) -> None:
    with atomic_path(_cache_dir() / f"{key}.parquet") as tmp:
        report.table.to_parquet(tmp, index=False)
    write_json(
        _cache_dir() / f"{key}.json",
        {
            "baseline": report.baseline,
            "dataset": report.dataset,
            "notes": report.notes,
            "datasets": report.datasets,
            "n_common": list(report.n_common) if report.n_common else None,
        },
    )


def paper_table() -> pd.DataFrame:
    """The hybrid-batch paper's published mAP (mono/cross/multi) and rank distance; reported, not re-run."""
    rows = [
        ("XLM-R", "X-X-mono", (0.792, 0.674, 0.547, 410.2), (0.648, 0.584, 0.473, 287.5)),
        ("XLM-R", "X-Y", (0.755, 0.700, 0.593, 295.4), (0.626, 0.620, 0.508, 226.7)),
        ("XLM-R", "hybrid", (0.798, 0.705, 0.593, 286.6), (0.648, 0.623, 0.512, 227.1)),
        ("LaBSE", "X-X-mono", (0.808, 0.752, 0.652, 261.5), (0.681, 0.656, 0.550, 225.3)),
        ("LaBSE", "X-Y", (0.801, 0.762, 0.679, 225.2), (0.671, 0.677, 0.576, 198.3)),
        ("LaBSE", "hybrid", (0.817, 0.767, 0.682, 221.1), (0.686, 0.681, 0.579, 195.0)),
    ]
    out = []
    for model, batches, xq, ml in rows:
        for dataset, vals in (("xquad-r", xq), ("mlqa-r", ml)):
            out.append(
                {
                    "model": model,
                    "batches": batches,
                    "dataset": dataset,
                    **{column_name("map", k): v for k, v in zip(KINDS, vals[:3], strict=True)},
                    "rank_distance": vals[3],
                    "source": PAPER_SOURCE,
                }
            )
    return pd.DataFrame(out)


def paper_view(report: CompareReport) -> pd.DataFrame:
    """Our runs in the paper's layout (macro mAP per kind and rank distance), labelled as measured here."""
    t = report.table
    rows = []
    for run in report.runs:
        r = t[t["run"] == run].set_index(["kind", "metric"])["value"]
        rows.append(
            {
                "model": run,
                "batches": "",
                "dataset": report.datasets.get(run, report.dataset)
                + (f" (the {report.n_common[0]} shared questions)" if report.n_common else ""),
                **{column_name("map", k): r.get((k, "map"), np.nan) for k in KINDS},
                "rank_distance": r.get(("multi", "rank_distance"), np.nan),
                "source": "measured here (this run store)",
            }
        )
    return pd.DataFrame(rows, columns=paper_table().columns)
