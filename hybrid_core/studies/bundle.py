"""A study's "paper bundle": one zip with its tables, figures at print size, every number, and a README.

Contents: ``README.md`` (what each file is, the command that reproduces the study), ``report.md``,
``results.csv`` (every number: tidy, one row per data set x slice x arm x metric), ``tables/`` (CSV,
Markdown, LaTeX booktabs per data set x slice; the paper layout when the study has one), ``plan.json``
and ``figures/`` (PNG at 2x, SVG and PDF per figure; Plotly JSON when no Chromium is there to render).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import plotly.io as pio

from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import read_json

FIGURE_FORMATS = ("png", "svg", "pdf")
PRINT_WIDTH = 900  # px at scale 1: a full-width figure in a two-column paper at 2x


def _readme(folder: Path, plan: dict, rendered: bool) -> str:
    spec = plan.get("spec", {})
    src = spec.get("path", plan.get("spec_path", ""))
    shipped = Path(src).parent.name == "presets"
    name = spec.get("name", plan.get("study"))
    cmd = f"python -m hybrid_core study {name if shipped else src} --size {plan.get('size')}"
    sets = ", ".join(
        f"{d['name']} ({'seeded sample of ' + str(d['questions']) + ' questions' if d['sampled'] else 'whole set'})"
        for d in plan.get("datasets", [])
    )
    return "\n".join(
        [
            f"# Study {name} (size {plan.get('size')}): paper bundle",
            "",
            spec.get("description", ""),
            "",
            f"Reproduce: `{cmd}` (finished runs are reused; see plan.json for every run and option).",
            f"Evaluation sets: {sets}.",
            "",
            "- `report.md`: the main tables (all / seen / unseen / low-resource slices) with their footnotes",
            "- `results.csv`: every number (value, CIs, seed SD, paired difference, SE, p, corrected p, d_z, MDE)",
            "- `tables/<data set>--<slice>.{csv,md,tex}`: one table per data set and slice (LaTeX: booktabs)",
            "- `tables/paper-layout.*`: measured numbers beside those reported in arXiv 2408.10536 (when present)",
            "- `figures/*.{png,svg,pdf}`: curves against alpha / lambda with 95% CI bands, bars per language slice"
            if rendered
            else "- `figures/*.json`: Plotly figures (no Chromium was available to render PNG / SVG / PDF)",
            "- `robustness.csv`, `tables/robustness--*`, `figures/robustness--*` (studies with query noise): mAP on "
            "clean and perturbed queries per arm, the drop with its paired CI / corrected p / MDE, the drop relative "
            "to the baseline's, and curves of mAP against the noise level",
            "- `plan.json`: the runs, evaluation sets, languages seen in training and the study file's options",
            "",
            "Statistics: paired randomisation test over questions (translations together) on seed-averaged "
            "per-query scores, Holm or Benjamini-Hochberg correction per table (the footnote says which), 95% "
            "percentile bootstrap CIs, MDE at 80% power (two-sided .05 / m).",
        ]
    )


def render_figures(sources: list[Path], out: Path) -> list[Path]:
    """Every Plotly JSON figure as PNG (2x), SVG and PDF in ``out``, in one Chromium session (Kaleido)."""
    import os

    from hybrid_core.analysis.figure_export import chromium_path

    browser = chromium_path()
    if browser is None:
        raise HybridIRError("figure export needs Chromium: apt-get install -y chromium (or set BROWSER_PATH)")
    os.environ.setdefault("BROWSER_PATH", browser)
    figs, files, scales, heights = [], [], [], []
    for src in sources:
        fig = pio.from_json(src.read_text(encoding="utf-8"))
        for fmt in FIGURE_FORMATS:
            figs.append(fig)
            files.append(out / f"{src.stem}.{fmt}")
            scales.append(2 if fmt == "png" else 1)
            heights.append(fig.layout.height or 440)
    try:
        pio.write_images(figs, files, scale=scales, width=PRINT_WIDTH, height=heights)
    except Exception as exc:  # kaleido raises several types when the browser cannot start
        raise HybridIRError(f"figure export failed ({type(exc).__name__}: {exc})") from None
    return files


def paper_bundle(folder: str | Path, render: bool = True) -> bytes:
    """The zip of a finished study folder, in memory."""
    import tempfile

    folder = Path(folder)
    if not (folder / "results.csv").is_file():
        raise HybridIRError(f"{folder}: the study has no results yet (run it to the end first)")
    plan = read_json(folder / "plan.json")
    buf = io.BytesIO()
    rendered = render
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in ("report.md", "results.csv", "plan.json", "robustness.csv"):
            if f == "robustness.csv" and not (folder / f).is_file():
                continue  # only studies with [eval] noise have it
            z.write(folder / f, f)
        for f in sorted((folder / "tables").glob("*")):
            z.write(f, f"tables/{f.name}")
        sources = sorted((folder / "figures").glob("*.json"))
        if rendered and sources:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    for f in render_figures(sources, Path(tmp)):
                        z.write(f, f"figures/{f.name}")
                except HybridIRError:
                    rendered = False
        if not rendered:
            for f in sources:
                z.write(f, f"figures/{f.name}")
        z.writestr("README.md", _readme(folder, plan, rendered))
    return buf.getvalue()
