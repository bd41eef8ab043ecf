"""A paper bundle: from compared runs to the table, figures and numbers a paper needs, as one zip.

:func:`build_bundle` returns zip bytes holding

- ``table_main.tex`` / ``.csv``: the paper's layout (arXiv 2408.10536, Table 2): mono / cross / multi mAP and
  rank distance (RD) per run, the best value of each column in bold, ▲ / ▼ where a run is significantly
  better / worse than the chosen baseline (paired randomisation test over questions, Holm-corrected over
  every comparison in the table), and a footnote naming test, correction and CIs;
- ``table_main_ci.tex``: the same numbers with 95% bootstrap CIs;
- ``numbers.csv``: every number of the comparison (all kinds x metrics, CIs, deltas, raw and Holm p-values);
- ``figures/``: per-run language-pair heatmaps and the bias figures (rank distance with CIs, its per-query
  distribution) as PDF, SVG and PNG at print size (:data:`hybrid_core.analysis.figures.PRINT_WIDTH`);
- ``README.md``: what each file is, and the commands that reproduce the runs (from their ``run.json``).

Runs on different slices of one set are compared on the queries they share (as on the Compare page).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hybrid_core.analysis import bias, compare, figures, language_pairs, stats
from hybrid_core.data.specs import parse_sample_name
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.metrics import HIGHER_IS_BETTER
from hybrid_core.evaluation.tables import MARK_BETTER, MARK_WORSE, interval_table, latex_document, table_text
from hybrid_core.io_utils import zip_bytes
from hybrid_core.runs import RunStore

#: the paper's main-table columns: (kind, metric, header)
MAIN_COLUMNS = (
    ("mono", "map", "mono mAP"),
    ("cross", "map", "cross mAP"),
    ("multi", "map", "multi mAP"),
    ("multi", "rank_distance", "RD"),
)
FIGURE_FORMATS = ("pdf", "svg", "png")
#: training options written as CLI flags by :func:`reproduce_command` (others are named in a comment)
_FLAG_OF = {"model": "--model", "train_data": "--data", "train_split": "--split", "train_languages": "--languages"}


@dataclass
class MainTable:
    """The paper-layout table: numbers (runs x columns), display strings, bold mask, Holm p-values, footnote."""

    values: pd.DataFrame
    display: pd.DataFrame
    bold: pd.DataFrame
    p_holm: pd.DataFrame
    footnote: str
    notes: list[str] = field(default_factory=list)


def main_table(report: compare.CompareReport, alpha: float = 0.05, n_perm: int = stats.N_PERM) -> MainTable:
    """The paper's layout from a comparison; marks from Holm over all (run, column) tests in this table."""
    t = report.table.set_index(["run", "kind", "metric"])
    runs = report.runs
    headers = [h for _, _, h in MAIN_COLUMNS]
    values = pd.DataFrame(np.nan, index=pd.Index(runs, name="run"), columns=headers)
    raw_p = pd.DataFrame(np.nan, index=values.index, columns=headers)
    delta = pd.DataFrame(np.nan, index=values.index, columns=headers)
    for run in runs:
        for kind, metric, header in MAIN_COLUMNS:
            if (run, kind, metric) in t.index:
                row = t.loc[(run, kind, metric)]
                values.at[run, header] = row["value"]
                raw_p.at[run, header] = row["p_value"]
                delta.at[run, header] = row["delta"]
    flat = raw_p.to_numpy(dtype=float).ravel()
    tested = ~np.isnan(flat)
    holm = np.full(flat.shape, np.nan)
    if tested.any():
        holm[tested] = stats.holm(flat[tested])
    p_holm = pd.DataFrame(holm.reshape(raw_p.shape), index=values.index, columns=headers)
    bold = pd.DataFrame(False, index=values.index, columns=headers)
    for _, metric, header in MAIN_COLUMNS:
        col = values[header]
        if col.notna().any():
            best = col.max() if HIGHER_IS_BETTER.get(metric, True) else col.min()
            bold[header] = np.isclose(col.to_numpy(dtype=float), best, rtol=0, atol=1e-12)
    display = pd.DataFrame("–", index=values.index, columns=headers)
    for run in runs:
        for _, metric, header in MAIN_COLUMNS:
            v = values.at[run, header]
            if np.isnan(v):
                continue
            text = f"{v:.1f}" if metric == "rank_distance" else f"{v:.3f}"
            p = p_holm.at[run, header]
            if not np.isnan(p) and p < alpha:
                better = (delta.at[run, header] > 0) == HIGHER_IS_BETTER.get(metric, True)
                text += MARK_BETTER if better else MARK_WORSE
            display.at[run, header] = text
    n_tests = int(tested.sum())
    footnote = (
        "mAP: macro average over the settings of each kind (mean over queries per setting); RD: rank distance in the "
        "multilingual pool (lower = less language bias). Bold: best value per column. "
        + (
            f"{MARK_BETTER} / {MARK_WORSE}: significantly better / worse than {report.baseline} at alpha = {alpha} "
            f"({stats.TEST_NAME}, {n_perm} sign flips; Holm correction over the {n_tests} comparisons in this table)."
            if report.baseline and n_tests
            else "No baseline: no significance marks."
        )
    )
    notes = list(report.notes)
    if report.n_common is not None:
        footnote += (
            f" Runs from different slices of the set, compared on the {report.n_common[0]} questions they share."
        )
    return MainTable(values, display, bold, p_holm, footnote, notes)


