"""Page helpers for comparing across slices of a set and for exports (tables, figures, the paper bundle).

Not a page (leading underscore). Complements ``_ui`` without editing it: run choices that span the slices
of one set, run selections that survive a data-set change, and download buttons whose LaTeX is the
project's one table writer (:func:`hybrid_core.evaluation.tables.table_text`).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from hybrid_core.analysis import compare
from hybrid_core.errors import HybridIRError
from hybrid_core.evaluation.tables import table_text
from pages import _ui


def name_columns(frame: pd.DataFrame, *columns: str) -> dict:
    """``column_config`` giving the index (and named text columns) room for their longest value: no cut run names."""

    def width(values) -> int:
        longest = max((len(str(v)) for v in values), default=0)
        return max(90, min(420, 8 * longest + 30))

    config = {"_index": st.column_config.Column(width=width([frame.index.name or "", *frame.index]))}
    for c in columns:
        if c in frame.columns:
            config[c] = st.column_config.TextColumn(c, width=width([c, *frame[c]]))
    return config


def keep_selection(key: str, options: list[str]) -> None:
    """Before a multiselect / selectbox is drawn: drop from its state the values no longer offered, keep the rest."""
    value = st.session_state.get(key)
    if isinstance(value, list):
        st.session_state[key] = [v for v in value if v in options]
    elif value is not None and value not in options:
        del st.session_state[key]


def slices_notice(datasets: dict[str, str], n_common: tuple[int, int] | None) -> None:
    """A warning naming each run's slice and the shared question count (only when the slices differ)."""
    if n_common is not None:
        st.warning(compare.slices_note(datasets, *n_common), icon=":material/join_inner:")


def table_downloads(
    table: pd.DataFrame, stem: str, key: str, caption: str = "", row=None, tex: str | None = None, **latex
) -> None:
    """CSV / LaTeX download buttons (booktabs, escaped); the index is written only when it is named.

    ``row``: a horizontal container to put them in (e.g. next to figure buttons), else a new row. ``tex``: LaTeX
    to offer instead of writing ``table`` (when the printed layout differs from the tidy rows of the CSV).
    """
    row = row if row is not None else st.container(horizontal=True, gap="small")
    for fmt, mime in (("csv", "text/csv"), ("tex", "application/x-tex")):
        if fmt == "tex" and tex is not None:
            text = tex
        else:
            text = table_text(table, fmt, caption, **(latex if fmt == "tex" else {}))
        row.download_button(
            "CSV" if fmt == "csv" else "LaTeX",
            text,
            f"{_ui.slug(stem)}.{fmt}",
            mime,
            key=f"{key}_{fmt}",
            icon=":material/download:",
            on_click="ignore",
            width="content",
        )


def figure_downloads(fig, stem: str, key: str, formats: tuple[str, ...] = ("png", "svg", "pdf"), row=None):
    """Figure download buttons in a wrapping row: labels stay whole in a narrow (side-by-side) column.

    Rendered at print size (:data:`hybrid_core.analysis.figures.PRINT_WIDTH`) only when a button is clicked.
    """
    from hybrid_core.analysis.figure_export import FIGURE_FORMATS, figure_bytes
    from hybrid_core.analysis.figures import PRINT_SCALE, PRINT_WIDTH

    def render(fmt: str) -> bytes:
        return _ui._figure_bytes_safe(fig, fmt, lambda f, x: figure_bytes(f, x, width=PRINT_WIDTH, scale=PRINT_SCALE))

    row = row if row is not None else st.container(horizontal=True, gap="small")
    for fmt in formats:
        row.download_button(
            fmt.upper(),
            data=lambda f=fmt: render(f),
            file_name=f"{_ui.slug(stem)}.{fmt}",
            mime=FIGURE_FORMATS[fmt],
            key=f"{key}_{fmt}",
            icon=":material/download:",
            on_click="ignore",
            width="content",
        )
    return row


def zip_button(build, stem: str, key: str, label: str = "Paper bundle (.zip)", help: str | None = None) -> None:
    """A zip download whose bytes ``build()`` makes only when the button is clicked."""
    st.download_button(
        label,
        data=build,
        file_name=f"{_ui.slug(stem)}.zip",
        mime="application/zip",
        key=key,
        icon=":material/folder_zip:",
        on_click="ignore",
        type="primary",
        width="content",
        help=help,
    )


def bundle_button(names: list[str], dataset: str, baseline: str | None, n_boot: int, n_perm: int, key: str) -> None:
    """Download button for the paper bundle; the zip (tables, figures, README) is built only when clicked."""

    def build() -> bytes:
        # imported on click: the bundle's figure code (plotly) stays out of the page's first run
        from hybrid_core.analysis import paper_bundle

        try:
            return paper_bundle.build_bundle(names, dataset, baseline, _ui.store(), n_boot=n_boot, n_perm=n_perm)
        except HybridIRError as exc:  # the download still arrives, saying why it holds no tables
            _ui.log.error("paper bundle failed: %s", exc)
            return paper_bundle.error_zip(str(exc))

    zip_button(build, f"paper-bundle-{dataset}", key)


def reevaluate_on_common_slice(datasets: dict[str, str], key: str) -> None:
    """One button per run not on the common slice: evaluate it there as a background job (Jobs page)."""
    from hybrid_core import jobs
    from hybrid_core.data.specs import parse_sample_name

    target, todo = compare.common_slice(datasets)
    if not todo:
        return
    base, n, seed = parse_sample_name(target)
    with st.expander(f"Strict comparison: evaluate every run on {target}"):
        st.caption(
            f"Starts `hybrid-ir evaluate` for each run on {target} (same questions, same candidate pool) as a "
            f"background job; when the jobs are done, pick **{target}** as data set above."
        )
        row = st.container(horizontal=True, gap="small")
        for run in todo:
            if row.button(f"Evaluate {run} on {target}", key=f"{key}_{run}", icon=":material/play_arrow:"):
                info = _ui.store().get(run).info
                args = jobs.evaluate_args(model=info.get("model"), data=[base], run=run, max_questions=n)
                args += ["--seed", str(seed)] if seed else []
                job_id = jobs.start(jobs.cli_argv(*args), label=f"evaluate {run} on {target}")
                st.toast(f"Started job {job_id}: follow it on the Jobs page", icon=":material/play_arrow:")


def figure_and_table_downloads(fig, table: pd.DataFrame, stem: str, key: str, caption: str) -> None:
    """PNG / SVG / PDF of a figure and CSV / LaTeX of the table behind it, in one row."""
    row = figure_downloads(fig, stem, f"{key}_fig")
    table_downloads(table, f"{stem}-table", f"{key}_dl", caption=caption, row=row)
