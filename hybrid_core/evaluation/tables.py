"""Result tables as text: CSV, and LaTeX that compiles (booktabs, every special character escaped).

One writer for every table the project exports (``hybrid-ir export``, the dashboard's download buttons,
the paper bundle): :func:`table_text`. :func:`interval_table` turns a tidy comparison table (run, kind,
metric, value, ci_low, ci_high, significant, better) into the run x metric layout of a paper, with
``value [low, high]`` cells and significance marks. LaTeX needs ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from hybrid_core.errors import HybridIRError

TABLE_FORMATS = {"csv": "text/csv", "tex": "application/x-tex"}
#: marks for a significant improvement / degradation against the baseline (after Holm correction)
MARK_BETTER, MARK_WORSE = "▲", "▼"
_LATEX_MARKS = {MARK_BETTER: r"$^{\blacktriangle}$", MARK_WORSE: r"$^{\blacktriangledown}$"}
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_TEXT = {"–": "--", "—": "---", "Δ": r"$\Delta$", "α": r"$\alpha$", "→": r"$\to$", "×": r"$\times$"}
_SPECIAL_RE = re.compile("|".join(re.escape(c) for c in (*_LATEX_SPECIAL, *_LATEX_TEXT, *_LATEX_MARKS)))


def latex_escape(text: object) -> str:
    """``text`` with LaTeX's special characters (``_ % & # $ { } ~ ^ \\``) escaped, marks and dashes as LaTeX."""
    table = {**_LATEX_SPECIAL, **_LATEX_TEXT, **_LATEX_MARKS}
    return _SPECIAL_RE.sub(lambda m: table[m.group(0)], str(text))


def format_p(p: float) -> str:
    """``p=0.034``; below .001 ``p<0.001`` (a permutation test cannot show more digits honestly)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p=–"
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def _cell(value: object, digits: int) -> str:
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return "–"
    if isinstance(value, float | np.floating):
        return f"{value:.{digits}f}"
    return str(value)


def interval_table(
    tidy: pd.DataFrame,
    kinds: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    digits: int = 3,
    marks: bool = True,
) -> pd.DataFrame:
    """Run x (kind, metric) table of ``value [low, high]`` strings, ▲ / ▼ where significant vs the baseline.

    ``tidy`` has one row per run x kind x metric (``CompareReport.table``). Columns are ``"<kind> <metric>"``
    (or just the metric when one kind is shown); rows keep the order of the runs in ``tidy``.
    """
    t = tidy
    if kinds is not None:
        t = t[t["kind"].isin(kinds)]
    if metrics is not None:
        t = t[t["metric"].isin(metrics)]
    if t.empty:
        return pd.DataFrame()
    one_kind = t["kind"].nunique() == 1

    def cell(r: pd.Series) -> str:
        if pd.isna(r["value"]):
            return "–"
        text = f"{r['value']:.{digits}f}"
        if "ci_low" in r and not pd.isna(r["ci_low"]):
            text += f" [{r['ci_low']:.{digits}f}, {r['ci_high']:.{digits}f}]"
        if marks and bool(r.get("significant", False) is True):
            text += " " + (MARK_BETTER if r.get("better") else MARK_WORSE)
        return text

    column = t["metric"] if one_kind else t["kind"] + " " + t["metric"]
    shown = t.assign(cell=t.apply(cell, axis=1), column=column)
    order = list(dict.fromkeys(shown["column"]))
    wide = shown.pivot(index="run", columns="column", values="cell")
    wide = wide.reindex(index=list(dict.fromkeys(t["run"])), columns=order)
    wide.columns.name = None
    return wide


_NUMBER_START = re.compile(r"^[-+–]?\d|^–$")


def _numeric_looking(column: pd.Series) -> bool:
    """Numbers, or strings that start with one (``0.792 [0.78, 0.80] ▲``): right-aligned."""
    if pd.api.types.is_numeric_dtype(column):
        return True
    cells = [str(v) for v in column if not pd.isna(v)]
    return bool(cells) and all(_NUMBER_START.match(c) for c in cells)


def to_latex(
    table: pd.DataFrame,
    caption: str = "",
    label: str = "",
    digits: int = 3,
    bold: pd.DataFrame | None = None,
    footnote: str = "",
) -> str:
    """A booktabs ``table`` environment; cells, headers, caption and footnote escaped.

    The index is written as the first column when it is named (e.g. ``run``). ``bold`` (same shape, bool)
    sets cells in bold, e.g. the best value of a column.
    """
    keep_index = table.index.name is not None
    cols = [str(c) for c in table.columns]
    header = ([latex_escape(table.index.name)] if keep_index else []) + [latex_escape(c) for c in cols]
    align = ("l" if keep_index else "") + "".join("r" if _numeric_looking(table[c]) else "l" for c in table.columns)
    lines = [r"\begin{table}[t]", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    if label:
        lines.append(rf"\label{{{re.sub(r'[^A-Za-z0-9:._-]', '-', label)}}}")
    wide = len(header) > 6  # scaled to the text width rather than running into the margin
    if wide:
        lines.append(r"\resizebox{\linewidth}{!}{%")
    lines += [rf"\begin{{tabular}}{{{align}}}", r"\toprule", " & ".join(header) + r" \\", r"\midrule"]
    for i, (idx, row) in enumerate(table.iterrows()):
        cells = [latex_escape(_cell(v, digits)) for v in row.to_numpy()]
        if bold is not None:
            flags = bold.iloc[i].to_numpy(dtype=bool)
            cells = [rf"\textbf{{{c}}}" if f else c for c, f in zip(cells, flags, strict=True)]
        lines.append(" & ".join(([latex_escape(idx)] if keep_index else []) + cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}" + ("}" if wide else "")]
    if footnote:
        lines += [r"\par\smallskip", rf"{{\footnotesize {latex_escape(footnote)}\par}}"]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def table_text(table: pd.DataFrame, fmt: str = "csv", caption: str = "", **latex) -> str:
    """A table as CSV (full precision) or LaTeX (3 decimals); the index is written only when it is named."""
    if fmt == "csv":
        return table.to_csv(index=table.index.name is not None)
    if fmt == "tex":
        return to_latex(table, caption, **latex)
    raise HybridIRError(f"unknown table format {fmt!r}; use one of {list(TABLE_FORMATS)}")


def latex_document(*bodies: str) -> str:
    """A minimal article holding the given tables (what the compile test and the paper bundle's preview use)."""
    preamble = [
        r"\documentclass{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage[utf8]{inputenc}",
        r"\usepackage{booktabs}",
        r"\usepackage{amssymb}",
        r"\usepackage{graphicx}",
        r"\begin{document}",
    ]
    return "\n".join([*preamble, *bodies, r"\end{document}"]) + "\n"