def reproduce_command(info: dict, dataset: str) -> str:
    """Shell commands that recreate a run and its result on ``dataset`` from its ``run.json``."""
    name = info.get("name", "run")
    base, n, seed = parse_sample_name(dataset)
    sample = f" --max-questions {n} --seed {seed}" if n is not None else ""
    cfg = dict(info.get("config") or {})
    lines = []
    from dataclasses import fields

    from hybrid_core.training.trainer import TrainConfig  # training options = the CLI's flags

    options = [f.name for f in fields(TrainConfig)]
    if info.get("kind") == "train" and cfg:
        parts = ["python -m hybrid_core train", f"--run {name}"]
        for key in options:
            value = cfg.get(key)
            if value is None or (key == "alpha" and cfg.get("sampler") != "hybrid"):
                continue
            if isinstance(value, bool):
                parts.append(f"--{'' if value else 'no-'}{key.replace('_', '-')}")
            elif isinstance(value, list | tuple):
                parts.append(f"{_FLAG_OF.get(key, '--' + key.replace('_', '-'))} {' '.join(map(str, value))}")
            else:
                parts.append(f"{_FLAG_OF.get(key, '--' + key.replace('_', '-'))} {value}")
        lines.append(" \\\n    ".join(parts))
        other = sorted(set(cfg) - set(options))
        if other:
            lines.append(f"# also in run.json (no CLI flag): {', '.join(f'{k}={cfg[k]}' for k in other)}")
        lines.append(
            f"python -m hybrid_core evaluate --model cache/runs/{name}/model --run {name} --data {base}{sample}"
        )
    else:
        model = info.get("model") or "<model>"
        lines.append(f"python -m hybrid_core evaluate --model {model} --run {name} --data {base}{sample}")
    if info.get("git_sha"):
        lines.insert(0, f"# code: git checkout {info['git_sha']}")
    return "\n".join(lines)


def _figures(report: compare.CompareReport, store: RunStore) -> dict[str, object]:
    """{file stem: plotly figure} of the bundle (pair heatmaps per run, bias figures)."""
    names = report.runs
    out: dict[str, object] = {}
    summaries, _, _, _ = language_pairs.pair_summaries(names, report.dataset, store)
    for run, summary in summaries.items():
        try:
            matrix = language_pairs.pair_matrix(summary, "map")
        except HybridIRError:
            continue
        counts = language_pairs.pair_matrix(summary, "n_queries")
        out[f"pairs-map-{run}"] = figures.pair_heatmap(
            matrix, "map", title=f"{run}: mAP, query language × passage language", counts=counts
        )
    frames = {n: store.get(n).per_query(report.datasets.get(n, report.dataset)) for n in names}
    if report.n_common is not None:
        frames, _, _ = compare.common_queries(frames)
    values = bias.rank_distance_values(frames)
    if not values.empty:
        low, high = bias.rank_distance_intervals(frames)
        rd = bias.rank_distance_from_values(values)
        out["rank-distance"] = figures.rank_distance_bars(rd, low, high)
        out["rank-distance-distribution"] = figures.rank_distance_distribution(values, "box", log_y=True)
    return out


