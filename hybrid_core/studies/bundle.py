"""A study's "paper bundle": one zip with its tables, figures at print size, every number, and a README.

Contents: ``README.md`` (what each file is, the command that reproduces the study), ``report.md``,
``results.csv`` (every number: tidy, one row per data set x slice x arm x metric), ``tables/`` (CSV,
Markdown, LaTeX booktabs per data set x slice; the paper layout when the study has one), ``plan.json``
and ``figures/`` (PNG at 2x, SVG and PDF per figure; Plotly JSON when no Chromium is there to render).
"""

from __future__ import annotations

from pathlib import Path

import plotly.io as pio

from hybrid_core.errors import HybridIRError
from hybrid_core.io_utils import read_json, zip_bytes

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
            "Statistics: with >= 2 seeds per arm, a Welch-Satterthwaite t-test whose variance adds each arm's "
            "seed-to-seed variance to the question-bootstrap variance of the paired difference (a difference must "
            "hold for new seeds as well as new questions); with one seed, the paired randomisation test over "
            "questions (translations together) on the per-query scores. Holm or Benjamini-Hochberg correction per "
            "table (the footnote says which and which test), 95% CIs, MDE at 80% power (two-sided .05 / m).",
        ]
    )


def _print_size(fig, fmt: str) -> bytes:
    """A study figure at print size: :data:`PRINT_WIDTH` px wide, PNG at 2x."""
    from hybrid_core.analysis.figure_export import figure_bytes

    return figure_bytes(fig, fmt, width=PRINT_WIDTH, height=fig.layout.height or 440, scale=2)


def paper_bundle(folder: str | Path, render: bool = True) -> bytes:
    """The zip of a finished study folder, in memory."""
    from hybrid_core.analysis.figure_export import render_figures

    folder = Path(folder)
    if not (folder / "results.csv").is_file():
        raise HybridIRError(f"{folder}: the study has no results yet (run it to the end first)")
    plan = read_json(folder / "plan.json")
    files = {
        f: (folder / f).read_bytes()
        for f in ("report.md", "results.csv", "plan.json", "robustness.csv")
        if f != "robustness.csv" or (folder / f).is_file()  # only studies with [eval] noise have it
    }
    files.update({f"tables/{f.name}": f.read_bytes() for f in sorted((folder / "tables").glob("*"))})
    sources = sorted((folder / "figures").glob("*.json"))
    rendered = render
    if rendered and sources:
        figs = {src.stem: pio.from_json(src.read_text(encoding="utf-8")) for src in sources}
        try:
            files.update(render_figures(figs, FIGURE_FORMATS, _print_size))
        except HybridIRError:
            rendered = False
    if not rendered:
        files.update({f"figures/{f.name}": f.read_bytes() for f in sources})
    files["README.md"] = _readme(folder, plan, rendered)
    return zip_bytes(files)