def build_bundle(
    names: Sequence[str],
    dataset: str,
    baseline: str | None = None,
    store: RunStore | None = None,
    *,
    n_boot: int = stats.N_BOOT,
    n_perm: int = stats.N_PERM,
    alpha: float = 0.05,
    formats: Sequence[str] = FIGURE_FORMATS,
    render=None,
) -> bytes:
    """The paper bundle of ``names`` compared on ``dataset`` against ``baseline``, as zip bytes.

    ``render(fig, fmt) -> bytes`` draws a figure (default: Kaleido at print size); ``formats=()`` leaves
    the figures out (tables, numbers and README only).
    """
    store = store or RunStore()
    report = compare.compare_runs(list(names), dataset, baseline, store, cache=False, n_boot=n_boot, n_perm=n_perm)
    if report.errors:
        raise HybridIRError(
            "cannot bundle unreadable runs: " + "; ".join(f"{k}: {v}" for k, v in report.errors.items())
        )
    if report.table.empty:
        raise HybridIRError(f"no results to bundle for {list(names)} on {dataset!r}")
    main = main_table(report, alpha=alpha, n_perm=n_perm)
    files: dict[str, bytes] = {}
    caption = f"Retrieval on {dataset}: mAP per setting kind and rank distance (RD)"
    files["table_main.tex"] = table_text(
        main.display, "tex", caption, label="tab:main", bold=main.bold, footnote=main.footnote
    ).encode()
    files["table_main.csv"] = main.values.to_csv().encode()
    ci = interval_table(report.table[report.table["metric"].isin(["map", "rank_distance"])], marks=False)
    ci_note = (
        f"Value [low, high]: macro average with its 95% percentile bootstrap CI over questions ({n_boot} resamples, "
        "translations of a question drawn together); significance marks are in the main table."
    )
    files["table_main_ci.tex"] = table_text(
        ci, "tex", caption + " with 95% bootstrap CIs", label="tab:main-ci", footnote=ci_note
    ).encode()
    numbers = report.table.assign(dataset=report.table["run"].map(report.datasets).fillna(dataset))
    files["numbers.csv"] = numbers.to_csv(index=False).encode()
    files["tables_preview.tex"] = latex_document(
        files["table_main.tex"].decode(), files["table_main_ci.tex"].decode()
    ).encode()
    written_figs: list[str] = []
    if formats:
        from hybrid_core.analysis.figure_export import figure_bytes, render_figures

        if render is None:

            def render(fig, fmt):
                return figure_bytes(fig, fmt, width=figures.PRINT_WIDTH, scale=figures.PRINT_SCALE)

        try:
            figs = _figures(report, store)
            files.update(render_figures(figs, formats, render))
            written_figs = list(figs)
        except HybridIRError as exc:  # no Chromium: the tables and numbers still make a bundle
            main.notes.append(f"figures left out: {exc}")
    files["README.md"] = _readme(report, main, names, store, written_figs, formats).encode()
    return zip_bytes(files)


def _readme(report, main: MainTable, names, store: RunStore, figs: list[str], formats) -> str:
    used = report.datasets or dict.fromkeys(names, report.dataset)
    lines = [
        f"# Paper bundle: {', '.join(names)} on {report.dataset}",
        "",
        f"Baseline: {report.baseline or 'none'}. Resampling: questions (all translations of a question together).",
        "",
        "## Files",
        "",
        "- `table_main.tex` — main table in the layout of arXiv 2408.10536 (Table 2): mono / cross / multi mAP and "
        "rank distance (RD) per run; best per column in bold; marks and test in the footnote. Needs "
        "`\\usepackage{booktabs,amssymb,graphicx}`.",
        "- `table_main.csv` — the numbers of the main table (full precision).",
        "- `table_main_ci.tex` — mAP and RD of every kind with 95% bootstrap CIs: `value [low, high]`.",
        "- `tables_preview.tex` — a minimal document holding both tables (`pdflatex tables_preview.tex`).",
        "- `numbers.csv` — every number of the comparison: one row per run x kind x metric with value, CI, number "
        "of questions and settings, difference to the baseline, raw and Holm-adjusted p-value, and the data set "
        "each run was read from.",
    ]
    for stem in figs:
        what = (
            "query language × passage language mAP heatmap"
            if stem.startswith("pairs-")
            else "mean rank distance per query language with 95% bootstrap CIs"
            if stem == "rank-distance"
            else "per-query rank distance distribution (log scale)"
        )
        lines.append(f"- `figures/{stem}.{{{','.join(formats)}}}` — {what}.")
    lines += ["", "## Footnote of the main table", "", main.footnote, ""]
    for note in main.notes:
        lines += [f"> {note}", ""]
    lines += ["## Reproduce the runs", "", "```sh"]
    for name in names:
        info = store.get(name).info
        lines += [
            f"# {name} (result on {used.get(name, report.dataset)})",
            reproduce_command(info, used.get(name, report.dataset)),
            "",
        ]
    lines += ["```", ""]
    return "\n".join(lines)


def error_zip(message: str) -> bytes:
    """A zip holding only ``ERROR.txt``: what a download button returns when the bundle cannot be built."""
    return zip_bytes({"ERROR.txt": f"The paper bundle could not be built: {message}\n"})
